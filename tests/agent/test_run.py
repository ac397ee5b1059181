"""The run's guarantees: it ends by its deadline and a failing part becomes a finding, never an exception.

The resolver is a closed loopback port: every name fails at once (ICMP port unreachable), so these tests need
no DNS server and send nothing beyond 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace

from tests.judge.builders import state, vpce
from vpc_verify.aws.control_plane import AwsFacts
from vpc_verify.aws.whereami import Place
from vpc_verify.findings import Code
from vpc_verify.report import EndpointReport
from vpc_verify.run import RunOptions, run
from vpc_verify.topology import Topology, loads


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


def _facts(broken: str = "") -> AwsFacts:
    """The control plane's answer; `broken` names an endpoint whose facts are malformed (a bug to survive)."""
    sqs = vpce(service="com.amazonaws.us-east-1.sqs")
    vpc = state(endpoints=[replace(sqs, dns_entries=None) if broken == "sqs" else sqs])  # type: ignore[arg-type]
    return AwsFacts(state=vpc, place=Place())


class _ControlPlane:
    def __init__(self, facts: AwsFacts | None = None, delay_s: float = 0.0, error: Exception | None = None) -> None:
        self.facts, self.delay_s, self.error = facts or _facts(), delay_s, error
        self.release = threading.Event()

    def read(self, topology: Topology) -> AwsFacts:
        self.release.wait(self.delay_s)
        if self.error is not None:
            raise self.error
        return self.facts


def codes(report: EndpointReport) -> set[str]:
    return {f.code.value for f in report.findings}


def test_dns_failure_is_a_finding_per_endpoint() -> None:
    report = run(topology(vpc_id=None))
    assert not report.healthy and report.exit_code == 1
    assert {e.name: codes(e) for e in report.endpoints} == {"sqs": {"DNS_TIMEOUT"}, "kms": {"DNS_TIMEOUT"}}


def test_a_hung_control_plane_cannot_hold_the_run_past_its_deadline() -> None:
    cp = _ControlPlane(delay_s=30)
    start = time.monotonic()
    try:
        report = run(topology(), RunOptions(deadline_s=0.8, control_plane=cp))
    finally:
        cp.release.set()
    assert time.monotonic() - start < 2.0
    assert [f.code for f in report.run_findings] == [Code.AWS_API_ERROR]
    assert "deadline" in report.run_findings[0].message
    assert all("DNS_TIMEOUT" in codes(e) for e in report.endpoints)


def test_control_plane_error_is_a_run_finding() -> None:
    report = run(topology(), RunOptions(control_plane=_ControlPlane(error=PermissionError("denied"))))
    assert [f.code for f in report.run_findings] == ["AWS_API_ERROR"]
    assert "denied" in report.run_findings[0].message


def test_bugs_in_the_comparison_are_check_errors_and_the_rest_stands() -> None:
    report = run(topology(), RunOptions(control_plane=_ControlPlane(_facts(broken="sqs"))))
    by_name = {e.name: codes(e) for e in report.endpoints}
    assert by_name == {"sqs": {"DNS_TIMEOUT", "CHECK_ERROR"}, "kms": {"DNS_TIMEOUT", "ENDPOINT_MISSING"}}
    error = next(f for f in report.endpoint("sqs").findings if f.code is Code.CHECK_ERROR)
    assert "AWS facts" in error.message and error.evidence["error"] == "TypeError"
