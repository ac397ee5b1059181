"""Where the agent runs: its addresses, subnet, AZ (by id) and security groups, checked against the VPC.

Sources, first wins per fact: the command line (`--subnet-id`, `--az`, `--security-group-id`), the
environment (VPC_VERIFY_SUBNET_ID, VPC_VERIFY_SUBNET_IDS: the subnets it may be in, VPC_VERIFY_AZ,
VPC_VERIFY_ADDRESS, VPC_VERIFY_SECURITY_GROUP_IDS), then the platform:

- Lambda (AWS_LAMBDA_FUNCTION_NAME): the function runs in a Lambda-owned VPC and reaches this one through a
  Hyperplane ENI in its subnets, with its security groups; its only local address is link-local
  (169.254.x.x), which matches no rule and is never used as its source. The AZ id comes from the Lambda
  metadata endpoint (AWS_LAMBDA_METADATA_API, AWS_LAMBDA_METADATA_TOKEN); the function's subnets and groups
  from the environment (the template sets them), else `complete` reads them (GetFunctionConfiguration, one
  connect first: no Lambda API route costs a note, not the run); the subnet of its AZ, else all of them.
- EC2: the instance metadata service, IMDSv2 only, short timeouts, never when AWS_EC2_METADATA_DISABLED is
  true. IPv4 endpoint 169.254.169.254, else the IPv6 one [fd00:ec2::254] (IPv6-only Nitro instances);
  AWS_EC2_METADATA_SERVICE_ENDPOINT / _ENDPOINT_MODE=IPv6 choose as the SDKs do. A token request that gets
  no answer is explained (in a container the PUT response needs a hop limit of 2).

`complete` then fills what the control plane can tell (the subnet of an address, the AZ of a subnet, the
groups of an ENI) and refuses a subnet that is not in the VPC (PlaceError: a usage error, exit 2).
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from vpc_verify.aws.errors import AwsError
from vpc_verify.aws.model import VpcState
from vpc_verify.errors import UsageError
from vpc_verify.logs import get_logger

if TYPE_CHECKING:
    import urllib.request

    from mypy_boto3_ec2 import EC2Client

IMDS_URL = "http://169.254.169.254"
IMDS_IPV6_URL = "http://[fd00:ec2::254]"
IMDS_TIMEOUT_S = 0.5
LAMBDA_METADATA_PATH = "/2026-01-15/metadata/execution-environment"
LAMBDA_METADATA_TIMEOUT_S = 0.5
# The client picks the ephemeral port of the return traffic a network ACL must admit: AWS Lambda functions
# use 1024-65535 (Amazon VPC, "Ephemeral ports"), which is also the safe assumption when the range is unknown.
LAMBDA_EPHEMERAL_PORTS = (1024, 65535)
UNKNOWN_EPHEMERAL_PORTS = (1024, 65535)
_TRUE = {"1", "true", "yes", "on"}
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}
_AZ_ID = re.compile(r"^[a-z0-9]+-az\d+$")
HOP_LIMIT_FIX = (
    "aws ec2 modify-instance-metadata-options --instance-id <instance id> --http-put-response-hop-limit 2 "
    "--http-endpoint enabled"
)


class PlaceError(UsageError):
    """Where the agent was told it stands is not in the VPC (a subnet or security group of another VPC)."""


@dataclass(frozen=True, slots=True)
class Place:
    """What the agent knows of where it runs; any fact may be unknown (None / empty)."""

    address: str | None = None  # its IPv4 address in the VPC (or its only one)
    subnet_id: str | None = None
    az: str | None = None  # the AZ name as this account names it
    security_group_ids: tuple[str, ...] = ()
    instance_id: str | None = None
    function_name: str | None = None
    source: str = "unknown"  # flags, env, lambda, imds, or a '+'-joined mix
    ipv6_address: str | None = None
    az_id: str | None = None  # the AZ id (use1-az1): the same zone in every account
    subnet_ids: tuple[str, ...] = ()  # where the agent may be when subnet_id is unknown (a Lambda's subnets)
    ephemeral_ports: tuple[int, int] | None = None  # the client's source port range (return traffic)
    notes: tuple[str, ...] = ()  # why a fact is unknown (a metadata request that failed, ...)

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the report's `agent` section."""
        out: dict[str, Any] = {"source": self.source}
        for key in ("address", "ipv6_address", "subnet_id", "az", "az_id", "instance_id", "function_name"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.subnet_ids and not self.subnet_id:
            out["subnet_ids"] = list(self.subnet_ids)
        if self.security_group_ids:
            out["security_group_ids"] = list(self.security_group_ids)
        if self.notes:
            out["notes"] = list(self.notes)
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
            ipv6_address=self.ipv6_address or other.ipv6_address,
            az_id=self.az_id or other.az_id,
            subnet_ids=self.subnet_ids or other.subnet_ids,
            ephemeral_ports=self.ephemeral_ports or other.ephemeral_ports,
            notes=tuple(dict.fromkeys(self.notes + other.notes)),
        )

    def candidate_subnets(self) -> tuple[str, ...]:
        """The subnet the agent is in, else those it may be in (a Lambda's subnets when its AZ is unknown)."""
        return (self.subnet_id,) if self.subnet_id else self.subnet_ids

    def return_ports(self) -> tuple[int, int]:
        """The ephemeral port range of the agent's connections (what return traffic is addressed to)."""
        if self.function_name:
            return LAMBDA_EPHEMERAL_PORTS
        return self.ephemeral_ports or UNKNOWN_EPHEMERAL_PORTS

    def missing(self) -> tuple[str, ...]:
        """What vpc-verify does not know about where the agent stands, each with how to tell it."""
        out = []
        if not self.candidate_subnets():
            out.append("its subnet (pass --subnet-id)")
        if not self.security_group_ids:
            out.append("its security groups (pass --security-group-id)")
        if not (self.az or self.az_id) and not self.subnet_id:
            out.append("its availability zone (pass --az)")
        return tuple(out)

    def describe_missing(self) -> str:
        """One sentence for messages: what is unknown, how to tell it, and why it is unknown ("" when known)."""
        missing = self.missing()
        if not missing:
            return ""
        text = "vpc-verify does not know " + ", ".join(missing)
        if self.notes:
            text += "; " + "; ".join(self.notes)
        return text


def locate(
    subnet_id: str | None = None,
    az: str | None = None,
    *,
    security_group_ids: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
    imds: bool = True,
) -> Place:
    """Where the agent runs, from the flags, the environment and (unless disabled) the platform's metadata."""
    env = os.environ if env is None else env
    given = bool(subnet_id or az or security_group_ids)
    name, zone_id = _az_fields(az)
    place = Place(
        subnet_id=subnet_id or None,
        security_group_ids=tuple(security_group_ids),
        source="flags" if given else "unknown",
        az=name,
        az_id=zone_id,
    )
    place = place.merged(_from_env(env))
    if env.get("AWS_LAMBDA_FUNCTION_NAME"):
        return place.merged(from_lambda(env))
    if imds and not metadata_disabled(env) and not (place.address and place.subnet_id and (place.az or place.az_id)):
        place = place.merged(from_imds(env=env))
    return place.merged(Place(ephemeral_ports=_local_port_range()))


def metadata_disabled(env: Mapping[str, str] | None = None) -> bool:
    """True when AWS_EC2_METADATA_DISABLED says the metadata service must not be asked (boto3's own switch)."""
    env = os.environ if env is None else env
    return env.get("AWS_EC2_METADATA_DISABLED", "").strip().lower() in _TRUE


def _az_fields(az: str | None) -> tuple[str | None, str | None]:
    """(name, id): `--az` takes a name (us-east-1a) or an id (use1-az1)."""
    if not az:
        return None, None
    return (None, az) if _AZ_ID.match(az) else (az, None)


def _from_env(env: Mapping[str, str]) -> Place:
    groups = tuple(g.strip() for g in env.get("VPC_VERIFY_SECURITY_GROUP_IDS", "").split(",") if g.strip())
    address = env.get("VPC_VERIFY_ADDRESS") or None
    name, zone_id = _az_fields(env.get("VPC_VERIFY_AZ"))
    place = Place(
        address=address if address and ":" not in address else None,
        ipv6_address=address if address and ":" in address else None,
        subnet_id=env.get("VPC_VERIFY_SUBNET_ID") or None,
        subnet_ids=tuple(s.strip() for s in env.get("VPC_VERIFY_SUBNET_IDS", "").split(",") if s.strip()),
        security_group_ids=groups,
        az=name,
        az_id=zone_id,
    )
    known = place.address or place.ipv6_address or place.candidate_subnets() or place.az or place.az_id or groups
    return replace(place, source="env" if known else "unknown")


# ------------------------------------------------------------------------------------------------ Lambda


def from_lambda(env: Mapping[str, str] | None = None, timeout_s: float = LAMBDA_METADATA_TIMEOUT_S) -> Place:
    """The function's name and, from the Lambda metadata endpoint, the id of the AZ it runs in."""
    env = os.environ if env is None else env
    place = Place(function_name=env.get("AWS_LAMBDA_FUNCTION_NAME") or None, source="lambda")
    api, token = env.get("AWS_LAMBDA_METADATA_API"), env.get("AWS_LAMBDA_METADATA_TOKEN")
    if not api or not token:
        return replace(
            place, notes=("the Lambda metadata endpoint is not offered here: the AZ comes from the subnets",)
        )
    import urllib.request

    request = urllib.request.Request(
        f"http://{api}{LAMBDA_METADATA_PATH}", headers={"Authorization": f"Bearer {token}"}, method="GET"
    )
    text, error = _fetch(request, timeout_s)
    az_id = None
    if text is not None:
        try:
            az_id = str(json.loads(text).get("AvailabilityZoneID") or "") or None
        except (ValueError, AttributeError):
            error = "an answer that is not the expected JSON"
    if az_id is None:
        note = f"the Lambda metadata endpoint gave no AZ id ({error or 'no AvailabilityZoneID'})"
        get_logger(component="whereami").warning("lambda_metadata_failed", detail=note)
        return replace(place, notes=(note,))
    return replace(place, az_id=az_id)


# ------------------------------------------------------------------------------------------------ EC2 IMDS


def from_imds(timeout_s: float = IMDS_TIMEOUT_S, env: Mapping[str, str] | None = None) -> Place:
    """Ask the EC2 instance metadata service (IMDSv2); an unknown Place, with a note saying why, when it does
    not answer."""
    env = os.environ if env is None else env
    if metadata_disabled(env):
        return Place()
    token, base, why = None, "", ""
    for base in _imds_bases(env):
        token, why = _imds(
            "PUT", base, "/latest/api/token", None, timeout_s, {"X-aws-ec2-metadata-token-ttl-seconds": "60"}
        )
        if token is not None or why not in ("unreachable", "refused"):
            break  # an answer, or a timeout (something is there but the answer is lost): no point in another
    if token is None:
        note = _token_note(why, timeout_s)
        get_logger(component="whereami").warning("imds_token_failed", endpoint=base, error=why, detail=note)
        return Place(notes=(note,))

    def get(path: str) -> str | None:
        return _imds("GET", base, f"/latest/meta-data/{path}", token, timeout_s)[0]

    mac = get("mac")
    groups: tuple[str, ...] = ()
    subnet = None
    if mac:
        subnet = get(f"network/interfaces/macs/{mac}/subnet-id")
        raw = get(f"network/interfaces/macs/{mac}/security-group-ids") or ""
        groups = tuple(g for g in raw.split() if g)
    return Place(
        address=get("local-ipv4"),
        ipv6_address=get("ipv6"),
        subnet_id=subnet,
        az=get("placement/availability-zone"),
        az_id=get("placement/availability-zone-id"),
        security_group_ids=groups,
        instance_id=get("instance-id"),
        source="imds",
    )


def _imds_bases(env: Mapping[str, str]) -> tuple[str, ...]:
    """The metadata endpoints to try, in order, as the AWS SDKs choose them."""
    if env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT"):
        return (env["AWS_EC2_METADATA_SERVICE_ENDPOINT"].rstrip("/"),)
    if env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "").strip().lower() == "ipv6":
        return (IMDS_IPV6_URL,)
    return (IMDS_URL, IMDS_IPV6_URL)  # an IPv6-only instance has no route to the IPv4 one


def _token_note(why: str, timeout_s: float) -> str:
    if why == "timeout":
        return (
            f"the instance metadata service did not answer the IMDSv2 token request within {timeout_s:g} s: in a "
            f"container the answer needs a hop limit of 2 ({HOP_LIMIT_FIX}); outside EC2, pass --subnet-id and "
            "--security-group-id"
        )
    if why in ("unreachable", "refused"):
        return "no instance metadata service answers here (not on EC2?): pass --subnet-id and --security-group-id"
    return f"the instance metadata service refused the IMDSv2 token request ({why}): is its HTTP endpoint enabled?"


def _imds(
    method: str,
    base: str,
    path: str,
    token: str | None,
    timeout_s: float,
    headers: Mapping[str, str] | None = None,
) -> tuple[str | None, str]:
    """(text, "") or (None, why): timeout, unreachable, refused, or the HTTP status."""
    all_headers = dict(headers or {})
    if token:
        all_headers["X-aws-ec2-metadata-token"] = token
    import urllib.request  # only where a place is looked up: not on the way to the first packet

    return _fetch(urllib.request.Request(base + path, method=method, headers=all_headers), timeout_s)


def _fetch(request: urllib.request.Request, timeout_s: float) -> tuple[str | None, str]:
    import urllib.error
    import urllib.request

    # The metadata services are link-local: no proxy may stand in between.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout_s) as response:
            return str(response.read(4096).decode("utf-8", "replace")).strip() or None, ""
    except urllib.error.HTTPError as exc:
        return None, f"HTTP {exc.code}"
    except urllib.error.URLError as exc:
        return None, _why(exc.reason)
    except (OSError, ValueError) as exc:
        return None, _why(exc)


def _why(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timeout"
    if isinstance(reason, ConnectionRefusedError):
        return "refused"
    if isinstance(reason, OSError) and reason.errno in _UNREACHABLE:
        return "unreachable"
    return "timeout" if "timed out" in str(reason) else "unreachable"


def _local_port_range() -> tuple[int, int] | None:
    """This host's ephemeral port range (Linux), which return traffic through a network ACL is addressed to."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split()[:2])
    except (OSError, ValueError):
        return None
    return (low, high) if 0 < low <= high <= 65535 else None


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


# ------------------------------------------------------------------------------------------ with the VPC


def complete(ec2: EC2Client, vpc_state: VpcState, place: Place, *, lambda_client: Any = None) -> Place:
    """Check the place against the VPC and fill what the control plane can tell: the subnet of an address,
    the AZ (name and id) of a subnet, the groups of an ENI, a Lambda's subnets and groups.

    Raises PlaceError when the subnet the agent was told it is in is not a subnet of the VPC.
    """
    from vpc_verify.aws.read import agent_interface

    for subnet_id in (place.subnet_id, *place.subnet_ids):
        if subnet_id and subnet_id not in vpc_state.subnets:
            raise PlaceError(
                f"subnet {subnet_id} (the agent's, from {place.source}) is not a subnet of {vpc_state.vpc_id}: "
                f"pass --subnet-id with one of {', '.join(sorted(vpc_state.subnets)) or 'its subnets'}"
            )
    place = _drop_link_local(place)
    if place.function_name and not (place.candidate_subnets() and place.security_group_ids):
        place = _lambda_place(vpc_state, place, lambda_client)
    if not place.subnet_id and place.subnet_ids:
        # The subnet of the agent's AZ (a Lambda runs in one of its subnets' AZs), or the only one.
        mine = [s for s in place.subnet_ids if place.az_id and vpc_state.subnets[s].az_id == place.az_id]
        if len(place.subnet_ids) == 1:
            mine = list(place.subnet_ids)
        if len(mine) == 1:
            place = replace(place, subnet_id=mine[0])
    if place.address and not place.subnet_id:
        subnet = vpc_state.subnet_of_address(place.address)
        if subnet is not None:
            place = replace(place, subnet_id=subnet.id)
    if place.address and not place.security_group_ids:
        try:
            found = agent_interface(ec2, vpc_state.vpc_id, place.address)
        except AwsError:
            found = None  # a missing permission for this lookup costs precision, not the run
        if found is not None:
            place = replace(place, subnet_id=place.subnet_id or found[0] or None, security_group_ids=found[1])
    return _zone(vpc_state, place)


def _drop_link_local(place: Place) -> Place:
    """A link-local address (a Lambda sandbox's 169.254.x.x) is not where packets enter the VPC."""
    dropped = [a for a in (place.address, place.ipv6_address) if a and _link_local(a)]
    if not dropped:
        return place
    return replace(
        place,
        address=None if place.address in dropped else place.address,
        ipv6_address=None if place.ipv6_address in dropped else place.ipv6_address,
        notes=(
            *place.notes,
            *(f"{a} is link-local: the agent's source is its subnet, not this address" for a in dropped),
        ),
    )


def _link_local(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_link_local
    except ValueError:
        return False


def _lambda_place(vpc_state: VpcState, place: Place, lambda_client: Any) -> Place:
    """The function's subnets in this VPC and its groups (GetFunctionConfiguration); the subnet of its AZ."""
    from vpc_verify.aws import clients

    try:
        client = lambda_client
        if client is None:
            client = clients.lambda_(vpc_state.region)
            clients.reachable(client)
        config = client.get_function_configuration(FunctionName=place.function_name or "")
    except Exception as exc:  # lambda:GetFunctionConfiguration is optional precision, never a failure
        note = (
            f"lambda:GetFunctionConfiguration failed ({exc}): the function's subnets are unknown (set "
            "VPC_VERIFY_SUBNET_IDS and VPC_VERIFY_SECURITY_GROUP_IDS)"
        )
        return replace(place, notes=(*place.notes, note))
    vpc_config = config.get("VpcConfig") or {}
    groups = tuple(vpc_config.get("SecurityGroupIds") or [])
    subnets = tuple(s for s in vpc_config.get("SubnetIds") or [] if s in vpc_state.subnets)
    notes = place.notes
    if not subnets:
        where = vpc_config.get("VpcId") or "no VPC"
        notes = (*notes, f"the function {place.function_name} is attached to {where}, not to {vpc_state.vpc_id}")
    return replace(
        place,
        security_group_ids=place.security_group_ids or groups,
        subnet_ids=place.subnet_ids or subnets,
        notes=notes,
    )


def _zone(vpc_state: VpcState, place: Place) -> Place:
    """Both the AZ name and id, from each other or from the subnet (ids compare across accounts)."""
    subnet = vpc_state.subnets.get(place.subnet_id or "")
    az = place.az or (subnet.az if subnet is not None else None) or vpc_state.az_name_of(place.az_id)
    az_id = place.az_id or (subnet.az_id if subnet is not None else None) or vpc_state.az_id_of(az)
    return replace(place, az=az or None, az_id=az_id or None)
