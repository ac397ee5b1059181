"""The security group evaluator on hand-made groups: admits, blocks, or unknown when the facts leave it open."""

from __future__ import annotations

import pytest

from tests.judge.builders import state, tcp_rule
from vpc_verify.aws.model import Rule
from vpc_verify.aws.whereami import Place
from vpc_verify.evaluate.security_groups import agent_source, inbound


@pytest.mark.parametrize(
    ("rules", "place", "verdict"),
    [
        ((tcp_rule(443, 443, cidr="10.1.0.0/16"),), Place(address="10.1.1.5"), "admits"),
        ((tcp_rule(443, 443, cidr="10.1.9.0/24"),), Place(address="10.1.1.5"), "blocks"),
        ((tcp_rule(80, 80, cidr="0.0.0.0/0"),), Place(address="10.1.1.5"), "blocks"),
        ((Rule("sg-vpce", "-1", None, None, cidr="10.1.1.0/24"),), Place(subnet_id="subnet-a"), "admits"),
        ((tcp_rule(0, 65535, cidr="10.1.1.0/25"),), Place(subnet_id="subnet-a"), "unknown"),  # half the subnet
        ((tcp_rule(443, 443, cidr="10.1.1.0/25"),), Place(), "unknown"),  # somewhere in the VPC
        ((tcp_rule(443, 443, cidr="192.168.0.0/16"),), Place(), "blocks"),  # nowhere in the VPC
        ((tcp_rule(443, 443, source_group_id="sg-agent"),), Place(), "unknown"),
        ((tcp_rule(443, 443, source_group_id="sg-agent"),), Place(security_group_ids=("sg-agent",)), "admits"),
        ((tcp_rule(443, 443, source_group_id="sg-other"),), Place(security_group_ids=("sg-agent",)), "blocks"),
        ((tcp_rule(443, 443, prefix_list_id="pl-corp"),), Place(address="10.1.1.5"), "admits"),
        ((tcp_rule(443, 443, prefix_list_id="pl-unknown"),), Place(address="10.1.1.5"), "unknown"),
        ((), Place(address="10.1.1.5"), "blocks"),
    ],
)
def test_inbound_verdict(rules: tuple[Rule, ...], place: Place, verdict: str) -> None:
    vpc = state(rules)
    out = inbound(("sg-vpce",), vpc.security_groups, vpc.prefix_lists, agent_source(vpc, place), 443)
    assert out.verdict == verdict
    if verdict == "admits":
        assert out.admitting and out.admitting[0].group_id == "sg-vpce"


def test_unknown_groups_make_an_unknown_verdict_not_a_block() -> None:
    vpc = state(())
    out = inbound(("sg-gone",), vpc.security_groups, vpc.prefix_lists, agent_source(vpc, Place()), 443)
    assert out.verdict == "unknown"


def test_the_source_is_per_address_family() -> None:
    vpc = state()
    assert [str(n) for n in agent_source(vpc, Place(address="10.1.1.5"), 4).networks] == ["10.1.1.5/32"]
    assert agent_source(vpc, Place(address="10.1.1.5"), 6).precision == "vpc"  # no IPv6 known: the VPC's (none)
    assert [str(n) for n in agent_source(vpc, Place(subnet_id="subnet-b"), 4).networks] == ["10.1.2.0/24"]
