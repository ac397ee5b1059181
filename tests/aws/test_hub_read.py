"""A named hub VPC read from the spoke (issue 12, item 4): with the agent's own credentials, or through a
read-only role in the hub's account (sts:AssumeRole); a hub that cannot be read is unverified, not absent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.testbed import aws_seed
from vpc_verify.aws import clients
from vpc_verify.aws.control_plane import AwsControlPlane
from vpc_verify.aws.whereami import Place
from vpc_verify.topology import TopologyError, parse

SAME_ACCOUNT = "arn:aws:iam::123456789012:role/hub-read"
OTHER_ACCOUNT = "arn:aws:iam::210987654321:role/hub-read"


def spoke_topology(hs: aws_seed.HubSpokeFacts, **hub: Any) -> Any:
    return parse(
        {
            "version": 1,
            "region": "us-east-1",
            "vpc": {"id": hs.spoke.vpc_id},
            "hub": {"cidrs": list(hs.hub.cidrs), "vpc_id": hs.hub.vpc_id, **hub},
            "endpoints": [{"name": "sqs", "service": "com.amazonaws.us-east-1.sqs"}],
        }
    )


@pytest.fixture
def hub_and_spoke(ec2: Any) -> aws_seed.HubSpokeFacts:
    return aws_seed.seed_hub_and_spoke(ec2, clients.client("route53", "us-east-1"))


@pytest.mark.parametrize("role", [None, SAME_ACCOUNT])
def test_the_hub_is_read_with_the_agents_credentials_or_its_role(
    ec2: Any, hub_and_spoke: aws_seed.HubSpokeFacts, role: str | None
) -> None:
    hs = hub_and_spoke
    topo = spoke_topology(hs, **({"role_arn": role} if role else {}))
    facts = AwsControlPlane(ec2=ec2, place=Place(subnet_id=hs.spoke.agent_subnet_id, source="test")).read(topo)
    assert facts.hub_errors == {}
    hub = facts.hubs[hs.hub.vpc_id]
    assert {e.id for e in hub.endpoints} >= {hs.hub.interfaces["sqs"].vpce_id}


def test_a_hub_the_role_cannot_see_is_an_error_kept_for_the_judge(
    ec2: Any, hub_and_spoke: aws_seed.HubSpokeFacts
) -> None:
    hs = hub_and_spoke
    topo = spoke_topology(hs, role_arn=OTHER_ACCOUNT)  # the emulator's other account has no such VPC
    facts = AwsControlPlane(ec2=ec2, place=Place(subnet_id=hs.spoke.agent_subnet_id, source="test")).read(topo)
    assert facts.hubs == {} and hs.hub.vpc_id in facts.hub_errors[hs.hub.vpc_id]


def test_a_role_needs_the_hubs_vpc_id() -> None:
    with pytest.raises(TopologyError, match=r"hub\.vpc_id: .*role_arn"):
        parse({"version": 1, "hub": {"cidrs": ["10.1.0.0/16"], "role_arn": SAME_ACCOUNT}, "endpoints": []})
