"""Issue 12, item 7: a Resource or ServiceNetwork endpoint (VPC Lattice) is checked through what DescribeVpcEndpoints
reports of it: its answers lie in its IP prefixes (not its ENIs' own addresses), and its names are its DNS entries."""

from __future__ import annotations

from dataclasses import replace

from tests.judge.builders import REGION, aws, dns, facts, judged, observation, probe, report, state, vpce
from vpc_verify.aws.control_plane import AwsFacts
from vpc_verify.findings import Code
from vpc_verify.topology import Endpoint

ARN = f"arn:aws:vpc-lattice:{REGION}:123456789012:resourceconfiguration/rcfg-0123456789abcdef0"
NAME = f"vpce-0aaa-snra-0abc.rcfg-0123456789abcdef0.4232ccc.vpc-lattice-rsc.{REGION}.on.aws"
DB = Endpoint(name="db", type="service", service=ARN, dns_names=(NAME,), port=443)


def lattice() -> AwsFacts:
    """The VPC with a Resource endpoint whose ENI (10.1.1.10) answers from 10.1.7.0/28."""
    base = state()
    resource = replace(
        vpce(service=ARN),
        type="resource",
        resource_configuration_arn=ARN,
        eni_ids=("eni-a",),
        dns_entries=(NAME,),
        ipv4_prefixes=("10.1.7.0/28",),
    )
    return aws(replace(base, endpoints=(resource, base.endpoints[1])))


def test_answers_within_the_endpoints_prefixes_are_healthy() -> None:
    o = observation(DB, [dns("10.1.7.4", name=NAME)], [probe("10.1.7.4")])
    assert judged(facts(o, aws=lattice())) == []


def test_an_answer_outside_the_prefixes_is_unexpected_and_names_them() -> None:
    o = observation(DB, [dns("10.1.1.99", name=NAME)], [probe("10.1.1.99")])
    out = report(facts(o, aws=lattice()))
    (f,) = [f for f in out.findings if f.code is Code.DNS_UNEXPECTED_ADDRESS]
    assert "10.1.7.0/28" in f.message and f.evidence["expected"] == ["10.1.7.0/28"]


def test_a_name_that_is_none_of_the_endpoints_dns_entries_is_uncovered() -> None:
    other = f"db.{REGION}.internal.example"
    e = replace(DB, dns_names=(other,))
    o = observation(e, [dns("10.1.7.4", name=other)], [probe("10.1.7.4")])
    (f,) = report(facts(o, aws=lattice())).findings
    assert f.code is Code.DNS_NAME_UNCOVERED and f.evidence["source"] == "DescribeVpcEndpoints DnsEntries"
    assert f.evidence["service_private_dns_names"] == [NAME]
