"""The run's guarantees: it ends by its deadline and a failing part becomes a finding, never an exception.

The resolver is a closed loopback port: every name fails at once (ICMP port unreachable), so these tests need
no DNS server and send nothing beyond 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping

from vpc_verify.findings import Finding
from vpc_verify.report import EndpointReport
from vpc_verify.run import RunOptions, run
from vpc_verify.topology import Endpoint, IPNetwork, Topology, loads


def _closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def topology(vpc_id: str | None = "vpc-0123456789abcdef0") -> Topology:
    vpc = f"{{id: {vpc_id}, cidrs: [10.0.0.0/16]}}" if vpc_id else "{cidrs: [10.0.0.0/16]}"
    return loads(
        f"""
version: 1
region: us-east-1
vpc: {vpc}
resolver: {{nameservers: [127.0.0.1], port: {_closed_udp_port()}, timeout_ms: 300}}
endpoints:
  - {{name: sqs, type: interface, service: com.amazonaws.us-east-1.sqs}}
  - {{name: kms, type: interface, service: com.amazonaws.us-east-1.kms}}
""",
        source="t.yaml",
    )


class _View:
    def __init__(self, fail_in: str = "") -> None:
        self.fail_in = fail_in

    @property
    def cidrs(self) -> tuple[IPNetwork, ...]:
        return ()

    def expected_addresses(self, endpoint: Endpoint) -> Mapping[str, str | None] | None:
        if self.fail_in == "expected" and endpoint.name == "sqs":
            raise KeyError("boom")
        return None

    def refine(self, endpoint: Endpoint, report: EndpointReport) -> EndpointReport:
        if self.fail_in == "refine" and endpoint.name == "sqs":
            raise ValueError("bad field")
        return report

    def run_findings(self) -> list[Finding]:
        if self.fail_in == "run":
            raise RuntimeError("oops")
        return []


class _ControlPlane:
    def __init__(self, view: _View, delay_s: float = 0.0, error: Exception | None = None) -> None:
        self.view, self.delay_s, self.error = view, delay_s, error
        self.release = threading.Event()

    def read(self, topology: Topology) -> _View:
        self.release.wait(self.delay_s)
        if self.error is not None:
            raise self.error
        return self.view


def codes(report: EndpointReport) -> set[str]:
    return {f.code for f in report.findings}


def test_dns_failure_is_a_finding_per_endpoint() -> None:
    report = run(topology(vpc_id=None))
    assert not report.healthy and report.exit_code == 1
    assert {e.name: codes(e) for e in report.endpoints} == {"sqs": {"DNS_TIMEOUT"}, "kms": {"DNS_TIMEOUT"}}


def test_a_hung_control_plane_cannot_hold_the_run_past_its_deadline() -> None:
    cp = _ControlPlane(_View(), delay_s=30)
    start = time.monotonic()
    try:
        report = run(topology(), RunOptions(deadline_s=0.8, control_plane=cp))
    finally:
        cp.release.set()
    assert time.monotonic() - start < 2.0
    assert "DEADLINE_EXCEEDED" in {f.code for f in report.run_findings}
    assert all("DNS_TIMEOUT" in codes(e) for e in report.endpoints)


def test_control_plane_error_is_a_run_finding() -> None:
    report = run(topology(), RunOptions(control_plane=_ControlPlane(_View(), error=PermissionError("denied"))))
    assert [f.code for f in report.run_findings] == ["AWS_API_ERROR"]
    assert "denied" in report.run_findings[0].message


def test_bugs_in_the_comparison_are_check_errors_and_the_rest_stands() -> None:
    for where in ("expected", "refine"):
        report = run(topology(), RunOptions(control_plane=_ControlPlane(_View(where))))
        by_name = {e.name: codes(e) for e in report.endpoints}
        assert by_name == {"sqs": {"DNS_TIMEOUT", "CHECK_ERROR"}, "kms": {"DNS_TIMEOUT"}}, where
    report = run(topology(), RunOptions(control_plane=_ControlPlane(_View("run"))))
    assert [f.code for f in report.run_findings] == ["CHECK_ERROR"]
