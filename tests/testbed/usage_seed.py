"""Seed the emulator with what the endpoints of the testbed VPC carried: PrivateLink metrics (busy, dropping,
idle, cross-AZ endpoints), an S3 interface endpoint beside the gateway one, clients in two AZs and an endpoint
subnet with no free address. Used on top of `aws_seed.seed` (which it does not change).

The figures are chosen so the month's bill can be worked by hand (tests/pricing/test_cost.py does it):
us-east-1, five interface endpoints of two AZs each ($73.00 of endpoint hours) and, over 14 days,
sqs 16.8 GB, kms 3.36 GB, s3 (interface) 33.6 GB, sts 6.72 GB, ssm nothing: 131.4 GB a month, $1.314;
$74.31 in all. kms dropped 37 packets in one minute (and 15 more in other minutes) and received 4 resets.

Emulator gaps: moto keeps whatever PutMetricData sends under AWS/PrivateLinkEndpoints (AWS publishes that
namespace itself); its endpoint ENIs report InterfaceType "interface" (AWS: "vpc_endpoint"), which the reader
does not rely on (it skips the endpoints' ENIs by id).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tests.testbed.aws_seed import REGION, SeedFacts

GIB = 2**30
DAYS = 7  # one datapoint a day, over the last 7 of the 14 days (few datums: the emulator sums them per query)
NAMESPACE = "AWS/PrivateLinkEndpoints"
SMALL_SUBNET = "10.0.4.0/28"  # 16 addresses, 11 usable: filled to the last one
CROSS_AZ_SUBNET = ("us-east-1c", "10.0.3.0/24")  # no clients live there


@dataclass(frozen=True, slots=True)
class UsageSeed:
    """What was seeded, for the assertions."""

    endpoints: dict[str, str]  # name -> vpce id (sqs, kms from aws_seed; ssm, s3i, sts added here)
    full_subnet_id: str
    lonely_az: str
    drop_peak_at: dt.datetime
    drop_peak: float
    monthly_usd: str  # the hand-worked total


def seed_usage(ec2: Any, cw: Any, facts: SeedFacts, now: dt.datetime | None = None) -> UsageSeed:
    """Add the endpoints, clients and subnets, and put the metrics (through boto3 clients of the emulator)."""
    now = (now or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)
    vpc = facts.vpc_id
    a, b = facts.subnets["us-east-1a"], facts.subnets["us-east-1b"]
    az_c, cidr_c = CROSS_AZ_SUBNET
    c = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr_c, AvailabilityZone=az_c)["Subnet"]["SubnetId"]
    small = ec2.create_subnet(VpcId=vpc, CidrBlock=SMALL_SUBNET, AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    sg = facts.interfaces["sqs"].security_group_id

    def interface(service: str, subnets: list[str]) -> str:
        return str(
            ec2.create_vpc_endpoint(
                VpcId=vpc,
                ServiceName=f"com.amazonaws.{REGION}.{service}",
                VpcEndpointType="Interface",
                SubnetIds=subnets,
                SecurityGroupIds=[sg],
                PrivateDnsEnabled=service != "s3",
            )["VpcEndpoint"]["VpcEndpointId"]
        )

    endpoints = {name: f.vpce_id for name, f in facts.interfaces.items()}
    endpoints["ssm"] = interface("ssm", [small, b])
    endpoints["s3i"] = interface("s3", [a, b])
    endpoints["sts"] = interface("sts", [a, c])
    for subnet in (a, a, b, b):  # workloads: instances in the first two AZs
        ec2.create_network_interface(SubnetId=subnet, Description="an instance")
    while ec2.describe_subnets(SubnetIds=[small])["Subnets"][0]["AvailableIpAddressCount"] > 0:
        ec2.create_network_interface(SubnetId=small, Description="a workload filling the subnet")

    datums: list[dict[str, Any]] = []
    services = {"sqs": "sqs", "kms": "kms", "s3i": "s3", "sts": "sts"}
    split = {"sqs": {a: 0.6, b: 0.4}, "kms": {a: 0.5, b: 0.5}, "s3i": {a: 0.5, b: 0.5}, "sts": {a: 0.75, c: 0.25}}
    per_day_gib = {"sqs": 2.4, "kms": 0.48, "s3i": 4.8, "sts": 0.96}  # x 7 days: 16.8, 3.36, 33.6, 6.72 GB
    for name, gib in per_day_gib.items():
        dims = _dims(services[name], endpoints[name], vpc)
        for k in range(1, DAYS + 1):
            at = now - dt.timedelta(days=k, minutes=10)
            datums += [
                _datum("BytesProcessed", dims, at, gib * GIB),
                _datum("NewConnections", dims, at, 240),
                _datum("ActiveConnections", dims, at, 5),
            ]
            for subnet, share in split[name].items():
                datums.append(
                    _datum("BytesProcessed", [*dims, {"Name": "Subnet Id", "Value": subnet}], at, gib * share * GIB)
                )
    kms = _dims("kms", endpoints["kms"], vpc)
    peak_hour = (now - dt.timedelta(hours=30)).replace(minute=0)
    peak_at = peak_hour + dt.timedelta(minutes=7)
    datums += [
        _datum("PacketsDropped", kms, peak_at, 37),
        _datum("PacketsDropped", kms, peak_hour + dt.timedelta(minutes=3), 5),
        _datum("PacketsDropped", kms, peak_hour - dt.timedelta(hours=24) + dt.timedelta(minutes=15), 10),
        _datum("RstPacketsReceived", kms, peak_hour - dt.timedelta(hours=5) + dt.timedelta(minutes=42), 4),
    ]
    for i in range(0, len(datums), 500):
        cw.put_metric_data(Namespace=NAMESPACE, MetricData=datums[i : i + 500])
    return UsageSeed(
        endpoints=endpoints,
        full_subnet_id=small,
        lonely_az=az_c,
        drop_peak_at=peak_at,
        drop_peak=37.0,
        monthly_usd="74.31",
    )


def _dims(service: str, vpce_id: str, vpc_id: str) -> list[dict[str, str]]:
    return [
        {"Name": "Endpoint Type", "Value": "Interface"},
        {"Name": "Service Name", "Value": f"com.amazonaws.{REGION}.{service}"},
        {"Name": "VPC Endpoint Id", "Value": vpce_id},
        {"Name": "VPC Id", "Value": vpc_id},
    ]


def _datum(metric: str, dims: list[dict[str, str]], at: dt.datetime, value: float) -> dict[str, Any]:
    return {"MetricName": metric, "Dimensions": dims, "Timestamp": at, "Value": float(value)}
