"""Seed the AWS emulator with the testbed's VPC, and return the facts as the emulator assigned them.

The VPC: 10.0.0.0/16, one subnet in each of two AZs, interface endpoints for sqs and kms (private DNS on,
one ENI per subnet, a security group admitting 443 from the VPC), a gateway endpoint for s3 on the route
table of the first subnet, and an agent security group. The testbed's DNS must serve exactly the returned
ENI addresses.

The emulator is patched to shape endpoints as AWS does (tests/testbed/emulator_vpce.py): ENI addresses inside
their subnets and AWS's DnsEntries, whose regional and zonal names the facts carry. Against an unpatched moto
(random 10.x ENI addresses), each address's /16 is associated with the VPC as a secondary CIDR (AWS allows 5 in
all), so every ENI stays inside the VPC as on AWS.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

REGION = "us-east-1"
VPC_CIDR = "10.0.0.0/16"
SUBNETS = {"us-east-1a": "10.0.1.0/24", "us-east-1b": "10.0.2.0/24"}
INTERFACE_SERVICES = ("sqs", "kms")
GATEWAY_SERVICE = "s3"


@dataclass(frozen=True, slots=True)
class InterfaceFacts:
    """One seeded interface endpoint."""

    name: str
    vpce_id: str
    service: str
    dns_name: str  # the private DNS name
    regional_name: str
    zonal_names: dict[str, str]  # az -> name
    addresses: dict[str, str]  # ENI address -> az
    eni_ids: tuple[str, ...]
    security_group_id: str
    private_dns: bool


@dataclass(frozen=True, slots=True)
class GatewayFacts:
    """The seeded gateway endpoint."""

    name: str
    vpce_id: str
    service: str
    dns_name: str
    route_table_id: str
    prefix_list_id: str
    prefix_list_cidrs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SeedFacts:
    """Everything a test or the testbed needs to know about the seeded VPC."""

    region: str
    vpc_id: str
    cidrs: tuple[str, ...]
    subnets: dict[str, str]  # az -> subnet id
    main_route_table_id: str
    agent_security_group_id: str
    interfaces: dict[str, InterfaceFacts]
    gateway: GatewayFacts
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def agent_subnet_id(self) -> str:
        """The subnet the agent is placed in (the first AZ's; its route table has the s3 route)."""
        return self.subnets["us-east-1a"]

    def dns_records(self) -> dict[str, list[str]]:
        """name -> A records the testbed's DNS should serve for the seeded VPC (private DNS names included
        only where private DNS is on)."""
        records: dict[str, list[str]] = {}
        for facts in self.interfaces.values():
            if facts.private_dns:
                records[facts.dns_name] = list(facts.addresses)
            records[facts.regional_name] = list(facts.addresses)
            for az, name in facts.zonal_names.items():
                records[name] = [a for a, where in facts.addresses.items() if where == az]
        return records


def endpoint_names(endpoint: dict[str, Any], azs: list[str]) -> tuple[str, dict[str, str]]:
    """The regional name and the zonal names (by AZ) of an interface endpoint, from its DnsEntries as AWS writes
    them (`vpce-<id>-<suffix>.<base>`, `vpce-<id>-<suffix>-<az>.<base>`); built from the id where the emulator
    is unpatched."""
    names = [
        d["DnsName"] for d in endpoint.get("DnsEntries") or [] if d.get("DnsName", "").endswith(".vpce.amazonaws.com")
    ]
    zonal = {az: n for az in azs for n in names if f"-{az}." in n}
    regional = next((n for n in names if n not in zonal.values()), None)
    if regional is None or len(zonal) != len(azs):
        svc = endpoint["ServiceName"].split(".", 3)[3]
        base = f"{svc}.{REGION}.vpce.amazonaws.com"
        return f"{endpoint['VpcEndpointId']}.{base}", {az: f"{endpoint['VpcEndpointId']}-{az}.{base}" for az in azs}
    return regional, zonal


def seed(
    ec2: Any,
    *,
    private_dns: bool | dict[str, bool] = True,
    port: int = 443,
    dns_support: bool = True,
    dns_hostnames: bool = True,
    gateway_route: bool = True,
    services: tuple[str, ...] = INTERFACE_SERVICES,
) -> SeedFacts:
    """Create the testbed VPC through `ec2` (a boto3 EC2 client of the emulator) and return its facts."""
    vpc_id = ec2.create_vpc(CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": dns_support})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": dns_hostnames})
    subnets = {
        az: ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
        for az, cidr in SUBNETS.items()
    }
    agent_sg = ec2.create_security_group(GroupName="vpc-verify-agent", Description="the agent", VpcId=vpc_id)["GroupId"]
    vpce_sg = ec2.create_security_group(GroupName="vpce", Description="interface endpoints", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=vpce_sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": VPC_CIDR}]}],
    )

    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    main_table = next(t["RouteTableId"] for t in tables if any(a.get("Main") for a in t.get("Associations", [])))
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnets["us-east-1a"])

    raw: dict[str, dict[str, Any]] = {}
    for svc in services:
        on = private_dns if isinstance(private_dns, bool) else private_dns.get(svc, True)
        raw[svc] = ec2.create_vpc_endpoint(
            VpcId=vpc_id,
            ServiceName=f"com.amazonaws.{REGION}.{svc}",
            VpcEndpointType="Interface",
            SubnetIds=list(subnets.values()),
            SecurityGroupIds=[vpce_sg],
            PrivateDnsEnabled=on,
        )["VpcEndpoint"]
    gateway = ec2.create_vpc_endpoint(
        VpcId=vpc_id,
        ServiceName=f"com.amazonaws.{REGION}.{GATEWAY_SERVICE}",
        VpcEndpointType="Gateway",
        RouteTableIds=[table] if gateway_route else [],
    )["VpcEndpoint"]

    interfaces: dict[str, InterfaceFacts] = {}
    blocks: list[str] = []
    for svc, e in raw.items():
        enis = ec2.describe_network_interfaces(NetworkInterfaceIds=e["NetworkInterfaceIds"])["NetworkInterfaces"]
        addresses = {n["PrivateIpAddress"]: n["AvailabilityZone"] for n in enis}
        for address in addresses:
            block = str(ipaddress.ip_network(f"{address}/16", strict=False))
            if block != VPC_CIDR and block not in blocks:
                blocks.append(block)
        regional, zonal = endpoint_names(e, sorted(set(addresses.values())))
        interfaces[svc] = InterfaceFacts(
            name=svc,
            vpce_id=e["VpcEndpointId"],
            service=e["ServiceName"],
            dns_name=f"{svc}.{REGION}.amazonaws.com",
            regional_name=regional,
            zonal_names=zonal,
            addresses=addresses,
            eni_ids=tuple(e["NetworkInterfaceIds"]),
            security_group_id=vpce_sg,
            private_dns=bool(e.get("PrivateDnsEnabled")),
        )
    for block in blocks:
        ec2.associate_vpc_cidr_block(VpcId=vpc_id, CidrBlock=block)

    lists = ec2.describe_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{REGION}.{GATEWAY_SERVICE}"]}]
    )
    pl = lists["PrefixLists"][0]
    entries = ec2.get_managed_prefix_list_entries(PrefixListId=pl["PrefixListId"])["Entries"]
    return SeedFacts(
        region=REGION,
        vpc_id=vpc_id,
        cidrs=(VPC_CIDR, *blocks),
        subnets=subnets,
        main_route_table_id=main_table,
        agent_security_group_id=agent_sg,
        interfaces=interfaces,
        gateway=GatewayFacts(
            name=GATEWAY_SERVICE,
            vpce_id=gateway["VpcEndpointId"],
            service=gateway["ServiceName"],
            dns_name=f"{GATEWAY_SERVICE}.{REGION}.amazonaws.com",
            route_table_id=table,
            prefix_list_id=pl["PrefixListId"],
            prefix_list_cidrs=tuple(e["Cidr"] for e in entries),
        ),
    )
