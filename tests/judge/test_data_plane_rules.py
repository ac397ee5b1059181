"""The data-plane rules on synthetic observations: DNS, answers, probes, latency, how a check ended."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from tests.judge.builders import (
    EP,
    GW,
    NOW,
    dns,
    facts,
    judged,
    observation,
    probe,
    report,
    tls_ok,
)
from vpc_verify.checks.dns import DnsStatus
from vpc_verify.checks.http import HttpResult, HttpStatus
from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.checks.tls import TlsResult, TlsStatus
from vpc_verify.findings import CATALOGUE, Code, Severity
from vpc_verify.observe.pipeline import Ending

BOTH = ("10.1.1.10", "10.1.2.10")


def test_a_healthy_endpoint_has_no_finding() -> None:
    assert judged(facts(observation(EP, [dns(*BOTH)], [probe(a) for a in BOTH]))) == []


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (DnsStatus.NXDOMAIN, Code.DNS_NXDOMAIN),
        (DnsStatus.NODATA, Code.DNS_NO_ANSWER),
        (DnsStatus.SERVFAIL, Code.DNS_SERVFAIL),
        (DnsStatus.REFUSED, Code.DNS_SERVFAIL),
        (DnsStatus.TIMEOUT, Code.DNS_TIMEOUT),
        (DnsStatus.ERROR, Code.DNS_SERVFAIL),
    ],
)
def test_dns_status_codes(status: DnsStatus, code: Code) -> None:
    out = report(facts(observation(EP, [dns(status=status)])))
    assert [f.code for f in out.findings] == [code]
    assert out.findings[0].evidence["name"] == EP.dns_names[0]
    assert out.findings[0].hint == CATALOGUE[code].hint
    if status is DnsStatus.TIMEOUT:
        assert "within 500 ms" in out.findings[0].message


def test_answer_ladder_one_root_cause_each() -> None:
    assert judged(facts(observation(EP, [dns("52.94.0.10")]))) == ["DNS_PUBLIC_ADDRESS"]
    assert judged(facts(observation(EP, [dns("10.9.0.5")]))) == ["DNS_OUTSIDE_VPC"]
    unexpected = observation(EP, [dns("10.1.1.10", "10.1.3.3")], [probe("10.1.1.10"), probe("10.1.3.3")])
    assert judged(facts(unexpected)) == ["DNS_MISSING_ADDRESS", "DNS_UNEXPECTED_ADDRESS"]


def test_an_address_inside_the_vpc_is_ours_whatever_its_range() -> None:
    """A VPC's IPv6 /56 is global unicast and a VPC may use public IPv4 ranges: membership decides."""
    v6 = replace(EP, addresses=(), ip_address_type="dualstack")
    o = observation(v6, [dns("2600:1f18:1234:5601::10")], [probe("2600:1f18:1234:5601::10")])
    assert judged(facts(o, cidrs=("10.1.0.0/16", "2600:1f18:1234:5600::/56"))) == []
    assert judged(facts(o, cidrs=("10.1.0.0/16",))) == ["DNS_PUBLIC_ADDRESS"]


def test_gateway_answers_may_be_public() -> None:
    o = observation(GW, [dns("52.216.0.1", name=GW.dns_names[0])], [probe("52.216.0.1")])
    assert judged(facts(o)) == []


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (TcpStatus.TIMEOUT, "TCP_TIMEOUT"),
        (TcpStatus.REFUSED, "TCP_REFUSED"),
        (TcpStatus.UNREACHABLE, "TCP_UNREACHABLE"),
    ],
)
def test_tcp_failures(status: TcpStatus, code: str) -> None:
    o = observation(EP, [dns(*BOTH)], [probe("10.1.1.10", status), probe("10.1.2.10")])
    out = report(facts(o))
    assert [f.code.value for f in out.findings] == [code]
    assert out.findings[0].address == "10.1.1.10"
    assert out.reachable == 0.5 and not out.healthy


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (TlsStatus.UNTRUSTED, "TLS_CERT_UNTRUSTED"),
        (TlsStatus.NAME_MISMATCH, "TLS_CERT_NAME_MISMATCH"),
        (TlsStatus.TIMEOUT, "TLS_HANDSHAKE_FAILED"),
        (TlsStatus.FAILED, "TLS_HANDSHAKE_FAILED"),
    ],
)
def test_tls_failures_stop_the_ladder(status: TlsStatus, code: str) -> None:
    failed = probe("10.1.1.10", tls=TlsResult(status=status, error="boom"))
    assert judged(facts(observation(EP, [dns(*BOTH)], [failed, probe("10.1.2.10")]))) == [code]


def test_expiring_certificate_is_a_warning() -> None:
    soon = (NOW + dt.timedelta(days=3)).isoformat()
    out = report(facts(observation(EP, [dns(*BOTH)], [probe("10.1.1.10", tls=tls_ok(soon)), probe("10.1.2.10")])))
    assert [f.code for f in out.findings] == [Code.TLS_CERT_EXPIRING]
    assert out.findings[0].severity is Severity.WARNING and out.healthy


def test_http_status_and_failure() -> None:
    def with_http(http: HttpResult) -> list[str]:
        return judged(facts(observation(EP, [dns(*BOTH)], [probe("10.1.1.10", http=http), probe("10.1.2.10")])))

    assert with_http(HttpResult(status=HttpStatus.OK, status_code=403, ms=2.0)) == []
    assert with_http(HttpResult(status=HttpStatus.OK, status_code=503, ms=2.0)) == ["HTTP_UNEXPECTED_STATUS"]
    slow = HttpResult(status=HttpStatus.TIMEOUT, status_code=None, ms=2000.0, error="read timeout")
    assert with_http(slow) == ["HTTP_FAILED"]


def test_latency_budget() -> None:
    slow = probe("10.1.1.10", tls=tls_ok(hs=60.0))
    out = report(facts(observation(EP, [dns(*BOTH)], [slow, probe("10.1.2.10")])))
    assert [f.code for f in out.findings] == [Code.LATENCY_OVER_BUDGET]
    assert out.findings[0].evidence["budget_ms"] == 50


def test_unprobed_public_address_has_no_probe_findings() -> None:
    o = observation(EP, [dns("52.94.0.10")], skipped={"52.94.0.10": "public address: not the endpoint's ENI"})
    out = report(facts(o))
    assert [f.code for f in out.findings] == [Code.DNS_PUBLIC_ADDRESS]
    assert out.addresses[0].skip_reason.startswith("public address") and not out.addresses[0].probed


def test_deadline_and_bugs_end_a_check_with_what_was_seen() -> None:
    cut = observation(EP, [dns(*BOTH)], [probe("10.1.1.10")], ending=Ending.DEADLINE, phase="probes")
    out = report(facts(cut))
    assert [f.code for f in out.findings] == [Code.DEADLINE_EXCEEDED]
    assert out.findings[0].evidence["unfinished_addresses"] == ["10.1.2.10"]
    assert out.addresses[1].skip_reason == "the run's deadline came before this address was probed"
    broken = observation(EP, [dns(*BOTH)], ending=Ending.ERROR, phase="probes", error=KeyError("x"))
    assert judged(facts(broken)) == ["CHECK_ERROR"]


def test_endpoint_health_and_reachability_in_json() -> None:
    out = report(facts(observation(EP, [dns(*BOTH)], [probe("10.1.1.10"), probe("10.1.2.10", TcpStatus.TIMEOUT)])))
    assert not out.healthy and out.reachable == 0.5 and out.dns_private
    as_json = out.to_dict()
    assert as_json["addresses"][0]["tcp_ms"] == 0.2 and as_json["addresses"][0]["tls_ms"] == 1.0
    assert as_json["addresses"][1]["tcp"]["status"] == "timeout" and "tls" not in as_json["addresses"][1]
