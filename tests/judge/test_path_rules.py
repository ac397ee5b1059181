"""Where the agent stands and the whole path, judged on hand-made facts: a Lambda's source is its subnets, never
its link-local address; verdicts per address family (a dual-stack endpoint inside the VPC's /56); network ACLs
and the agent's own egress name the rule that blocks, as errors only when a connect timed out; gateway
endpoints are never blamed on a security group; the agent's AZ compared by id."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import replace

from tests.judge.builders import (
    EP,
    GW,
    REGION,
    aws,
    dns,
    facts,
    observation,
    probe,
    report,
    state,
    tcp_rule,
)
from vpc_verify.aws.model import Eni, NaclEntry, NetworkAcl, Rule, SecurityGroup, Subnet, VpcState
from vpc_verify.aws.whereami import Place
from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.findings import Code, Finding, Severity

BOTH = ("10.1.1.10", "10.1.2.10")
V6_CIDR = "2600:1f18:a:b00::/56"
V6 = ("2600:1f18:a:b01::10", "2600:1f18:a:b02::10")
DUAL = replace(EP, ip_address_type="dualstack", addresses=(*BOTH, *V6))
FINAL = (NaclEntry(32767, False, "-1", "deny", "0.0.0.0/0"), NaclEntry(32767, True, "-1", "deny", "0.0.0.0/0"))
OPEN = (
    NaclEntry(100, False, "-1", "allow", "0.0.0.0/0"),
    NaclEntry(100, True, "-1", "allow", "0.0.0.0/0"),
    NaclEntry(101, False, "-1", "allow", "::/0"),
    NaclEntry(101, True, "-1", "allow", "::/0"),
    *FINAL,
)


def only(findings: Iterable[Finding], code: Code) -> Finding:
    findings = list(findings)
    found = [f for f in findings if f.code is code]
    assert len(found) == 1, [f.code for f in findings]
    return found[0]


def codes(findings: Iterable[Finding]) -> list[str]:
    return sorted(f.code.value for f in findings)


def dual_stack(rules: Iterable[Rule]) -> VpcState:
    """The synthetic VPC with an Amazon-provided /56: subnets and ENIs with IPv6 addresses (global unicast)."""
    base = state(tuple(rules))
    return replace(
        base,
        cidrs=(*base.cidrs, ipaddress.ip_network(V6_CIDR)),
        subnets={
            "subnet-a": replace(base.subnets["subnet-a"], ipv6_cidrs=("2600:1f18:a:b01::/64",)),
            "subnet-b": replace(base.subnets["subnet-b"], ipv6_cidrs=("2600:1f18:a:b02::/64",)),
        },
        enis={
            "eni-a": replace(base.enis["eni-a"], ipv6=(V6[0],)),
            "eni-b": replace(base.enis["eni-b"], ipv6=(V6[1],)),
        },
        network_acls=(NetworkAcl("acl-open", True, ("subnet-a", "subnet-b"), OPEN),),
    )


# ------------------------------------------------------------------------------------------------ Lambda


def test_a_lambda_is_judged_from_its_subnets_never_its_link_local_address() -> None:
    """AWS: a VPC Lambda's only local address is link-local; it enters the VPC through a Hyperplane ENI in its
    subnets. An endpoint group admitting the VPC CIDR admits it: no finding at all, probes fine or not."""
    lam = Place(address="169.254.79.1", subnet_ids=("subnet-a", "subnet-b"), function_name="f", source="lambda")
    ok = observation(EP, [dns(*BOTH)], [probe(a) for a in BOTH])
    out = report(facts(ok, aws=aws(place=lam)))
    assert out.findings == ()
    sg = out.aws.security_groups if out.aws is not None else None
    assert sg is not None and sg.verdict == "admits" and sg.source.precision == "subnet"
    assert [str(n) for n in sg.source.networks] == ["10.1.1.0/24", "10.1.2.0/24"]
    # A group admitting only the Lambda's security group admits it too (its groups are known).
    by_group = aws(state((tcp_rule(443, 443, source_group_id="sg-fn"),)), replace(lam, security_group_ids=("sg-fn",)))
    assert report(facts(ok, aws=by_group)).findings == ()


# ----------------------------------------------------------------------------------------- address family


def test_a_dual_stack_endpoint_inside_the_vpcs_slash_56_is_healthy() -> None:
    vpc = dual_stack([tcp_rule(443, 443, cidr="10.1.0.0/16"), tcp_rule(443, 443, cidr=V6_CIDR)])
    o = observation(DUAL, [dns(*BOTH, *V6)], [probe(a) for a in (*BOTH, *V6)])
    out = report(facts(o, cidrs=("10.1.0.0/16", V6_CIDR), aws=aws(vpc)))
    assert out.findings == ()
    assert all(a.private and a.in_vpc and a.expected for a in out.addresses)


def test_an_ipv6_probe_is_judged_against_ipv6_rules_and_the_agents_ipv6_source() -> None:
    """The group admits the VPC's IPv4 CIDR only: the IPv4 probes pass, the IPv6 ones time out, and the
    finding names the IPv6 source (the agent's subnet's /64), not an IPv4 verdict."""
    vpc = dual_stack([tcp_rule(443, 443, cidr="10.1.0.0/16")])
    o = observation(DUAL, [dns(*BOTH, *V6)], [probe(a) for a in BOTH] + [probe(a, TcpStatus.TIMEOUT) for a in V6])
    out = report(facts(o, cidrs=("10.1.0.0/16", V6_CIDR), aws=aws(vpc, Place(subnet_id="subnet-a"))))
    f = only(out.findings, Code.SECURITY_GROUP_BLOCKS)
    assert f.evidence["address_family"] == 6 and f.evidence["timed_out"] == list(V6)
    assert f.evidence["agent_source"] == ["2600:1f18:a:b01::/64"] and "CidrIpv6=2600:1f18:a:b01::/64" in f.hint
    assert Code.CONTROL_PLANE_DISAGREES not in {x.code for x in out.findings}  # IPv4 admitted: no disagreement


# -------------------------------------------------------------------------------------------- network ACLs


def _closed_b(vpc: VpcState) -> VpcState:
    """subnet-b's ACL admits 443 from the VPC but its outbound rule 50 denies the return traffic to the VPC."""
    b = NetworkAcl(
        "acl-b",
        False,
        ("subnet-b",),
        (
            NaclEntry(100, False, "6", "allow", "10.1.0.0/16", 443, 443),
            NaclEntry(50, True, "6", "deny", "10.1.0.0/16", 1024, 65535),
            NaclEntry(100, True, "-1", "allow", "0.0.0.0/0"),
            *FINAL,
        ),
    )
    return replace(vpc, network_acls=(NetworkAcl("acl-open", True, ("subnet-a",), OPEN), b))


def test_a_network_acl_that_drops_the_return_traffic_is_named_by_rule() -> None:
    vpc = _closed_b(state())
    agent = Place(address="10.1.1.5", subnet_id="subnet-a", ephemeral_ports=(32768, 60999))
    o = observation(EP, [dns(*BOTH)], [probe(BOTH[0]), probe(BOTH[1], TcpStatus.TIMEOUT)])
    out = report(facts(o, aws=aws(vpc, agent)))
    f = only(out.findings, Code.NACL_BLOCKS)
    assert f.evidence["network_acl_id"] == "acl-b" and f.evidence["leg"] == "return"
    assert f.evidence["rule"]["rule_number"] == 50 and f.evidence["timed_out"] == [BOTH[1]]
    assert "outbound rule 50 (deny" in f.message and "--egress --rule-number <a free number below 50>" in f.hint
    timeout = only(out.findings, Code.TCP_TIMEOUT)
    assert "network ACL acl-b of subnet subnet-b, outbound rule 50" in timeout.message
    # The same configuration while the packets went through: a warning with both views, never an error.
    ok = observation(EP, [dns(*BOTH)], [probe(a) for a in BOTH])
    agreeing = report(facts(ok, aws=aws(vpc, agent)))
    f = only(agreeing.findings, Code.CONTROL_PLANE_DISAGREES)
    assert agreeing.healthy and f.severity is Severity.WARNING and f.evidence["connected"] == [BOTH[1]]
    assert f.evidence["disagreements"][0]["network_acl_id"] == "acl-b"


# ------------------------------------------------------------------------------------------ agent egress


def _with_agent_group(vpc: VpcState, egress: tuple[Rule, ...]) -> VpcState:
    return replace(vpc, security_groups={**vpc.security_groups, "sg-agent": SecurityGroup("sg-agent", "a", (), egress)})


def test_the_agents_own_egress_to_a_gateway_prefix_list() -> None:
    """A gateway endpoint has no security group: a timeout is the route, the agent's egress to the prefix
    list, or its subnet's ACL, never "the endpoint's security group"."""
    vpc = _with_agent_group(state(), (Rule("sg-agent", "tcp", 443, 443, cidr="10.1.0.0/16"),))
    agent = Place(address="10.1.1.5", subnet_id="subnet-a", security_group_ids=("sg-agent",))
    o = observation(GW, [dns("52.216.0.10", name=GW.dns_names[0])], [probe("52.216.0.10", TcpStatus.TIMEOUT)])
    out = report(facts(o, aws=aws(vpc, agent)))
    f = only(out.findings, Code.AGENT_EGRESS_BLOCKS)
    assert "prefix list pl-s3" in f.message and "PrefixListIds=[{PrefixListId=pl-s3}]" in f.hint
    assert f.evidence["destination"] == "52.216.0.10" and f.evidence["prefix_list_id"] == "pl-s3"
    assert all("endpoint's security group" not in x.message + x.hint for x in out.findings)
    fixed = _with_agent_group(state(), (Rule("sg-agent", "tcp", 443, 443, prefix_list_id="pl-s3"),))
    assert Code.AGENT_EGRESS_BLOCKS not in {x.code for x in report(facts(o, aws=aws(fixed, agent))).findings}


def test_a_gateway_timeout_without_the_control_plane_never_blames_a_security_group() -> None:
    o = observation(GW, [dns("52.216.0.10", name=GW.dns_names[0])], [probe("52.216.0.10", TcpStatus.TIMEOUT)])
    f = only(report(facts(o)).findings, Code.TCP_TIMEOUT)
    assert "endpoint's security group" not in f.hint and "prefix list" in f.hint


# ------------------------------------------------------------------------------------------------- AZ ids


def test_no_endpoint_interface_in_the_agents_az_is_said_without_topology_azs() -> None:
    base = state()
    vpc = replace(
        base, subnets={**base.subnets, "subnet-c": Subnet("subnet-c", "10.1.3.0/24", f"{REGION}c", "euw1-az3")}
    )
    ok = observation(EP, [dns(*BOTH)], [probe(a) for a in BOTH])
    out = report(facts(ok, aws=aws(vpc, Place(address="10.1.3.5", az_id="euw1-az3"))))
    f = only(out.findings, Code.ENDPOINT_NOT_IN_AGENT_AZ)
    assert f.severity is Severity.WARNING and out.healthy
    assert f.evidence["agent_az_id"] == "euw1-az3" and f.evidence["endpoint_az_ids"] == ["euw1-az1", "euw1-az2"]
    assert f.hint.endswith("--add-subnet-ids subnet-c")
    # Compared by id: an ENI in the agent's zone (named differently in another account) is az-local.
    here = report(facts(ok, aws=aws(vpc, Place(az_id="euw1-az2"))))
    assert here.findings == () and [e.zone for e in here.aws.network_interfaces] == ["cross-az", "az-local"]


def test_az_names_are_compared_as_ids() -> None:
    """Two accounts name one zone differently: the ENI in 'eu-west-1b' of this account is in zone euw1-az2."""
    vpc = replace(state(), enis={"eni-a": Eni("eni-a", "10.1.1.10", f"{REGION}a", "subnet-a")})
    ok = observation(EP, [dns(BOTH[0])], [probe(BOTH[0])])
    out = report(facts(ok, aws=aws(vpc, Place(az="eu-west-1a"))))
    assert [e.az_id for e in out.aws.network_interfaces] == ["euw1-az1"]
    assert out.aws.agent_az_id == "euw1-az1"


def test_an_unknown_place_says_what_is_missing_and_how_to_tell_it() -> None:
    """A group admitting half the VPC: whether it admits the agent depends on where the agent is."""
    vpc = state((tcp_rule(443, 443, cidr="10.1.0.0/17"), tcp_rule(443, 443, source_group_id="sg-x")))
    o = observation(EP, [dns(*BOTH)], [probe(a, TcpStatus.TIMEOUT) for a in BOTH])
    note = "the instance metadata service did not answer the IMDSv2 token request within 0.5 s"
    f = next(x for x in report(facts(o, aws=aws(vpc, Place(notes=(note,))))).findings if x.code is Code.TCP_TIMEOUT)
    assert "may or may not admit the agent" in f.message
    assert (
        "its subnet (pass --subnet-id)" in f.message and "its security groups (pass --security-group-id)" in f.message
    )
    assert note in f.message


def test_a_lambdas_every_subnet_needs_the_gateway_route() -> None:
    """The function runs in subnet a or b: rtb-a routes S3 through the endpoint, b's main table does not."""
    lam = Place(subnet_ids=("subnet-a", "subnet-b"), function_name="f")
    o = observation(GW, [dns("52.216.0.10", name=GW.dns_names[0])], [probe("52.216.0.10")])
    f = only(report(facts(o, aws=aws(state(), lam))).findings, Code.GATEWAY_ROUTE_MISSING)
    assert "rtb-main" in f.message and "subnet-b" in f.message and f.hint.endswith("--add-route-table-ids rtb-main")
