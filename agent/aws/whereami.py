"""Where the agent runs: its address, subnet, AZ and security groups.

Sources, first wins per fact: the command line (`--subnet-id`, `--az`), the environment
(VPC_VERIFY_SUBNET_ID, VPC_VERIFY_AZ, VPC_VERIFY_ADDRESS, VPC_VERIFY_SECURITY_GROUP_IDS), the Lambda
environment, and the EC2 instance metadata service (IMDSv2, short timeouts). The metadata service is never
asked when AWS_EC2_METADATA_DISABLED is true, nor inside Lambda (which has none). `complete` then fills
what the control plane can tell (the subnet of the address, the AZ of the subnet, the groups of the ENI).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from vpc_verify.aws.errors import AwsError
from vpc_verify.aws.model import VpcState

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

IMDS_URL = "http://169.254.169.254"
IMDS_TIMEOUT_S = 0.5
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Place:
    """What the agent knows of where it runs; any fact may be unknown (None / empty)."""

    address: str | None = None
    subnet_id: str | None = None
    az: str | None = None
    security_group_ids: tuple[str, ...] = ()
    instance_id: str | None = None
    function_name: str | None = None
    source: str = "unknown"  # flags, env, lambda, imds, or a '+'-joined mix

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the report's `agent` section."""
        out: dict[str, Any] = {"source": self.source}
        for key in ("address", "subnet_id", "az", "instance_id", "function_name"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.security_group_ids:
            out["security_group_ids"] = list(self.security_group_ids)
        return out

    def merged(self, other: Place) -> Place:
        """This place with the facts it lacks taken from `other`."""
        sources = [s for s in (self.source, other.source) if s and s != "unknown"]
        return Place(
            address=self.address or other.address,
            subnet_id=self.subnet_id or other.subnet_id,
            az=self.az or other.az,
            security_group_ids=self.security_group_ids or other.security_group_ids,
            instance_id=self.instance_id or other.instance_id,
            function_name=self.function_name or other.function_name,
            source="+".join(dict.fromkeys(sources)) or "unknown",
        )


def locate(
    subnet_id: str | None = None, az: str | None = None, *, env: Mapping[str, str] | None = None, imds: bool = True
) -> Place:
    """Where the agent runs, from the flags, the environment and (unless disabled) the metadata service."""
    env = os.environ if env is None else env
    place = Place(subnet_id=subnet_id or None, az=az or None, source="flags" if subnet_id or az else "unknown")
    place = place.merged(_from_env(env))
    if env.get("AWS_LAMBDA_FUNCTION_NAME"):
        return place.merged(Place(function_name=env["AWS_LAMBDA_FUNCTION_NAME"], source="lambda"))
    if imds and not metadata_disabled(env) and not (place.address and place.subnet_id and place.az):
        place = place.merged(from_imds())
    return place


def metadata_disabled(env: Mapping[str, str] | None = None) -> bool:
    """True when AWS_EC2_METADATA_DISABLED says the metadata service must not be asked (boto3's own switch)."""
    env = os.environ if env is None else env
    return env.get("AWS_EC2_METADATA_DISABLED", "").strip().lower() in _TRUE


def _from_env(env: Mapping[str, str]) -> Place:
    groups = tuple(g.strip() for g in env.get("VPC_VERIFY_SECURITY_GROUP_IDS", "").split(",") if g.strip())
    place = Place(
        address=env.get("VPC_VERIFY_ADDRESS") or None,
        subnet_id=env.get("VPC_VERIFY_SUBNET_ID") or None,
        az=env.get("VPC_VERIFY_AZ") or None,
        security_group_ids=groups,
    )
    known = place.address or place.subnet_id or place.az or place.security_group_ids
    return replace(place, source="env" if known else "unknown")


def from_imds(timeout_s: float = IMDS_TIMEOUT_S) -> Place:
    """Ask the EC2 instance metadata service (IMDSv2); an unknown Place when it does not answer."""
    if metadata_disabled():
        return Place()
    token = _imds("PUT", "/latest/api/token", None, timeout_s, {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    if token is None:
        return Place()

    def get(path: str) -> str | None:
        return _imds("GET", f"/latest/meta-data/{path}", token, timeout_s)

    mac = get("mac")
    groups: tuple[str, ...] = ()
    subnet = None
    if mac:
        subnet = get(f"network/interfaces/macs/{mac}/subnet-id")
        raw = get(f"network/interfaces/macs/{mac}/security-group-ids") or ""
        groups = tuple(g for g in raw.split() if g)
    return Place(
        address=get("local-ipv4"),
        subnet_id=subnet,
        az=get("placement/availability-zone"),
        security_group_ids=groups,
        instance_id=get("instance-id"),
        source="imds",
    )


def _imds(
    method: str, path: str, token: str | None, timeout_s: float, headers: Mapping[str, str] | None = None
) -> str | None:
    all_headers = dict(headers or {})
    if token:
        all_headers["X-aws-ec2-metadata-token"] = token
    import urllib.error  # only on EC2 without a place given: not on the way to the first packet
    import urllib.request

    request = urllib.request.Request(IMDS_URL + path, method=method, headers=all_headers)
    # The metadata service is link-local: no proxy may stand in between.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout_s) as response:
            return str(response.read(4096).decode("utf-8", "replace")).strip() or None
    except (OSError, urllib.error.URLError, ValueError):
        return None


def source_address_towards(address: str) -> str | None:
    """The local address the kernel would use to reach `address` (a UDP connect: no packet is sent)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect((address, 53))
            local = str(s.getsockname()[0])
    except OSError:
        return None
    return None if local in ("0.0.0.0", "::") or local == address else local


def complete(ec2: EC2Client, vpc_state: VpcState, place: Place) -> Place:
    """Fill what the control plane can tell about the agent: its subnet from its address, its AZ from its
    subnet, its security groups from its ENI (or, in Lambda, from the function's VPC configuration)."""
    from vpc_verify.aws.read import agent_interface

    if place.function_name and not (place.subnet_id and place.security_group_ids):
        place = place.merged(_lambda_place(vpc_state, place.function_name))
    if place.address and not place.subnet_id:
        subnet = vpc_state.subnet_of_address(place.address)
        if subnet is not None:
            place = replace(place, subnet_id=subnet.id)
    if place.subnet_id and not place.az and place.subnet_id in vpc_state.subnets:
        place = replace(place, az=vpc_state.subnets[place.subnet_id].az)
    if place.address and not place.security_group_ids:
        try:
            found = agent_interface(ec2, vpc_state.vpc_id, place.address)
        except AwsError:
            found = None  # a missing permission for this lookup costs precision, not the run
        if found is not None:
            place = replace(place, subnet_id=place.subnet_id or found[0], security_group_ids=found[1])
    return place


def _lambda_place(vpc_state: VpcState, function_name: str) -> Place:
    from vpc_verify.aws import clients

    address = None
    v4 = [c for c in vpc_state.cidrs if c.version == 4]
    if v4:
        address = source_address_towards(str(v4[0].network_address + 2))
    groups: tuple[str, ...] = ()
    try:
        config = clients.lambda_(vpc_state.region).get_function_configuration(FunctionName=function_name)
        groups = tuple((config.get("VpcConfig") or {}).get("SecurityGroupIds") or [])
    except Exception:  # lambda:GetFunctionConfiguration is optional precision, never a failure
        groups = ()
    return Place(address=address, security_group_ids=groups, source="lambda")
