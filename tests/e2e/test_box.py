"""End to end: the real CLI and `run()` against VPCs in a box, each endpoint with exactly its finding codes."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.schemas import load_report
from tests.testbed.box import Box
from tests.testbed.cli import run_cli
from tests.testbed.spec import FAULTS
from vpc_verify import topology as topology_mod
from vpc_verify.run import RunOptions, run

pytestmark = pytest.mark.netns
Factory = Callable[[dict[str, Any]], Box]


def every_fault() -> dict[str, Any]:
    """One endpoint per fault, alternating PrivateLink interface endpoints and plain private services."""
    endpoints = []
    for i, fault in enumerate(f for f in FAULTS if f != "late"):  # late is about time: tests/publish/test_cli_wait
        if i % 3 == 0:
            endpoints.append(
                {
                    "name": f"svc-{fault}",
                    "type": "service",
                    "dns_name": f"app{i}.internal.example.com",
                    "addresses": [f"10.0.{i}.10", f"10.0.{i}.20"],
                    "fault": fault,
                }
            )
        else:
            endpoints.append(
                {
                    "name": f"vpce-{fault}",
                    "service": f"com.amazonaws.us-east-1.svc{i}",
                    "addresses": [f"10.0.{i}.10", f"10.0.{i}.20"],
                    "fault": fault,
                }
            )
    # Timings far apart, so a loaded CI machine cannot blur them: a healthy handshake is well under the budget,
    # slow_tls well over it and well under the timeout.
    return {
        "vpc_cidrs": ["10.0.0.0/16"],
        "latency_budget_ms": 1000,
        "slow_ms": 1500,
        "timeout_ms": 3000,
        "endpoints": endpoints,
    }


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, timeout=timeout)


def codes_of(report: dict[str, Any]) -> dict[str, set[str]]:
    return {e["name"]: {f["code"] for f in e["findings"]} for e in report["endpoints"]}


def test_every_fault_gives_exactly_its_codes_through_the_cli(testbed_factory: Factory) -> None:
    box = testbed_factory(every_fault())
    start = time.monotonic()
    done = cli("check", "-t", str(box.write_topology()), "--format", "json", "--deadline", "20")
    elapsed = time.monotonic() - start
    assert done.returncode == 1, done.stderr
    report = load_report(done.stdout)
    assert codes_of(report) == box.expected_codes()
    assert report["healthy"] is False
    assert elapsed < 20
    warnings = {"DNS_MISSING_ADDRESS", "TLS_CERT_EXPIRING", "LATENCY_OVER_BUDGET"}
    healthy = {e["name"] for e in report["endpoints"] if e["healthy"]}
    assert healthy == {name for name, codes in box.expected_codes().items() if codes <= warnings}
    # Per-address evidence of a healthy PrivateLink endpoint: private, in the VPC, timed.
    sqs_like = next(e for e in report["endpoints"] if e["name"] == "vpce-truncate")
    i = [f for f in FAULTS if f != "late"].index("truncate")
    assert {a["address"] for a in sqs_like["addresses"]} == {f"10.0.{i}.10", f"10.0.{i}.20"}
    assert all(
        a["private"] and a["in_vpc"] and a["tcp_ms"] is not None and a["tls_ms"] is not None
        for a in sqs_like["addresses"]
    )
    assert sqs_like["dns"][0]["cname_chain"][0].endswith(".vpce.amazonaws.com")


def test_run_in_process_and_the_table(testbed_factory: Factory) -> None:
    spec = every_fault()
    spec["endpoints"] = [e for e in spec["endpoints"] if e["fault"] in ("none", "drop", "wrong_name", "nxdomain")]
    box = testbed_factory(spec)
    topo = topology_mod.load(str(box.write_topology()))
    report = run(topo, RunOptions(deadline_s=10))
    assert {e.name: {f.code for f in e.findings} for e in report.endpoints} == box.expected_codes()
    for finding in report.findings:
        assert finding.message and finding.hint and finding.evidence, finding
    table = cli("check", "-t", str(box.write_topology()))
    assert table.returncode == 1
    for code in ("TCP_TIMEOUT", "TLS_CERT_NAME_MISMATCH", "DNS_NXDOMAIN"):
        assert code in table.stdout
    assert "10.0.0.10" in table.stdout


def test_malformed_answers_through_authdns_as_the_resolver(testbed_factory: Factory) -> None:
    box = testbed_factory(
        {
            "resolver": {"server": "authdns"},
            "endpoints": [
                {
                    "name": "bad",
                    "service": "com.amazonaws.us-east-1.sqs",
                    "addresses": ["10.0.1.10"],
                    "fault": "malformed",
                },
                {
                    "name": "big",
                    "service": "com.amazonaws.us-east-1.kms",
                    "addresses": ["10.0.1.11"],
                    "fault": "truncate",
                },
                {
                    "name": "loop",
                    "service": "com.amazonaws.us-east-1.ssm",
                    "addresses": ["10.0.1.12"],
                    "fault": "cname_loop",
                },
            ],
        }
    )
    report = load_report(cli("check", "-t", str(box.write_topology()), "--format", "json").stdout)
    assert codes_of(report) == {"bad": {"DNS_SERVFAIL"}, "big": set(), "loop": {"DNS_SERVFAIL"}}


@pytest.mark.parametrize("down", ["drop", "stopped"])
def test_resolver_down(testbed_factory: Factory, down: str) -> None:
    box = testbed_factory(
        {
            "resolver": {"down": down},
            "resolver_timeout_ms": 300,
            "endpoints": [
                {"name": "sqs", "service": "com.amazonaws.us-east-1.sqs", "addresses": ["10.0.1.10"]},
                {"name": "kms", "service": "com.amazonaws.us-east-1.kms", "addresses": ["10.0.1.11"]},
            ],
        }
    )
    start = time.monotonic()
    report = load_report(cli("check", "-t", str(box.write_topology()), "--format", "json").stdout)
    assert codes_of(report) == {"sqs": {"DNS_TIMEOUT"}, "kms": {"DNS_TIMEOUT"}}
    assert time.monotonic() - start < 10


def test_the_deadline_holds_when_half_of_a_thousand_endpoints_time_out(testbed_factory: Factory) -> None:
    endpoints = [
        {
            "name": f"ep{i}",
            "type": "service",
            "dns_name": f"ep{i}.internal.example.com",
            "addresses": [f"10.1.{i // 200}.{i % 200 + 1}"],
            "fault": "drop" if i % 2 else "none",
        }
        for i in range(1000)
    ]
    # The budget is generous: 200 handshakes at once on a 2-core box queue for the server's CPU.
    box = testbed_factory(
        {"vpc_cidrs": ["10.0.0.0/8"], "timeout_ms": 5000, "latency_budget_ms": 5000, "endpoints": endpoints}
    )
    start = time.monotonic()
    # The box's dnsmasq takes a thousand questions at once; the default rate (300/s) is for the VPC resolver.
    topology = str(box.write_topology())
    done = cli("check", "-t", topology, "--format", "json", "--deadline", "3", "--dns-queries-per-second", "20000")
    elapsed = time.monotonic() - start
    report = load_report(done.stdout)
    # The run's own clock: the sweep stops at the deadline; judging a thousand endpoints follows it (slower under
    # the tests' coverage tracing). The process's start and exit, on a loaded 2-core machine, get more room.
    assert report["duration_ms"] < 4000, report["duration_ms"]
    assert elapsed < 8, elapsed
    print(f"duration_ms={report['duration_ms']} elapsed={elapsed:.2f}")
    by_name = codes_of(report)
    assert all(by_name[f"ep{i}"] == set() for i in range(0, 1000, 2))  # the healthy half is unaffected
    dropped = range(1, 1000, 2)
    assert {i: by_name[f"ep{i}"] for i in dropped} == {i: {"DEADLINE_EXCEEDED"} for i in dropped}


def test_dnsmasq_serves_the_privatelink_chain(testbed_factory: Factory) -> None:
    """The real DNS server binary, installed by scripts/setup, answers the chain at the VPC resolver."""
    box = testbed_factory(
        {
            "endpoints": [
                {"name": "sqs", "service": "com.amazonaws.us-east-1.sqs", "addresses": ["10.0.1.23", "10.0.2.45"]}
            ]
        }
    )
    assert any(p.name == "dnsmasq" for p in box.procs)
    report = load_report(cli("check", "-t", str(box.write_topology()), "--format", "json").stdout)
    (sqs,) = report["endpoints"]
    assert sqs["healthy"], sqs["findings"]
    (answer,) = sqs["dns"]
    assert answer["name"] == "sqs.us-east-1.amazonaws.com"
    assert sorted(answer["answers"]) == ["10.0.1.23", "10.0.2.45"]
    assert answer["cname_chain"][0].startswith("vpce-0") and answer["rcode"] == "NOERROR"
    assert "query[A] sqs.us-east-1.amazonaws.com" in (box.workdir / "dnsmasq.log").read_text()
