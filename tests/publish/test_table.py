"""The console table, rendered from synthetic reports: pure text, no run and no terminal needed."""

from __future__ import annotations

from dataclasses import replace

from tests.publish.helpers import synthetic_report
from vpc_verify.checks.dns import DnsResult, DnsStatus
from vpc_verify.findings import Code, Finding
from vpc_verify.render.table import render
from vpc_verify.report import AddressReport, AwsEndpointFacts, EndpointReport, Report


def test_the_whole_table_of_a_report() -> None:
    report = synthetic_report()
    timeout, slow = report.endpoint("kms").findings
    assert render(report) == (
        "vpc-verify us-east-1 vpc-0123456789abcdef0  2 endpoints, 1 healthy, 1 unhealthy, 2.01 s  UNHEALTHY\n"
        "\n"
        "OK   sqs  interface  com.amazonaws.us-east-1.sqs\n"
        "     dns  sqs.us-east-1.amazonaws.com => 10.0.1.23, 10.0.2.45  (1.5 ms)\n"
        "     address    az          private  in-vpc  tcp ms  tls ms  http       state\n"
        "     10.0.1.23  us-east-1a  yes      yes     0.4     2.0     200 5.0ms  ok\n"
        "     10.0.2.45  us-east-1b  yes      yes     0.9     3.5     -          ok\n"
        "\n"
        "FAIL kms  interface  com.amazonaws.us-east-1.kms\n"
        "     dns  kms.us-east-1.amazonaws.com => 10.0.1.9, 10.0.2.9  (2.5 ms)\n"
        "     address   az          private  in-vpc  tcp ms  tls ms  http  state\n"
        "     10.0.1.9  -           yes      yes     50.0    100.0   -     ok\n"
        "     10.0.2.9  us-east-1b  yes      yes     -       -       -     fail\n"
        "     ERROR TCP_TIMEOUT [10.0.2.9]: connect to 10.0.2.9:443 timed out\n"
        f"           fix: {timeout.hint}\n"
        "     WARN  LATENCY_OVER_BUDGET [10.0.1.9]: connect+TLS took 150 ms\n"
        f"           fix: {slow.hint}\n"
    )


def test_a_healthy_report_without_region_or_vpc() -> None:
    report = synthetic_report(vpc_id=None)
    healthy = replace(report, endpoints=report.endpoints[:1], region=None)
    head = render(healthy).splitlines()[0]
    assert head == "vpc-verify 1 endpoints, 1 healthy, 0 unhealthy, 2.01 s  HEALTHY"


def test_run_findings_come_first_and_make_the_run_unhealthy() -> None:
    report = synthetic_report()
    deadline = Finding.make(Code.DEADLINE_EXCEEDED, "*", "the run's deadline (60 s) came first")
    lines = render(replace(report, run_findings=(deadline,))).splitlines()
    assert lines[0].endswith("UNHEALTHY")
    assert lines[1] == "  ERROR DEADLINE_EXCEEDED: the run's deadline (60 s) came first"
    assert lines[2] == f"        fix: {deadline.hint}"
    assert lines[3] == ""


def test_failed_names_unprobed_addresses_and_the_endpoint_id() -> None:
    failed = DnsResult(
        name="billing.internal.example.com",
        status=DnsStatus.NXDOMAIN,
        rcode="NXDOMAIN",
        answers=(),
        cname_chain=("alias.internal.example.com",),
        ms=3.5,
        error="no such name",
    )
    skipped = AddressReport(address="10.0.9.9", private=True, in_vpc=None, skip_reason="outside the VPC")
    unprobed = AddressReport(address="10.0.9.10", private=False, in_vpc=False)
    endpoint = EndpointReport(
        name="billing",
        type="service",
        service=None,
        findings=(),
        dns=(failed,),
        addresses=(skipped, unprobed),
        aws=AwsEndpointFacts(vpc_id="vpc-0123456789abcdef0", vpc_endpoint_id="vpce-0123456789abcdef0"),
    )
    text = render(Report(started_at=synthetic_report().started_at, duration_ms=5.0, endpoints=(endpoint,)))
    lines = text.splitlines()
    assert lines[2] == "OK   billing  service  vpce-0123456789abcdef0"
    assert lines[3] == (
        "     dns  billing.internal.example.com -> alias.internal.example.com => NXDOMAIN no such name  (3.5 ms)"
    )
    assert lines[5].split() == ["10.0.9.9", "-", "yes", "-", "-", "-", "-", "not", "probed:", "outside", "the", "VPC"]
    assert lines[6].split() == ["10.0.9.10", "-", "NO", "NO", "-", "-", "-", "not", "probed"]


def test_colour_only_when_asked() -> None:
    report = synthetic_report()
    plain, coloured = render(report), render(report, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[31;1mUNHEALTHY\x1b[0m" in coloured and "\x1b[32mOK  \x1b[0m \x1b[1msqs\x1b[0m" in coloured
    assert "\x1b[31;1mERROR\x1b[0m TCP_TIMEOUT" in coloured and "\x1b[33mWARN \x1b[0m LATENCY" in coloured
    strip = coloured
    for code in ("\x1b[31;1m", "\x1b[32m", "\x1b[33m", "\x1b[1m", "\x1b[2m", "\x1b[0m"):
        strip = strip.replace(code, "")
    assert strip == plain
