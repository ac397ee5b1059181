"""Issue 12, item 3: the endpoint's own names (regional and zonal) judged per address family, as DnsRecordIpType
says which records they have."""

from __future__ import annotations

from dataclasses import replace

from tests.judge.builders import (
    CIDR,
    REGION,
    SQS,
    aws,
    dns,
    facts,
    judged,
    observation,
    probe,
    report,
    tcp_rule,
    vpce,
)
from tests.judge.test_path_rules import V6_CIDR
from tests.judge.test_path_rules import dual_stack as dual_stack_vpc
from vpc_verify.aws.control_plane import AwsFacts
from vpc_verify.checks.dns import DnsResult
from vpc_verify.findings import Code
from vpc_verify.topology import Endpoint

V6 = {"eni-a": "2600:1f18:a:b01::10", "eni-b": "2600:1f18:a:b02::10"}  # as test_path_rules' dual-stack VPC
REGIONAL = f"vpce-0aaa.sqs.{REGION}.vpce.amazonaws.com"
ZONE_A = f"vpce-0aaa-{REGION}a.sqs.{REGION}.vpce.amazonaws.com"
ZONE_B = f"vpce-0aaa-{REGION}b.sqs.{REGION}.vpce.amazonaws.com"
DUAL = Endpoint(
    name="sqs", type="interface", service=SQS, dns_names=(REGIONAL, ZONE_A, ZONE_B), ip_address_type="dualstack"
)
ALL = ("10.1.1.10", "10.1.2.10", V6["eni-a"], V6["eni-b"])


def dual_stack(record: str = "dualstack") -> AwsFacts:
    """The VPC with its SQS endpoint dual-stack (ENIs holding IPv6) and the given DnsRecordIpType."""
    base = dual_stack_vpc((tcp_rule(443, 443, cidr=CIDR), tcp_rule(443, 443, cidr=V6_CIDR)))
    endpoint = replace(vpce(), ip_address_type="dualstack", dns_record_ip_type=record)
    return aws(replace(base, endpoints=(endpoint, base.endpoints[1])))


def judge(*results: DnsResult, record: str = "dualstack") -> list[str]:
    o = observation(DUAL, results, [probe(a) for a in ALL])
    return judged(facts(o, cidrs=(CIDR, V6_CIDR), aws=dual_stack(record)))


def test_dual_stack_zonal_names_answering_their_zones_enis_in_both_families_are_healthy() -> None:
    assert (
        judge(
            dns(*ALL, name=REGIONAL),
            dns("10.1.1.10", V6["eni-a"], name=ZONE_A),
            dns("10.1.2.10", V6["eni-b"], name=ZONE_B),
        )
        == []
    )


def test_a_zonal_name_without_its_aaaa_record_is_a_finding_naming_ipv6() -> None:
    results = (dns(*ALL, name=REGIONAL), dns("10.1.1.10", name=ZONE_A), dns("10.1.2.10", V6["eni-b"], name=ZONE_B))
    o = observation(DUAL, results, [probe(a) for a in ALL])
    out = report(facts(o, cidrs=(CIDR, V6_CIDR), aws=dual_stack()))
    (f,) = out.findings
    assert f.code is Code.DNS_RECORD_FAMILY and "no AAAA record" in f.message and ZONE_A in f.message
    assert f.evidence["family"] == "IPv6" and f.evidence["az"] == f"{REGION}a"
    assert f.evidence["expected"] == [V6["eni-a"]] and f.evidence["answers"] == []


def test_a_zonal_name_answering_another_zones_eni_is_a_finding_naming_the_family() -> None:
    results = (
        dns(*ALL, name=REGIONAL),
        dns("10.1.1.10", V6["eni-b"], name=ZONE_A),  # zone b's IPv6 address under zone a's name
        dns("10.1.2.10", V6["eni-b"], name=ZONE_B),
    )
    o = observation(DUAL, results, [probe(a) for a in ALL])
    out = report(facts(o, cidrs=(CIDR, V6_CIDR), aws=dual_stack()))
    (f,) = out.findings
    assert f.code is Code.DNS_RECORD_FAMILY and f.evidence["family"] == "IPv6" and V6["eni-b"] in f.message


def test_a_regional_name_missing_a_records_of_a_dual_stack_endpoint_names_ipv4() -> None:
    results = (dns(*ALL[2:], name=REGIONAL), dns(*ALL[::2], name=ZONE_A), dns(*ALL[1::2], name=ZONE_B))
    o = observation(DUAL, results, [probe(a) for a in ALL])
    (f,) = report(facts(o, cidrs=(CIDR, V6_CIDR), aws=dual_stack())).findings
    assert f.code is Code.DNS_RECORD_FAMILY and f.evidence["family"] == "IPv4" and f.evidence["name"] == REGIONAL


def test_an_aaaa_answer_where_dns_record_ip_type_creates_none_is_a_wrong_family_finding() -> None:
    codes = judge(
        dns("10.1.1.10", "10.1.2.10", name=REGIONAL),
        dns("10.1.1.10", V6["eni-a"], name=ZONE_A),  # AAAA records the endpoint (DnsRecordIpType ipv4) never made
        dns("10.1.2.10", name=ZONE_B),
        record="ipv4",
    )
    assert codes == [Code.DNS_RECORD_FAMILY.value]  # one root cause: not also DNS_UNEXPECTED_ADDRESS
