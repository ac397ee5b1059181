"""Room to grow: the free addresses of the endpoints' subnets, the VPC's interface endpoint quota, and where the
VPC's clients are (the AZs of its workload network interfaces). Facts only, read-only calls.

A subnet keeps 5 addresses for AWS; an interface endpoint needs one free address per subnet to be created in
it, and more to scale. The quota is Service Quotas code L-29B6F2EB ("Interface and Gateway Load Balancer
endpoints per VPC", service vpc, default 50): read when allowed, the documented default otherwise.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from vpc_verify.aws.errors import AwsError, calling

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_service_quotas import ServiceQuotasClient

QUOTA_SERVICE = "vpc"
QUOTA_CODE = "L-29B6F2EB"
QUOTA_NAME = "Interface and Gateway Load Balancer endpoints per VPC"
DEFAULT_QUOTA = 50
RESERVED_PER_SUBNET = 5
# Network interfaces that are not clients of an endpoint: AWS's own plumbing (endpoints, NAT, load balancers).
_NOT_CLIENTS = {
    "vpc_endpoint",
    "gateway_load_balancer",
    "gateway_load_balancer_endpoint",
    "nat_gateway",
    "network_load_balancer",
    "load_balancer",
    "transit_gateway",
    "global_accelerator_managed",
    "api_gateway_managed",
    "quicksight",
    "efs",
    "iot_rules_managed",
}


@dataclass(frozen=True, slots=True)
class SubnetCapacity:
    """A subnet's free addresses (AvailableIpAddressCount) out of its usable ones."""

    subnet_id: str
    az: str
    cidr: str
    available: int
    usable: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "subnet_id": self.subnet_id,
            "az": self.az,
            "cidr": self.cidr,
            "available_addresses": self.available,
            "usable_addresses": self.usable,
        }


@dataclass(frozen=True, slots=True)
class Quota:
    """The VPC's interface endpoint quota and where the figure came from."""

    value: int
    source: str  # service-quotas | default
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"quota": self.value, "quota_source": self.source, "quota_code": QUOTA_CODE, "detail": self.detail}


def subnet_capacity(ec2: EC2Client, subnet_ids: Sequence[str]) -> dict[str, SubnetCapacity]:
    """The free addresses of these subnets, by id."""
    out: dict[str, SubnetCapacity] = {}
    if not subnet_ids:
        return out
    with calling("ec2", "DescribeSubnets"):
        pages = cast(Any, ec2).get_paginator("describe_subnets").paginate(SubnetIds=list(subnet_ids))
        for page in pages:
            for s in page.get("Subnets") or []:
                cidr = str(s.get("CidrBlock", ""))
                size = ipaddress.ip_network(cidr, strict=False).num_addresses if cidr else 0
                out[s["SubnetId"]] = SubnetCapacity(
                    subnet_id=s["SubnetId"],
                    az=str(s.get("AvailabilityZone", "")),
                    cidr=cidr,
                    available=int(s.get("AvailableIpAddressCount", 0)),
                    usable=max(0, size - RESERVED_PER_SUBNET),
                )
    return out


def endpoint_quota(sq: ServiceQuotasClient | None) -> Quota:
    """The applied quota from Service Quotas; the documented default when it cannot be read (and why)."""
    if sq is None:
        return Quota(DEFAULT_QUOTA, "default", "Service Quotas not asked")
    try:
        with calling("service-quotas", "GetServiceQuota"):
            answer = sq.get_service_quota(ServiceCode=QUOTA_SERVICE, QuotaCode=QUOTA_CODE)
    except AwsError as exc:
        return Quota(DEFAULT_QUOTA, "default", f"Service Quotas could not be read: {exc.code or type(exc).__name__}")
    value = (answer.get("Quota") or {}).get("Value")
    if value is None:
        return Quota(DEFAULT_QUOTA, "default", "Service Quotas gave no value")
    return Quota(int(value), "service-quotas")


def client_azs(ec2: EC2Client, vpc_id: str, endpoint_eni_ids: Iterable[str]) -> dict[str, int]:
    """AZ -> how many of the VPC's network interfaces are workloads (instances, Lambda, containers), i.e.
    not an endpoint's, a NAT gateway's or a load balancer's."""
    skip = set(endpoint_eni_ids)
    counts: dict[str, int] = {}
    with calling("ec2", "DescribeNetworkInterfaces"):
        pages = (
            cast(Any, ec2)
            .get_paginator("describe_network_interfaces")
            .paginate(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        )
        for page in pages:
            for n in page.get("NetworkInterfaces") or []:
                if n.get("NetworkInterfaceId") in skip or _plumbing(n):
                    continue
                az = str(n.get("AvailabilityZone", ""))
                counts[az] = counts.get(az, 0) + 1
    return counts


def _plumbing(n: Mapping[str, Any]) -> bool:
    kind = str(n.get("InterfaceType") or "interface")
    if kind in _NOT_CLIENTS:
        return True
    return kind == "interface" and str(n.get("Description") or "").startswith(("ELB ", "VPC Endpoint Interface"))
