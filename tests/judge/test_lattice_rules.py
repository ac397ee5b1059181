"""Issue 12, item 7: a Resource or ServiceNetwork endpoint (VPC Lattice) is checked through what DescribeVpcEndpoints
reports of it: its answers lie in its IP prefixes (not its ENIs' own addresses), and its names are its DNS entries."""

from __future__ import annotations

from dataclasses import replace

from tests.judge.builders import REGION, aws, dns, facts, judged, observation, probe, report, state, vpce
from vpc_verify.aws.control_plane import AwsFacts
from vpc_verify.aws.lattice import port_ranges
from vpc_verify.aws.model import ResourceConfiguration
from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.findings import Code
from vpc_verify.judge.facts import EndpointFacts
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


def with_ports(*ranges: str, unread: str = "") -> AwsFacts:
    """lattice() with its resource configuration read (its port ranges), or unread (why)."""
    side = lattice()
    if unread:
        state = replace(side.state, resource_configuration_errors={ARN: unread})
    else:
        config = ResourceConfiguration(ARN, "rcfg-0123456789abcdef0", port_ranges=port_ranges(ranges))
        state = replace(side.state, resource_configurations={ARN: config})
    return replace(side, state=state)


def probed(port: int, tcp: TcpStatus) -> EndpointFacts:
    e = replace(DB, port=port)
    return facts(observation(e, [dns("10.1.7.4", name=NAME)], [probe("10.1.7.4", tcp)]), aws=with_ports("8443"))


def test_a_port_outside_the_resource_configurations_ranges_is_said_when_nothing_connected() -> None:
    out = report(probed(443, TcpStatus.REFUSED))
    (f,) = [f for f in out.findings if f.code is Code.LATTICE_PORT_NOT_SHARED]
    assert f.evidence == {
        "vpc_endpoint_id": "vpce-0aaa",
        "resource_configuration_arn": ARN,
        "port": 443,
        "port_ranges": ["8443"],
    }
    assert "`port: 8443`" in f.hint and "--port-ranges 8443 443" in f.hint
    assert "LATTICE_PORT_NOT_SHARED" not in judged(probed(443, TcpStatus.OK))  # the packets win
    assert "LATTICE_PORT_NOT_SHARED" not in judged(probed(8443, TcpStatus.REFUSED))  # a shared port: the probe's


def test_unknown_ports_are_unverified_not_wrong() -> None:
    e = replace(DB, port=443)
    o = observation(e, [dns("10.1.7.4", name=NAME)], [probe("10.1.7.4", TcpStatus.TIMEOUT)])
    out = report(facts(o, aws=with_ports(unread="AWS vpc-lattice:GetResourceConfiguration denied")))
    (f,) = [f for f in out.findings if f.code is Code.LATTICE_PORT_UNVERIFIED]
    assert f.evidence["type"] == "resource" and "denied" in f.evidence["why"] and f.evidence["port"] == 443
    assert "LATTICE_PORT_UNVERIFIED" not in judged(facts(o, aws=with_ports("443")))  # known: nothing to verify


def test_a_service_network_endpoints_port_is_unverified_when_nothing_connected() -> None:
    sn_arn = f"arn:aws:vpc-lattice:{REGION}:123456789012:servicenetwork/sn-0123456789abcdef0"
    base = lattice()
    sn = replace(base.state.endpoints[0], type="servicenetwork", service=sn_arn, resource_configuration_arn="")
    sn = replace(sn, service_network_arn=sn_arn)
    side = replace(base, state=replace(base.state, endpoints=(sn, base.state.endpoints[1])))
    e = replace(DB, service=sn_arn)
    refused = observation(e, [dns("10.1.7.4", name=NAME)], [probe("10.1.7.4", TcpStatus.REFUSED)])
    (f,) = [f for f in report(facts(refused, aws=side)).findings if f.code is Code.LATTICE_PORT_UNVERIFIED]
    assert f.evidence["service_network_arn"] == sn_arn and f.evidence["resource_configuration_arn"] is None
    connected = observation(e, [dns("10.1.7.4", name=NAME)], [probe("10.1.7.4")])
    assert judged(facts(connected, aws=side)) == []


def test_port_ranges_are_read_as_the_api_writes_them() -> None:
    assert port_ranges(["443", "22-30", "1,2", "x", "70000", "9-3"]) == ((1, 1), (2, 2), (22, 30), (443, 443))
