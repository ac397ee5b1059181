"""Which VPC the agent runs in, for a check with no topology: the zero-configuration first command.

In order: `--vpc-id` or VPC_VERIFY_VPC_ID; the subnet the agent stands in (flags, environment, instance metadata:
DescribeSubnets says its VPC); a Lambda function's own VpcConfig (GetFunctionConfiguration); the address it has
(an ECS task's from the task metadata endpoint v4, a pod's from VPC_VERIFY_ADDRESS set from `status.podIP`): the
network interface holding it (DescribeNetworkInterfaces). Nothing found is a usage error saying what to pass.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from vpc_verify.aws.cache import StaticCache
from vpc_verify.aws.errors import calling
from vpc_verify.aws.whereami import Place
from vpc_verify.errors import UsageError

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

ECS_METADATA_TIMEOUT_S = 0.5
TAGS_TTL_S = 300.0  # a VPC's tags decide its class and exemptions: read again after five minutes
TAGS = StaticCache(ttl_s=TAGS_TTL_S)


class UnknownVpc(UsageError):
    """The agent could not tell which VPC it runs in."""


def own_vpc(ec2: EC2Client, place: Place, *, lambda_client: Any = None, env: Mapping[str, str] | None = None) -> str:
    """The id of the VPC the agent runs in (UnknownVpc when nothing tells it)."""
    env = os.environ if env is None else env
    if env.get("VPC_VERIFY_VPC_ID"):
        return env["VPC_VERIFY_VPC_ID"]
    subnets = place.candidate_subnets()
    if subnets:
        with calling("ec2", "DescribeSubnets"):
            found = ec2.describe_subnets(SubnetIds=[subnets[0]]).get("Subnets") or []
        if found and found[0].get("VpcId"):
            return str(found[0]["VpcId"])
    if place.function_name:
        vpc = _function_vpc(place, lambda_client, ec2)
        if vpc:
            return vpc
    if place.address:
        vpc = _vpc_of_address(ec2, place.address)
        if vpc:
            return vpc
    why = "; ".join(place.notes)
    raise UnknownVpc(
        "vpc-verify does not know which VPC it runs in: pass --vpc-id (or --topology/--policy with a VPC), or "
        "run it on EC2, in Lambda or in an ECS task" + (f" ({why})" if why else "")
    )


def _function_vpc(place: Place, lambda_client: Any, ec2: EC2Client) -> str | None:
    from vpc_verify.aws import clients

    client = lambda_client or clients.lambda_(str(ec2.meta.region_name))
    with calling("lambda", "GetFunctionConfiguration"):
        config = client.get_function_configuration(FunctionName=place.function_name or "")
    vpc = (config.get("VpcConfig") or {}).get("VpcId")
    if not vpc:
        raise UnknownVpc(f"the function {place.function_name} is not attached to a VPC: there is no VPC to check")
    return str(vpc)


def _vpc_of_address(ec2: EC2Client, address: str) -> str | None:
    filters = [{"Name": "addresses.private-ip-address", "Values": [address]}]
    with calling("ec2", "DescribeNetworkInterfaces"):
        found = ec2.describe_network_interfaces(Filters=filters).get("NetworkInterfaces") or []  # type: ignore[arg-type]
    vpcs = sorted({str(n["VpcId"]) for n in found if n.get("VpcId")})
    if len(vpcs) > 1:  # overlapping CIDRs: the address alone cannot tell
        raise UnknownVpc(f"{address} is an address in {', '.join(vpcs)}: pass --vpc-id")
    return vpcs[0] if vpcs else None


def ecs_place(env: Mapping[str, str] | None = None, timeout_s: float = ECS_METADATA_TIMEOUT_S) -> Place:
    """An ECS task's address and AZ from the task metadata endpoint v4 (ECS_CONTAINER_METADATA_URI_V4); an empty
    Place when not in a task or when it does not answer."""
    env = os.environ if env is None else env
    base = env.get("ECS_CONTAINER_METADATA_URI_V4")
    if not base:
        return Place()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # a link-local endpoint: never proxied
    try:
        with opener.open(base.rstrip("/") + "/task", timeout=timeout_s) as response:
            task = json.loads(response.read(1 << 20))
    except (OSError, ValueError) as exc:
        return Place(notes=(f"the ECS task metadata endpoint did not answer ({exc})",))
    address = None
    for container in task.get("Containers") or []:
        for network in container.get("Networks") or []:
            addresses = network.get("IPv4Addresses") or []
            if addresses and not address:
                address = str(addresses[0])
    zone = task.get("AvailabilityZone")
    return Place(address=address, az=str(zone) if zone else None, source="ecs")


def locate(
    subnet_id: str | None, az: str | None, security_group_ids: tuple[str, ...], env: Mapping[str, str] | None = None
) -> Place:
    """Where the agent stands (vpc_verify.aws.whereami.locate), an ECS task's metadata added."""
    from vpc_verify.aws import whereami

    env = os.environ if env is None else env
    place = whereami.locate(subnet_id, az, security_group_ids=security_group_ids, env=env)
    ecs = ecs_place(env)
    if ecs.source == "ecs":
        place = place.merged(ecs)
    elif ecs.notes:
        place = replace(place, notes=(*place.notes, *ecs.notes))
    return place


def vpc_tags(ec2: EC2Client, vpc_id: str, cache: StaticCache | None = TAGS) -> dict[str, str]:
    """The VPC's tags (its class and exemptions), kept `TAGS_TTL_S` between runs."""
    key = ("vpc-tags", str(ec2.meta.region_name), vpc_id)
    kept = cache.get(key) if cache is not None else None
    if isinstance(kept, dict):
        return dict(kept)
    with calling("ec2", "DescribeVpcs"):
        vpcs = ec2.describe_vpcs(VpcIds=[vpc_id]).get("Vpcs") or []
    tags = {str(t["Key"]): str(t.get("Value", "")) for v in vpcs for t in v.get("Tags") or [] if t.get("Key")}
    if cache is not None and vpcs:
        cache.put(key, tags)
    return tags
