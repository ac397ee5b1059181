"""The fault matrix against servers that are not ours: unbound as the VPC resolver, nginx as the endpoints.

The same exact-code oracle as tests/e2e/test_box.py, so the codes do not depend on dnsmasq's or the Python
targets' quirks; and the messages carry the evidence (the chain nginx sent, its first bytes, its TLS version,
its stalled body). unbound and nginx-light come from Debian through scripts/setup.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from tests.schemas import load_report
from tests.testbed.box import Box
from tests.testbed.spec import NGINX_FAULTS

pytestmark = pytest.mark.netns
Factory = Callable[[dict[str, Any]], Box]

DNS_MATRIX = (
    "none",
    "public_address",
    "outside_vpc",
    "unexpected_address",
    "missing_address",
    "nxdomain",
    "nodata",
    "servfail",
    "refused",
    "dns_timeout",
    "dns_slow",
    "truncate",
    "malformed",
    "cname_loop",
    "cname_nodata",
)
NGINX_MATRIX = ("none", "wrong_name", "untrusted", "expired", "expiring", "http_status", "closed", *NGINX_FAULTS)


def matrix(resolver: str) -> dict[str, Any]:
    endpoints: list[dict[str, Any]] = []
    for i, fault in enumerate(DNS_MATRIX):
        endpoints.append(
            {
                "name": f"dns-{fault}",
                "service": f"com.amazonaws.us-east-1.dns{i}",
                "addresses": [f"10.0.{i}.10", f"10.0.{i}.20"],
                "fault": fault,
            }
        )
    for i, fault in enumerate(NGINX_MATRIX, start=100):
        endpoint: dict[str, Any] = {"name": f"nginx-{fault}", "server": "nginx", "fault": fault}
        if i % 2:
            endpoint.update(type="service", dns_name=f"web{i}.internal.example.com", addresses=[f"10.0.{i}.10"])
        else:
            endpoint.update(service=f"com.amazonaws.us-east-1.web{i}", addresses=[f"10.0.{i}.10", f"10.0.{i}.20"])
        if fault in ("none", "http_status"):
            endpoint["http"] = {"path": "/", "status": [200]}
        endpoints.append(endpoint)
    return {
        "resolver": {"server": resolver},
        "vpc_cidrs": ["10.0.0.0/16"],
        "latency_budget_ms": 1000,
        "timeout_ms": 3000,
        "endpoints": endpoints,
    }


def check(box: Box) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "vpc_verify",
            "check",
            "-t",
            str(box.write_topology()),
            "--format",
            "json",
            "--deadline",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, load_report(done.stdout), done.stderr


def codes_of(report: dict[str, Any]) -> dict[str, set[str]]:
    return {e["name"]: {f["code"] for f in e["findings"]} for e in report["endpoints"]}


def messages_of(report: dict[str, Any], name: str) -> str:
    (endpoint,) = (e for e in report["endpoints"] if e["name"] == name)
    return "\n".join(f["message"] for f in endpoint["findings"])


@pytest.mark.parametrize("resolver", ["unbound", "dnsmasq"])
def test_unbound_and_nginx_give_exactly_the_codes_of_each_fault(testbed_factory: Factory, resolver: str) -> None:
    box = testbed_factory(matrix(resolver))
    assert any(p.name == "nginx" for p in box.procs)
    assert any(p.name == resolver for p in box.procs)
    code, report, stderr = check(box)
    assert code == 1, stderr[-2000:]
    assert codes_of(report) == box.expected_codes()
    assert "missing intermediate" in messages_of(report, "nginx-no_intermediate")
    assert "chain of 1" in messages_of(report, "nginx-no_intermediate")
    assert "'HTTP/1.1 400 Bad Request'" in messages_of(report, "nginx-not_tls")
    assert "offers only" in messages_of(report, "nginx-old_tls")
    assert "status 200 arrived, then the body stalled" in messages_of(report, "nginx-slow_body")
    assert "unknown CA" in messages_of(report, "nginx-untrusted") or "chain of 1" in messages_of(
        report, "nginx-untrusted"
    )
