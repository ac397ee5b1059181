"""Which VPC the agent runs in (vpc_verify.fleet.locate): its subnet, a Lambda function's VpcConfig, the address it
has (an ECS task's, from the task metadata endpoint served here on 127.0.0.1:0), or nothing, which is a usage
error saying what to pass. The VPC's tags are kept between runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.testbed import aws_seed
from tests.testbed.aws_seed import SeedFacts
from tests.testbed.task_metadata import serve as serve_task_metadata
from vpc_verify.aws.cache import StaticCache
from vpc_verify.aws.whereami import Place
from vpc_verify.fleet import locate

TASK = {
    "AvailabilityZone": "us-east-1b",
    "Containers": [{"Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": ["10.0.2.77"]}]}],
}


@pytest.fixture
def task_metadata() -> Iterator[str]:
    """An ECS task metadata endpoint v4 on loopback: GET <base>/task answers TASK."""
    with serve_task_metadata(TASK) as base:
        yield base


def test_an_ecs_task_says_its_address_and_az(task_metadata: str) -> None:
    place = locate.ecs_place({"ECS_CONTAINER_METADATA_URI_V4": task_metadata})
    assert (place.address, place.az, place.source) == ("10.0.2.77", "us-east-1b", "ecs")
    assert locate.ecs_place({}) == Place()


def test_a_silent_task_metadata_endpoint_is_a_note(task_metadata: str) -> None:
    place = locate.ecs_place({"ECS_CONTAINER_METADATA_URI_V4": task_metadata + "/nothing-here"})
    assert place.address is None and place.notes and "did not answer" in place.notes[0]


def test_the_vpc_from_the_subnet_the_environment_or_nothing(ec2: Any, seeded: SeedFacts) -> None:
    assert locate.own_vpc(ec2, Place(subnet_id=seeded.agent_subnet_id), env={}) == seeded.vpc_id
    assert locate.own_vpc(ec2, Place(), env={"VPC_VERIFY_VPC_ID": "vpc-0feedfacefeedface"}) == "vpc-0feedfacefeedface"
    with pytest.raises(locate.UnknownVpc) as info:
        locate.own_vpc(ec2, Place(notes=("no instance metadata",)), env={})
    assert "pass --vpc-id" in str(info.value) and "(no instance metadata)" in str(info.value)


def test_the_vpc_of_a_lambda_function_from_its_configuration(ec2: Any, seeded: SeedFacts) -> None:
    c = {n: boto3.client(n, region_name="us-east-1") for n in ("lambda", "iam")}
    facts = aws_seed.add_lambda({"ec2": ec2, **c}, seeded)
    assert facts.function is not None
    place = Place(function_name=facts.function.function_name)
    assert locate.own_vpc(ec2, place, lambda_client=c["lambda"], env={}) == seeded.vpc_id


def test_the_vpc_of_an_address(ec2: Any, seeded: SeedFacts) -> None:
    address = next(iter(seeded.interfaces["sqs"].addresses))  # an address some interface in the VPC holds
    assert locate.own_vpc(ec2, Place(address=address), env={}) == seeded.vpc_id
    assert locate._vpc_of_address(ec2, "10.99.99.99") is None


def test_the_vpcs_tags_are_kept(ec2: Any, seeded: SeedFacts) -> None:
    ec2.create_tags(Resources=[seeded.vpc_id], Tags=[{"Key": "environment", "Value": "prod"}])
    cache = StaticCache(ttl_s=300)
    assert locate.vpc_tags(ec2, seeded.vpc_id, cache)["environment"] == "prod"
    ec2.create_tags(Resources=[seeded.vpc_id], Tags=[{"Key": "environment", "Value": "dev"}])
    assert locate.vpc_tags(ec2, seeded.vpc_id, cache)["environment"] == "prod"  # kept: no second DescribeVpcs
    assert locate.vpc_tags(ec2, seeded.vpc_id, None)["environment"] == "dev"


def test_where_the_agent_stands_includes_an_ecs_tasks_address(task_metadata: str) -> None:
    env = {"ECS_CONTAINER_METADATA_URI_V4": task_metadata, "AWS_EC2_METADATA_DISABLED": "true"}
    place = locate.locate(None, None, (), env=env)
    assert place.address == "10.0.2.77" and place.az == "us-east-1b"
    silent = {"ECS_CONTAINER_METADATA_URI_V4": task_metadata + "/nothing-here", "AWS_EC2_METADATA_DISABLED": "true"}
    assert any("did not answer" in n for n in locate.locate(None, None, (), env=silent).notes)
