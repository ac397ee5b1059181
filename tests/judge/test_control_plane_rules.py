"""The control-plane rules on hand-made VPC states, joined with synthetic observations: each finding names the
resource to fix and carries the API fields it was judged on; packets outrank the configuration."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import pytest

from tests.judge.builders import (
    CIDR,
    EP,
    GW,
    VPC_ID,
    aws,
    dns,
    facts,
    gateway,
    judged,
    observation,
    probe,
    report,
    state,
    tcp_rule,
    vpce,
)
from vpc_verify import judge
from vpc_verify.aws.model import ServiceInfo
from vpc_verify.aws.whereami import Place
from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.findings import Code, Finding, Severity
from vpc_verify.judge.facts import RunFacts
from vpc_verify.topology import Topology, parse

BOTH = ("10.1.1.10", "10.1.2.10")
OK = observation(EP, [dns(*BOTH)], [probe(a) for a in BOTH])
DROPPED = observation(EP, [dns(*BOTH)], [probe(a, TcpStatus.TIMEOUT) for a in BOTH])


def only(findings: Iterable[Finding], code: Code) -> Finding:
    findings = list(findings)
    found = [f for f in findings if f.code is code]
    assert len(found) == 1, [f.code for f in findings]
    return found[0]


def test_healthy_vpc_has_no_finding_and_reports_the_facts() -> None:
    out = report(facts(OK, aws=aws()))
    assert out.findings == ()
    assert out.aws is not None and out.aws.vpc_endpoint_id == "vpce-0aaa"
    as_json = out.to_dict()["aws"]
    assert as_json["security_groups"]["verdict"] == "admits"
    assert [e["zone"] for e in as_json["network_interfaces"]] == ["az-local", "cross-az"]
    assert as_json["zonal_dns_names"]["eu-west-1a"].startswith("vpce-0aaa-eu-west-1a.")


def test_endpoint_missing_names_the_vpc_and_the_command() -> None:
    out = report(facts(OK, aws=aws(state(endpoints=[gateway()]))))
    f = only(out.findings, Code.ENDPOINT_MISSING)
    assert VPC_ID in f.hint and "create-vpc-endpoint" in f.hint and f.evidence["vpc_id"] == VPC_ID
    assert out.to_dict()["aws"] == {"vpc_id": VPC_ID, "vpc_endpoint_id": None}


@pytest.mark.parametrize("state_name", ["pendingAcceptance", "failed", "rejected", "pending"])
def test_endpoint_not_available_names_the_endpoint(state_name: str) -> None:
    out = report(facts(OK, aws=aws(state(endpoints=[vpce(state=state_name)]))))
    f = only(out.findings, Code.ENDPOINT_NOT_AVAILABLE)
    assert "vpce-0aaa" in f.hint and f.evidence["state"] == state_name


def test_private_dns_off_is_an_error_and_explains_a_public_answer() -> None:
    o = observation(EP, [dns("52.94.0.10")], skipped={"52.94.0.10": "public address"})
    out = report(facts(o, aws=aws(state(endpoints=[vpce(private_dns=False)]))))
    assert sorted(f.code.value for f in out.findings) == ["DNS_PUBLIC_ADDRESS", "PRIVATE_DNS_DISABLED"]
    public = only(out.findings, Code.DNS_PUBLIC_ADDRESS)
    assert "private DNS is off on vpce-0aaa" in public.message
    assert public.hint.endswith("--vpc-endpoint-id vpce-0aaa --private-dns-enabled")


def test_private_dns_off_on_a_partner_service_says_to_verify_its_domain_first() -> None:
    """Issue 12, item 7: PrivateDnsNameVerificationState is read; an unverified name cannot be enabled yet."""
    partner = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"
    named = replace(EP, service=partner, dns_names=("api.partner.example.com",))
    vpc = state(endpoints=[vpce(private_dns=False, service=partner)])
    info = ServiceInfo(partner, ("interface",), ("api.partner.example.com",), (), (), "pendingVerification")
    o = observation(named, [dns(*BOTH, name=named.dns_names[0])], [probe(a) for a in BOTH])
    f = only(report(facts(o, aws=aws(replace(vpc, services={partner: info})))).findings, Code.PRIVATE_DNS_DISABLED)
    assert f.evidence["verification_state"] == "pendingVerification"
    assert "verify the domain" in f.hint and "start-vpc-endpoint-service-private-dns-verification" in f.hint
    verified = replace(info, verification_state="verified")
    f = only(report(facts(o, aws=aws(replace(vpc, services={partner: verified})))).findings, Code.PRIVATE_DNS_DISABLED)
    assert "verification_state" not in f.evidence and "verify the domain" not in f.hint


def test_private_dns_off_is_fine_when_the_topology_uses_vpce_names() -> None:
    named = replace(EP, dns_names=("vpce-0aaa.sqs.eu-west-1.vpce.amazonaws.com",))
    o = observation(named, [dns(*BOTH, name=named.dns_names[0])], [probe(a) for a in BOTH])
    assert judged(facts(o, aws=aws(state(endpoints=[vpce(private_dns=False)])))) == []


def test_public_answer_with_the_vpc_dns_attributes_off_names_the_attribute() -> None:
    o = observation(EP, [dns("52.94.0.10")])
    f = only(report(facts(o, aws=aws(state(dns_hostnames=False)))).findings, Code.DNS_PUBLIC_ADDRESS)
    assert "enableDnsHostnames off" in f.message and "--enable-dns-hostnames" in f.hint


def test_az_ids_count_as_covered_and_missing_ones_are_found() -> None:
    azs = replace(EP, azs=("euw1-az1", "eu-west-1b", "eu-west-1c"))
    o = observation(azs, [dns(*BOTH)], [probe(a) for a in BOTH])
    f = only(report(facts(o, aws=aws())).findings, Code.ENDPOINT_AZ_MISSING)
    assert f.evidence["az"] == "eu-west-1c"


def test_a_blocking_group_is_an_error_only_when_a_connect_timed_out() -> None:
    blocking = aws(state((tcp_rule(443, 443, cidr="10.1.9.0/24"),)))
    out = report(facts(DROPPED, aws=blocking))
    assert sorted({f.code.value for f in out.findings}) == ["SECURITY_GROUP_BLOCKS", "TCP_TIMEOUT"]
    sg = only(out.findings, Code.SECURITY_GROUP_BLOCKS)
    assert "sg-vpce" in sg.hint and "--cidr 10.1.1.5/32" in sg.hint
    timeout = next(f for f in out.findings if f.code is Code.TCP_TIMEOUT)
    assert "no inbound rule of sg-vpce admits tcp/443" in timeout.message
    # The packets went through: the configuration view is wrong somewhere; a warning with both views.
    agreeing = report(facts(OK, aws=blocking))
    assert [f.code for f in agreeing.findings] == [Code.CONTROL_PLANE_DISAGREES] and agreeing.healthy
    f = agreeing.findings[0]
    assert f.severity is Severity.WARNING and f.evidence["connected"] == list(BOTH)
    assert f.evidence["verdict"] == "blocks"


def test_lambda_like_source_that_matches_no_rule_never_pages_when_probes_succeed() -> None:
    """The agent's address is link-local (a Lambda): rules by VPC CIDR do not match it, the probes pass."""
    link_local = aws(place=Place(address="169.254.79.1"))
    out = report(facts(OK, aws=link_local))
    assert out.healthy


def test_timeout_where_the_group_admits_points_at_nacls_and_routes() -> None:
    timeouts = [x for x in report(facts(DROPPED, aws=aws())).findings if x.code is Code.TCP_TIMEOUT]
    same, other = (next(f for f in timeouts if f.address == a) for a in BOTH)
    assert "admits tcp/443 from 10.1.0.0/16, so the drop is elsewhere" in other.message
    # The network ACLs were not read: they may be the cause (ENI in subnet-b, the agent in subnet-a).
    assert "network ACL of subnet subnet-b" in other.hint and "route table rtb-a" in other.hint
    # Both ends in one subnet: no network ACL is on the way (AWS does not evaluate them there).
    assert "no network ACL is on the way" in same.message and "route table rtb-a" in same.hint


def test_gateway_route_missing_names_the_agents_route_table() -> None:
    o = observation(GW, [dns("52.216.0.10", name=GW.dns_names[0])], [probe("52.216.0.10")])
    out = report(facts(o, aws=aws(state(routed=False))))
    f = only(out.findings, Code.GATEWAY_ROUTE_MISSING)
    assert f.hint.endswith("--vpc-endpoint-id vpce-0gw --add-route-table-ids rtb-a")
    unknown_place = report(facts(o, aws=aws(state(routed=False), Place())))
    f = only(unknown_place.findings, Code.GATEWAY_ROUTE_MISSING)
    assert "no route table of" in f.message


def test_gateway_timeout_points_at_the_route_not_a_security_group() -> None:
    o = observation(GW, [dns("52.216.0.10", name=GW.dns_names[0])], [probe("52.216.0.10", TcpStatus.TIMEOUT)])
    routed = only(report(facts(o, aws=aws())).findings, Code.TCP_TIMEOUT)
    assert "Route table rtb-a routes pl-s3 via vpce-0gw" in routed.hint
    assert "endpoint's security group" not in routed.hint and routed.evidence["route_via_endpoint"] is True
    elsewhere = only(report(facts(o, aws=aws(place=Place(subnet_id="subnet-b")))).findings, Code.TCP_TIMEOUT)
    assert elsewhere.hint.endswith("--add-route-table-ids rtb-main")


def test_gateway_address_not_in_prefix_list_names_the_list() -> None:
    o = observation(GW, [dns("198.51.100.7", name=GW.dns_names[0])], [probe("198.51.100.7")])
    f = only(report(facts(o, aws=aws())).findings, Code.GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST)
    assert "pl-s3" in f.message and f.evidence["prefix_list_cidrs"] == ["52.216.0.0/15"]


def _topology(*names: str) -> Topology:
    endpoints = [{"name": n, "service": f"com.amazonaws.eu-west-1.{n}"} for n in names]
    return parse({"version": 1, "region": "eu-west-1", "vpc": {"id": VPC_ID, "cidrs": [CIDR]}, "endpoints": endpoints})


def test_run_rules_vpc_attributes_and_unexpected_endpoints() -> None:
    topo = _topology("sqs")
    run = judge.run(RunFacts(topology=topo, aws=aws(state(dns_support=False))))
    assert sorted(f.code.value for f in run) == ["ENDPOINT_UNEXPECTED", "VPC_DNS_SUPPORT_DISABLED"]
    unexpected = only(run, Code.ENDPOINT_UNEXPECTED)
    assert unexpected.evidence["vpc_endpoint_id"] == "vpce-0gw" and "delete-vpc-endpoints" in unexpected.hint
    partial = judge.run(RunFacts(topology=topo, aws=aws(), partial=True))
    assert partial == ()


def test_run_rules_control_plane_unread() -> None:
    topo = _topology("sqs")
    denied = judge.run(RunFacts(topology=topo, aws=None, aws_error=PermissionError("denied")))
    assert [f.code for f in denied] == [Code.AWS_API_ERROR] and "denied" in denied[0].message
    late = judge.run(RunFacts(topology=topo, aws=None, aws_timed_out=True))
    assert [f.code for f in late] == [Code.AWS_API_ERROR] and "deadline" in late[0].message
