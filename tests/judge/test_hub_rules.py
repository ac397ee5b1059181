"""Centralised endpoints (issue 12, item 4): an endpoint that lives in a declared hub VPC. Its answers in the hub's
CIDRs are right, ENDPOINT_MISSING does not apply in the spoke, and the spoke must route the hub's CIDR somewhere
private (HUB_UNROUTED), unless a connect to the hub went through (the packets win)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from tests.judge.builders import CIDR, EP, aws, dns, facts, judged, observation, probe, report, state, tcp_rule
from vpc_verify.aws.model import Eni, NaclEntry, NetworkAcl, Route, RouteTable, Subnet
from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.evaluate import routes
from vpc_verify.findings import Code
from vpc_verify.topology import Hub

HUB_CIDR = "10.2.0.0/16"
HUB = Hub(cidrs=(ipaddress.ip_network(HUB_CIDR),), vpc_id="vpc-0hub0000000000000")
IN_HUB = ("10.2.1.10", "10.2.2.10")


def spoke(*hub_route: Route) -> object:
    """The spoke's control plane: no SQS endpoint of its own, the agent's table with `hub_route`."""
    vpc = state(endpoints=())
    table = RouteTable("rtb-a", False, ("subnet-a",), (Route(CIDR, "local"), *hub_route))
    return aws(replace(vpc, route_tables=(table, *vpc.route_tables[1:])))


def hub_facts(*, hub: Hub | None = HUB, tcp: TcpStatus = TcpStatus.OK, side: object = None):  # type: ignore[no-untyped-def]
    e = replace(EP, addresses=IN_HUB, hub=hub)
    return facts(observation(e, [dns(*IN_HUB)], [probe(a, tcp) for a in IN_HUB]), aws=side)  # type: ignore[arg-type]


def test_a_declared_hub_makes_its_answers_right_and_its_endpoint_not_missing() -> None:
    unnamed = replace(HUB, vpc_id=None)  # a hub named by its CIDRs only: nothing to read there
    f = hub_facts(hub=unnamed, side=spoke(Route(HUB_CIDR, "tgw-0abc")))
    assert judged(f) == [] and all(a.in_vpc for a in f.addresses)


def test_without_the_hub_declared_the_same_answers_are_another_networks() -> None:
    out = judged(hub_facts(hub=None, side=spoke(Route(HUB_CIDR, "tgw-0abc"))))
    assert out == ["DNS_OUTSIDE_VPC", "DNS_OUTSIDE_VPC", "ENDPOINT_MISSING"]


def test_no_route_to_the_hub_is_said_when_the_connects_failed() -> None:
    out = report(hub_facts(tcp=TcpStatus.TIMEOUT, side=spoke()))
    unrouted = [f for f in out.findings if f.code is Code.HUB_UNROUTED]
    (f,) = unrouted
    assert f.evidence == {"hub_cidr": HUB_CIDR, "hub_vpc_id": HUB.vpc_id, "route_table_id": "rtb-a", "route": None}
    assert "create-route --route-table-id rtb-a --destination-cidr-block 10.2.0.0/16" in f.hint


def test_a_default_route_to_an_internet_gateway_or_a_blackhole_does_not_reach_the_hub() -> None:
    for route in (Route("0.0.0.0/0", "igw-0abc"), Route(HUB_CIDR, "tgw-0abc", "blackhole")):
        out = report(hub_facts(tcp=TcpStatus.TIMEOUT, side=spoke(route)))
        (f,) = [f for f in out.findings if f.code is Code.HUB_UNROUTED]
        assert f.evidence["route"] == route.to_dict()


def test_the_packets_win_over_a_missing_route() -> None:
    assert "HUB_UNROUTED" not in judged(hub_facts(side=spoke()))


def test_the_most_specific_route_carries_the_hub() -> None:
    table = RouteTable(
        "rtb-x",
        False,
        (),
        (Route("10.0.0.0/8", "tgw-0wide"), Route("10.2.0.0/16", "pcx-0peer"), Route("10.2.1.0/24", "igw-0")),
    )
    carried = routes.carrying(table, ipaddress.ip_network(HUB_CIDR))
    assert carried.route == Route("10.2.0.0/16", "pcx-0peer") and carried.reaches
    assert routes.carrying(table, ipaddress.ip_network("fd00::/8")).route is None


def hub_state(*, rules: tuple[object, ...] = (), endpoints: tuple[object, ...] | None = None) -> object:
    """The hub VPC as read: the SQS endpoint (ENIs 10.2.x), its group admitting `rules`."""
    base = state(rules or (tcp_rule(443, 443, cidr=CIDR),))  # type: ignore[arg-type]
    return replace(base, vpc_id=HUB.vpc_id, endpoints=endpoints if endpoints is not None else base.endpoints)


def with_hub(hub: object | None, tcp: TcpStatus = TcpStatus.OK, error: str = ""):  # type: ignore[no-untyped-def]
    side = spoke(Route(HUB_CIDR, "tgw-0abc"))
    side = replace(
        side, hubs={HUB.vpc_id: hub} if hub is not None else {}, hub_errors={HUB.vpc_id: error} if error else {}
    )  # type: ignore[type-var]
    return hub_facts(tcp=tcp, side=side)


def test_a_read_hub_with_its_endpoint_admitting_the_agent_is_healthy() -> None:
    f = with_hub(hub_state())
    assert f.aws is not None and f.aws.hub is not None and f.aws.hub.vpce is not None
    assert f.aws.hub.sg is not None and f.aws.hub.sg.verdict == "admits"
    assert judged(f) == []


def test_a_hub_without_the_endpoint_is_said() -> None:
    out = report(with_hub(hub_state(endpoints=())))
    (f,) = out.findings
    assert f.code is Code.HUB_ENDPOINT_MISSING and f.evidence["hub_vpc_id"] == HUB.vpc_id


def test_the_hub_groups_block_only_when_the_connects_timed_out() -> None:
    closed = hub_state(rules=(tcp_rule(443, 443, cidr="10.9.0.0/16"),))
    out = report(with_hub(closed, TcpStatus.TIMEOUT))
    (f,) = [f for f in out.findings if f.code is Code.HUB_SECURITY_GROUP_BLOCKS]
    assert f.evidence["timed_out"] == list(IN_HUB) and f.evidence["security_groups"]["verdict"] == "blocks"
    assert "HUB_SECURITY_GROUP_BLOCKS" not in judged(with_hub(closed))  # the packets went through: they win


def test_a_hub_that_cannot_be_read_is_unverified_not_absent() -> None:
    out = report(with_hub(None, error="AWS ec2:DescribeVpcs found nothing: no VPC vpc-0hub… in us-east-1"))
    (f,) = out.findings
    assert f.code is Code.HUB_UNVERIFIED and out.healthy and "found nothing" in f.evidence["error"]


def acl(acl_id: str, subnets: tuple[str, ...], *entries: NaclEntry) -> NetworkAcl:
    """A network ACL that allows everything both ways (rule 100) after `entries`."""
    allow = (NaclEntry(100, False, "-1", "allow", "0.0.0.0/0"), NaclEntry(100, True, "-1", "allow", "0.0.0.0/0"))
    return NetworkAcl(acl_id, False, subnets, (*entries, *allow))


def hub_with_acl(*entries: NaclEntry) -> object:
    """The hub as read: its SQS endpoint's ENIs hold IN_HUB in subnets h-a and h-b, whose ACL has `entries` first."""
    base = hub_state(rules=(tcp_rule(443, 443, cidr=CIDR),))
    enis = {
        "eni-a": Eni("eni-a", IN_HUB[0], "eu-west-1a", "subnet-ha"),
        "eni-b": Eni("eni-b", IN_HUB[1], "eu-west-1b", "subnet-hb"),
    }
    subnets = {
        "subnet-ha": Subnet("subnet-ha", "10.2.1.0/24", "eu-west-1a", "euw1-az1"),
        "subnet-hb": Subnet("subnet-hb", "10.2.2.0/24", "eu-west-1b", "euw1-az2"),
    }
    return replace(  # type: ignore[type-var]
        base, enis=enis, subnets=subnets, network_acls=(acl("acl-hub", ("subnet-ha", "subnet-hb"), *entries),)
    )


DENY_SPOKE_443 = NaclEntry(90, False, "6", "deny", "10.1.0.0/16", 443, 443)


def test_the_hub_endpoint_subnets_acl_that_drops_the_spoke_is_named_with_its_rule_when_connects_timed_out() -> None:
    """Issue 12, item 4: the hub's ENI subnets deny tcp/443 from the spoke (rule 90); the connects timed out."""
    out = report(with_hub(hub_with_acl(DENY_SPOKE_443), TcpStatus.TIMEOUT))
    found = [f for f in out.findings if f.code is Code.HUB_NACL_BLOCKS]
    assert {f.evidence["subnet_id"] for f in found} == {"subnet-ha", "subnet-hb"}, found
    for f in found:
        assert f.evidence["vpc"] == "hub" and f.evidence["network_acl_id"] == "acl-hub"
        assert f.evidence["rule"]["rule_number"] == 90 and f.evidence["direction"] == "inbound"
        assert f.evidence["hub_vpc_id"] == HUB.vpc_id and f.evidence["vpc_endpoint_id"] == "vpce-0aaa"
        assert "--network-acl-id acl-hub --ingress" in f.hint and "below 90" in f.hint
        assert "rule 90" in f.message


def test_the_hub_acl_is_not_an_error_when_the_connects_went_through() -> None:
    """The packets win: the ACL as read says "blocks", yet the connects succeeded."""
    assert "HUB_NACL_BLOCKS" not in judged(with_hub(hub_with_acl(DENY_SPOKE_443)))


def test_the_spoke_agent_subnets_acl_without_the_return_traffic_is_named() -> None:
    """The spoke's own ACL on the agent's subnet lets 443 out to the hub but denies the return traffic (rule 80)."""
    side = spoke(Route(HUB_CIDR, "tgw-0abc"))
    spoke_acl = acl("acl-spoke", ("subnet-a",), NaclEntry(80, False, "6", "deny", HUB_CIDR, 1024, 65535))
    side = replace(side, state=replace(side.state, network_acls=(spoke_acl,)), hubs={HUB.vpc_id: hub_with_acl()})  # type: ignore[attr-defined]
    out = report(hub_facts(tcp=TcpStatus.TIMEOUT, side=side))
    (f,) = [f for f in out.findings if f.code is Code.HUB_NACL_BLOCKS]
    assert (f.evidence["vpc"], f.evidence["network_acl_id"], f.evidence["leg"]) == ("spoke", "acl-spoke", "return")
    assert f.evidence["rule"]["rule_number"] == 80 and f.evidence["timed_out"] == list(IN_HUB)
    assert judged(with_hub(hub_with_acl(), TcpStatus.TIMEOUT)).count("HUB_NACL_BLOCKS") == 0
