"""Network ACLs and the whole path on hand-made facts: rule-number order, first match decides, the final deny,
stateless return traffic to the agent's ephemeral ports, the same subnet skipped, per address family, and
"unknown" (never "blocks") where the facts leave it open."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from tests.judge.builders import state
from vpc_verify.aws.model import NaclEntry, NetworkAcl, Rule, SecurityGroup, Subnet
from vpc_verify.aws.whereami import Place
from vpc_verify.evaluate import nacl, path
from vpc_verify.evaluate.security_groups import Destination, outbound

SUBNET = [ipaddress.ip_network("10.1.1.0/24")]
AGENT = [ipaddress.ip_network("10.1.1.5/32")]


def acl(*entries: NaclEntry, subnets: tuple[str, ...] = ("subnet-b",), default: bool = False) -> NetworkAcl:
    return NetworkAcl("acl-1", default, subnets, entries)


def entry(number: int, action: str, cidr: str, ports: tuple[int, int] | None = (443, 443), *, egress: bool = False):
    low, high = ports if ports else (None, None)
    return NaclEntry(number, egress, "6" if ports else "-1", action, cidr, low, high)


FINAL = (NaclEntry(32767, False, "-1", "deny", "0.0.0.0/0"), NaclEntry(32767, True, "-1", "deny", "0.0.0.0/0"))


def test_rules_are_evaluated_in_rule_number_order_and_the_first_match_decides() -> None:
    rules = acl(entry(100, "allow", "10.1.0.0/16"), entry(90, "deny", "10.1.1.0/24"), *FINAL)
    v = nacl.evaluate(rules, subnet_id="subnet-b", direction="inbound", peer=AGENT, ports=(443, 443))
    assert v.verdict == "blocks" and v.entry is not None and v.entry.rule_number == 90
    assert "inbound rule 90 (deny tcp/443 from 10.1.1.0/24)" in v.describe()


def test_nothing_admits_means_the_final_deny() -> None:
    v = nacl.evaluate(
        acl(entry(100, "allow", "10.9.0.0/16"), *FINAL),
        subnet_id="subnet-b",
        direction="inbound",
        peer=AGENT,
        ports=(443, 443),
    )
    assert v.verdict == "blocks" and v.entry is not None and v.entry.rule_number == 32767
    empty = nacl.evaluate(acl(), subnet_id="subnet-b", direction="inbound", peer=AGENT, ports=(443, 443))
    assert empty.verdict == "blocks" and empty.entry is None and "final * rule" in empty.describe()


@pytest.mark.parametrize(
    ("rules", "peer", "ports", "verdict"),
    [
        ((entry(100, "allow", "10.1.1.0/25"),), SUBNET, (443, 443), "unknown"),  # half of where the agent may be
        ((entry(100, "allow", "10.1.1.0/25"),), AGENT, (443, 443), "admits"),
        ((entry(100, "allow", "0.0.0.0/0", (32768, 65535)),), AGENT, (1024, 65535), "unknown"),  # Lambda's range
        ((entry(100, "allow", "0.0.0.0/0", (32768, 65535)),), AGENT, (32768, 60999), "admits"),  # Linux's
        ((entry(100, "allow", "0.0.0.0/0", None),), AGENT, (1024, 65535), "admits"),  # protocol -1: every port
        ((entry(100, "allow", "::/0", None),), AGENT, (443, 443), "blocks"),  # an IPv6 entry: not for IPv4
    ],
)
def test_coverage(rules: tuple[NaclEntry, ...], peer: list, ports: tuple[int, int], verdict: str) -> None:
    v = nacl.evaluate(acl(*rules), subnet_id="subnet-b", direction="inbound", peer=peer, ports=ports)
    assert v.verdict == verdict


def test_an_acl_that_was_not_read_is_unknown() -> None:
    assert nacl.evaluate(None, subnet_id="s", direction="inbound", peer=AGENT, ports=(443, 443)).verdict == "unknown"


def _vpc(acls: tuple[NetworkAcl, ...], agent_egress: tuple[Rule, ...] = ()) -> object:
    base = state()
    groups = {**base.security_groups, "sg-agent": SecurityGroup("sg-agent", "agent", (), agent_egress)}
    return replace(base, network_acls=acls, security_groups=groups)


ALLOW_ALL = (
    entry(100, "allow", "0.0.0.0/0", None),
    entry(100, "allow", "0.0.0.0/0", None, egress=True),
    *FINAL,
)


def test_the_path_passes_four_times_through_two_subnets_and_names_the_return_leg() -> None:
    """Endpoint subnet b admits 443 in but lets only 32768-65535 out: the agent (EC2, ports 32768-60999) is
    fine, a Lambda (ports 1024-65535) may not be; a deny of the return traffic is named as such."""
    open_a = acl(*ALLOW_ALL, subnets=("subnet-a",), default=True)
    b = replace(
        acl(
            entry(100, "allow", "10.1.0.0/16"), entry(100, "allow", "10.1.0.0/16", (32768, 65535), egress=True), *FINAL
        ),
        id="acl-b",
    )
    vpc = _vpc((open_a, b))
    ec2 = Place(address="10.1.1.5", subnet_id="subnet-a", ephemeral_ports=(32768, 60999))
    p = path.evaluate(vpc, ec2, vpc.endpoints[0], "10.1.2.10", 443, vpc.enis["eni-b"])
    assert [(v.subnet_id, v.direction, v.leg, v.verdict) for v in p.nacls] == [
        ("subnet-a", "outbound", "request", "admits"),
        ("subnet-a", "inbound", "return", "admits"),
        ("subnet-b", "inbound", "request", "admits"),
        ("subnet-b", "outbound", "return", "admits"),
    ]
    lam = Place(subnet_id="subnet-a", function_name="f")
    assert path.evaluate(vpc, lam, vpc.endpoints[0], "10.1.2.10", 443, vpc.enis["eni-b"]).nacl_verdict() == "unknown"
    closed = replace(b, entries=(entry(100, "allow", "10.1.0.0/16"), *FINAL))
    p = path.evaluate(_vpc((open_a, closed)), ec2, vpc.endpoints[0], "10.1.2.10", 443, vpc.enis["eni-b"])
    (blocked,) = p.blocked_nacls()
    assert (blocked.acl_id, blocked.direction, blocked.leg, blocked.entry.rule_number) == (
        "acl-b",
        "outbound",
        "return",
        32767,
    )


def test_the_same_subnet_is_not_evaluated() -> None:
    deny_all = acl(*FINAL, subnets=("subnet-a",), default=True)
    vpc = _vpc((deny_all,))
    p = path.evaluate(
        vpc, Place(address="10.1.1.5", subnet_id="subnet-a"), vpc.endpoints[0], "10.1.1.10", 443, vpc.enis["eni-a"]
    )
    assert p.same_subnet and p.nacls == () and p.nacl_verdict() == "admits" and not p.blocks()


def test_a_lambda_in_several_subnets_is_blocked_only_where_every_subnet_agrees() -> None:
    base = state()
    subnets = {**base.subnets, "subnet-c": Subnet("subnet-c", "10.1.3.0/24", "eu-west-1c", "euw1-az3")}
    closed_c = acl(*FINAL, subnets=("subnet-c",))
    open_rest = replace(acl(*ALLOW_ALL, subnets=("subnet-a", "subnet-b"), default=True), id="acl-open")
    vpc = replace(base, subnets=subnets, network_acls=(closed_c, open_rest))
    lam = Place(subnet_ids=("subnet-a", "subnet-c"), function_name="f")
    p = path.evaluate(vpc, lam, vpc.endpoints[0], "10.1.2.10", 443, vpc.enis["eni-b"])
    assert not p.blocked_nacls() and p.nacl_verdict() == "unknown"
    only_c = replace(lam, subnet_ids=("subnet-c",))
    assert path.evaluate(vpc, only_c, vpc.endpoints[0], "10.1.2.10", 443, vpc.enis["eni-b"]).blocked_nacls()


def test_agent_egress_to_a_prefix_list_and_to_the_endpoint_group() -> None:
    vpc = state()
    to_pl = (Rule("sg-agent", "tcp", 443, 443, prefix_list_id="pl-s3"),)
    to_group = (Rule("sg-agent", "tcp", 443, 443, source_group_id="sg-vpce"),)
    groups = {"sg-agent": SecurityGroup("sg-agent", "agent", (), to_pl)}
    s3 = Destination((ipaddress.ip_network("52.216.0.10/32"),), ())
    assert outbound(("sg-agent",), groups, vpc.prefix_lists, s3, 443).verdict == "admits"
    sqs = Destination((ipaddress.ip_network("10.1.2.10/32"),), ("sg-vpce",))
    assert outbound(("sg-agent",), groups, vpc.prefix_lists, sqs, 443).verdict == "blocks"
    groups = {"sg-agent": SecurityGroup("sg-agent", "agent", (), to_group)}
    assert outbound(("sg-agent",), groups, vpc.prefix_lists, sqs, 443).verdict == "admits"
    assert outbound(("sg-agent",), groups, vpc.prefix_lists, s3, 443).verdict == "blocks"
    assert outbound(("sg-gone",), groups, vpc.prefix_lists, s3, 443).verdict == "unknown"
