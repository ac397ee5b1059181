"""Judgment of observations into the Findings of docs/findings.md (pure, no network)."""

from __future__ import annotations

import datetime as dt

import pytest

from vpc_verify import judge
from vpc_verify.checks.dns import DnsResult, DnsStatus
from vpc_verify.checks.http import HttpResult, HttpStatus
from vpc_verify.checks.tcp import TcpResult, TcpStatus
from vpc_verify.checks.tls import TlsResult, TlsStatus
from vpc_verify.findings import CATALOGUE, Code, Finding, Severity
from vpc_verify.report import AddressReport, EndpointReport
from vpc_verify.topology import Endpoint, HttpSettings, TlsSettings

NOW = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
EP = Endpoint(
    name="sqs",
    type="interface",
    service="com.amazonaws.us-east-1.sqs",
    dns_names=("sqs.us-east-1.amazonaws.com",),
    addresses=("10.0.1.23", "10.0.2.45"),
    latency_budget_ms=50,
    http=HttpSettings(path="/", status=(200, 403)),
)


def dns(status: DnsStatus, answers: tuple[str, ...] = (), rcode: str = "NOERROR") -> DnsResult:
    return DnsResult(
        name="sqs.us-east-1.amazonaws.com",
        status=status,
        rcode=rcode,
        answers=answers,
        cname_chain=("vpce-1.sqs.us-east-1.vpce.amazonaws.com",),
        ms=1.0,
    )


def ok_tls(address: str, not_after: str = "2027-06-01T00:00:00Z", hs: float = 1.0) -> TlsResult:
    return TlsResult(
        tcp=TcpResult(address, 443, TcpStatus.OK, 0.2),
        status=TlsStatus.OK,
        handshake_ms=hs,
        cert_names=("sqs.us-east-1.amazonaws.com",),
        cert_not_after=not_after,
    )


def addr(
    address: str, private: bool = True, in_vpc: bool | None = True, expected: bool | None = True, **probes: object
) -> AddressReport:
    return AddressReport(
        address=address,
        names=("sqs.us-east-1.amazonaws.com",),
        private=private,
        in_vpc=in_vpc,
        expected=expected,
        **probes,
    )  # type: ignore[arg-type]


def codes(findings: list[Finding]) -> list[str]:
    return sorted(f.code for f in findings)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (DnsStatus.NXDOMAIN, "DNS_NXDOMAIN"),
        (DnsStatus.NODATA, "DNS_NO_ANSWER"),
        (DnsStatus.SERVFAIL, "DNS_SERVFAIL"),
        (DnsStatus.REFUSED, "DNS_SERVFAIL"),
        (DnsStatus.TIMEOUT, "DNS_TIMEOUT"),
        (DnsStatus.ERROR, "DNS_SERVFAIL"),
    ],
)
def test_dns_status_codes(status: DnsStatus, code: str) -> None:
    findings = judge.dns_findings(EP, [dns(status)], timeout_ms=500)
    assert codes(findings) == [code]
    assert findings[0].evidence["name"] == "sqs.us-east-1.amazonaws.com"
    assert findings[0].hint == CATALOGUE[code].hint


def test_dns_ok_gives_nothing() -> None:
    assert judge.dns_findings(EP, [dns(DnsStatus.OK, ("10.0.1.23",))], 500) == []


def test_answer_ladder_one_root_cause_each() -> None:
    d = [dns(DnsStatus.OK, ("52.94.0.10",))]
    public = [addr("52.94.0.10", private=False, in_vpc=False, expected=False)]
    assert codes(judge.answer_findings(EP, public, EP.addresses, d)) == ["DNS_PUBLIC_ADDRESS"]
    outside = [addr("10.9.0.5", in_vpc=False, expected=False)]
    assert codes(judge.answer_findings(EP, outside, EP.addresses, d)) == ["DNS_OUTSIDE_VPC"]
    unexpected = [addr("10.0.1.23"), addr("10.0.3.3", expected=False)]
    assert codes(judge.answer_findings(EP, unexpected, EP.addresses, d)) == [
        "DNS_MISSING_ADDRESS",
        "DNS_UNEXPECTED_ADDRESS",
    ]
    both = [addr("10.0.1.23"), addr("10.0.2.45")]
    assert judge.answer_findings(EP, both, EP.addresses, d) == []


def test_gateway_answers_may_be_public() -> None:
    gw = Endpoint(
        name="s3",
        type="gateway",
        service="com.amazonaws.us-east-1.s3",
        dns_names=("s3.us-east-1.amazonaws.com",),
        tls=None,
    )
    public = [addr("52.216.0.1", private=False, in_vpc=False, expected=None)]
    assert judge.answer_findings(gw, public, (), [dns(DnsStatus.OK, ("52.216.0.1",))]) == []


@pytest.mark.parametrize(
    ("tcp_status", "code"),
    [
        (TcpStatus.TIMEOUT, "TCP_TIMEOUT"),
        (TcpStatus.REFUSED, "TCP_REFUSED"),
        (TcpStatus.UNREACHABLE, "TCP_UNREACHABLE"),
    ],
)
def test_tcp_failures(tcp_status: TcpStatus, code: str) -> None:
    tls = TlsResult(tcp=TcpResult("10.0.1.23", 443, tcp_status, 2000.0, "x"), status=TlsStatus.SKIPPED)
    findings = judge.probe_findings(EP, addr("10.0.1.23", tls=tls), NOW)
    assert codes(findings) == [code]
    assert findings[0].address == "10.0.1.23"


@pytest.mark.parametrize(
    ("tls_status", "code"),
    [
        (TlsStatus.UNTRUSTED, "TLS_CERT_UNTRUSTED"),
        (TlsStatus.NAME_MISMATCH, "TLS_CERT_NAME_MISMATCH"),
        (TlsStatus.TIMEOUT, "TLS_HANDSHAKE_FAILED"),
        (TlsStatus.FAILED, "TLS_HANDSHAKE_FAILED"),
    ],
)
def test_tls_failures_stop_the_ladder(tls_status: TlsStatus, code: str) -> None:
    tls = TlsResult(tcp=TcpResult("10.0.1.23", 443, TcpStatus.OK, 0.3), status=tls_status, error="boom")
    http = HttpResult(status=HttpStatus.FAILED, status_code=None, ms=1.0)
    assert codes(judge.probe_findings(EP, addr("10.0.1.23", tls=tls, http=http), NOW)) == [code]


def test_expiring_certificate_is_a_warning() -> None:
    soon = (NOW + dt.timedelta(days=3)).isoformat()
    findings = judge.probe_findings(EP, addr("10.0.1.23", tls=ok_tls("10.0.1.23", not_after=soon)), NOW)
    assert codes(findings) == ["TLS_CERT_EXPIRING"]
    assert findings[0].severity is Severity.WARNING


def test_http_status_and_failure() -> None:
    tls = ok_tls("10.0.1.23")
    good = HttpResult(status=HttpStatus.OK, status_code=403, ms=2.0)
    assert judge.probe_findings(EP, addr("10.0.1.23", tls=tls, http=good), NOW) == []
    bad = HttpResult(status=HttpStatus.OK, status_code=503, ms=2.0)
    assert codes(judge.probe_findings(EP, addr("10.0.1.23", tls=tls, http=bad), NOW)) == ["HTTP_UNEXPECTED_STATUS"]
    slow = HttpResult(status=HttpStatus.TIMEOUT, status_code=None, ms=2000.0, error="read timeout")
    assert codes(judge.probe_findings(EP, addr("10.0.1.23", tls=tls, http=slow), NOW)) == ["HTTP_FAILED"]


def test_latency_budget() -> None:
    findings = judge.probe_findings(EP, addr("10.0.1.23", tls=ok_tls("10.0.1.23", hs=60.0)), NOW)
    assert codes(findings) == ["LATENCY_OVER_BUDGET"]
    assert findings[0].evidence["budget_ms"] == 50


def test_unprobed_address_has_no_probe_findings() -> None:
    assert judge.probe_findings(EP, addr("52.94.0.10", private=False, probed=False), NOW) == []


def test_endpoint_health_and_reachability() -> None:
    good = addr("10.0.1.23", tls=ok_tls("10.0.1.23"))
    dead_tls = TlsResult(tcp=TcpResult("10.0.2.45", 443, TcpStatus.TIMEOUT, 2000.0), status=TlsStatus.SKIPPED)
    dead = addr("10.0.2.45", tls=dead_tls)
    finding = judge.probe_findings(EP, dead, NOW)
    report = EndpointReport(
        name="sqs",
        type="interface",
        service=EP.service,
        findings=tuple(finding),
        dns=(dns(DnsStatus.OK, ("10.0.1.23", "10.0.2.45")),),
        addresses=(good, dead),
    )
    assert not report.healthy
    assert report.reachable == 0.5
    assert report.dns_private
    as_json = report.to_dict()
    assert as_json["addresses"][0]["tcp_ms"] == 0.2 and as_json["addresses"][0]["tls_ms"] == 1.0
    assert as_json["addresses"][1]["tcp"]["status"] == "timeout"


def test_every_code_has_severity_meaning_and_hint() -> None:
    assert set(CATALOGUE) == set(Code)
    for code, info in CATALOGUE.items():
        assert code.isupper() and info.meaning and info.hint, code
    with pytest.raises(ValueError):
        Finding.make("NOT_A_CODE", "x", "y")  # type: ignore[arg-type]


def test_tls_settings_default_verify() -> None:
    assert TlsSettings().verify is True
