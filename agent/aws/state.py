"""A read-only snapshot of one VPC as the EC2 API describes it: the facts the comparison needs, frozen.

Every call is a paginated Describe*/Get*; nothing is ever changed. ENIs are looked up by id (the
`vpc-endpoint-id` filter of DescribeNetworkInterfaces is not implemented everywhere, e.g. the emulator).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from vpc_verify.aws.errors import AwsNotFound, calling
from vpc_verify.topology import IPNetwork

_CHUNK = 100  # ids per Describe call: well under the API's filter-value limits


@dataclass(frozen=True, slots=True)
class Eni:
    """One network interface of an interface endpoint."""

    id: str
    address: str
    az: str
    subnet_id: str
    status: str = ""
    ipv6: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """One inbound security group permission, flattened to a single source."""

    group_id: str
    protocol: str  # "tcp", "udp", "icmp", "-1" (all) ...
    from_port: int | None
    to_port: int | None
    cidr: str | None = None
    source_group_id: str | None = None
    prefix_list_id: str | None = None
    description: str = ""

    def covers_port(self, port: int, protocol: str = "tcp") -> bool:
        """True when the rule's protocol and port range include `protocol`/`port`."""
        if self.protocol == "-1":
            return True
        if self.protocol not in (protocol, "6" if protocol == "tcp" else protocol):
            return False
        if self.from_port is None or self.to_port is None or self.from_port == -1:
            return True
        return self.from_port <= port <= self.to_port

    def source(self) -> str:
        """The rule's source as the console shows it."""
        return self.cidr or self.source_group_id or self.prefix_list_id or "?"

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence."""
        ports = "all" if self.protocol == "-1" else f"{self.protocol}/{self.from_port}-{self.to_port}"
        return {"group_id": self.group_id, "ports": ports, "source": self.source(), "description": self.description}


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    """A security group and its inbound rules."""

    id: str
    name: str
    ingress: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Route:
    """One route of a route table."""

    destination: str  # a CIDR or a prefix list id
    target: str  # gateway / vpce / nat / eni id, "local"
    state: str = "active"


@dataclass(frozen=True, slots=True)
class RouteTable:
    """A route table, the subnets explicitly associated with it, and whether it is the VPC's main table."""

    id: str
    main: bool
    subnet_ids: tuple[str, ...]
    routes: tuple[Route, ...]


@dataclass(frozen=True, slots=True)
class Subnet:
    """A subnet of the VPC."""

    id: str
    cidr: str
    az: str
    az_id: str = ""


@dataclass(frozen=True, slots=True)
class PrefixList:
    """An AWS-managed (or customer) prefix list with its entries."""

    id: str
    name: str
    cidrs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """What DescribeVpcEndpointServices says about a service: its DNS names and zones."""

    name: str
    types: tuple[str, ...]
    private_dns_names: tuple[str, ...]
    base_dns_names: tuple[str, ...]
    azs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VpcEndpoint:
    """A VPC endpoint of the VPC (interface, gateway, ...)."""

    id: str
    type: str  # lower-case: interface, gateway, gatewayloadbalancer, resource, ...
    service: str
    state: str
    private_dns_enabled: bool
    subnet_ids: tuple[str, ...]
    group_ids: tuple[str, ...]
    route_table_ids: tuple[str, ...]
    eni_ids: tuple[str, ...]
    dns_entries: tuple[str, ...]
    failure: str = ""  # LastError.Message, when AWS gives one
    ip_address_type: str = "ipv4"  # ipv4 | dualstack | ipv6


@dataclass(frozen=True, slots=True)
class VpcState:
    """Everything read about one VPC; pure data, so the comparison can be tested without AWS."""

    region: str
    vpc_id: str
    cidrs: tuple[IPNetwork, ...]
    dns_support: bool
    dns_hostnames: bool
    endpoints: tuple[VpcEndpoint, ...]
    enis: Mapping[str, Eni] = field(default_factory=dict)
    security_groups: Mapping[str, SecurityGroup] = field(default_factory=dict)
    route_tables: tuple[RouteTable, ...] = ()
    subnets: Mapping[str, Subnet] = field(default_factory=dict)
    prefix_lists: Mapping[str, PrefixList] = field(default_factory=dict)  # by name and by id
    services: Mapping[str, ServiceInfo] = field(default_factory=dict)

    def endpoint_enis(self, endpoint: VpcEndpoint) -> tuple[Eni, ...]:
        """The endpoint's ENIs that were found, in the endpoint's order."""
        return tuple(self.enis[i] for i in endpoint.eni_ids if i in self.enis)

    def route_table_of(self, subnet_id: str) -> RouteTable | None:
        """The route table a subnet uses: its explicit association, else the main table."""
        main = None
        for table in self.route_tables:
            if subnet_id in table.subnet_ids:
                return table
            if table.main:
                main = table
        return main

    def subnet_of_address(self, address: str) -> Subnet | None:
        """The subnet whose CIDR holds `address`."""
        ip = ipaddress.ip_address(address)
        for subnet in self.subnets.values():
            net = ipaddress.ip_network(subnet.cidr, strict=False)
            if ip.version == net.version and ip in net:
                return subnet
        return None


# ------------------------------------------------------------------------------------------------- reading


def read(ec2: Any, vpc_id: str, *, services: Iterable[str] = ()) -> VpcState:
    """Describe `vpc_id` and everything the comparison needs (also the endpoint services in `services`)."""
    region = str(ec2.meta.region_name)
    vpcs = list(_pages(ec2, "describe_vpcs", "Vpcs", VpcIds=[vpc_id]))
    if not vpcs:
        raise AwsNotFound("ec2", "DescribeVpcs", "InvalidVpcID.NotFound", f"no VPC {vpc_id} in {region}")
    vpc = vpcs[0]
    cidrs: list[IPNetwork] = []
    for assoc in vpc.get("CidrBlockAssociationSet") or [
        {"CidrBlock": vpc.get("CidrBlock"), "CidrBlockState": {"State": "associated"}}
    ]:
        if assoc.get("CidrBlock") and (assoc.get("CidrBlockState") or {}).get("State", "associated") == "associated":
            cidrs.append(ipaddress.ip_network(assoc["CidrBlock"], strict=False))
    for assoc in vpc.get("Ipv6CidrBlockAssociationSet") or []:
        if assoc.get("Ipv6CidrBlock") and (assoc.get("Ipv6CidrBlockState") or {}).get("State") == "associated":
            cidrs.append(ipaddress.ip_network(assoc["Ipv6CidrBlock"], strict=False))

    dns_support = _attribute(ec2, vpc_id, "enableDnsSupport", "EnableDnsSupport")
    dns_hostnames = _attribute(ec2, vpc_id, "enableDnsHostnames", "EnableDnsHostnames")

    vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]
    endpoints = tuple(
        _endpoint(e)
        for e in _pages(ec2, "describe_vpc_endpoints", "VpcEndpoints", Filters=vpc_filter)
        if e.get("VpcId", vpc_id) == vpc_id and str(e.get("State", "")).lower() != "deleted"
    )

    subnets = {
        s["SubnetId"]: Subnet(
            id=s["SubnetId"],
            cidr=s.get("CidrBlock", ""),
            az=s.get("AvailabilityZone", ""),
            az_id=s.get("AvailabilityZoneId", ""),
        )
        for s in _pages(ec2, "describe_subnets", "Subnets", Filters=vpc_filter)
    }

    eni_ids = sorted({i for e in endpoints for i in e.eni_ids})
    enis: dict[str, Eni] = {}
    for chunk in _chunks(eni_ids):
        for n in _pages(ec2, "describe_network_interfaces", "NetworkInterfaces", NetworkInterfaceIds=chunk):
            enis[n["NetworkInterfaceId"]] = Eni(
                id=n["NetworkInterfaceId"],
                address=n.get("PrivateIpAddress", ""),
                az=n.get("AvailabilityZone", ""),
                subnet_id=n.get("SubnetId", ""),
                status=n.get("Status", ""),
                ipv6=tuple(a["Ipv6Address"] for a in n.get("Ipv6Addresses") or [] if a.get("Ipv6Address")),
            )

    # The endpoint's own groups are authoritative (an ENI of an interface endpoint has the same ones).
    group_ids = sorted({g for e in endpoints for g in e.group_ids})
    groups: dict[str, SecurityGroup] = {}
    for chunk in _chunks(group_ids):
        for g in _pages(ec2, "describe_security_groups", "SecurityGroups", GroupIds=chunk):
            groups[g["GroupId"]] = SecurityGroup(
                id=g["GroupId"],
                name=g.get("GroupName", ""),
                ingress=tuple(_rules(g["GroupId"], g.get("IpPermissions") or [])),
            )

    tables = tuple(_route_table(t) for t in _pages(ec2, "describe_route_tables", "RouteTables", Filters=vpc_filter))

    wanted_services = sorted({e.service for e in endpoints} | set(services))
    service_infos = _services(ec2, wanted_services)

    # Prefix lists: those of gateway services (by name) and those referenced by security group rules (by id).
    prefix_lists: dict[str, PrefixList] = {}
    gateway_names = {e.service for e in endpoints if e.type == "gateway"} | {
        s for s in services if s in service_infos and "gateway" in service_infos[s].types
    }
    rule_lists = {r.prefix_list_id for g in groups.values() for r in g.ingress if r.prefix_list_id}
    known = {
        p["PrefixListId"]: p.get("PrefixListName", "") for p in _pages(ec2, "describe_prefix_lists", "PrefixLists")
    }
    for pl_id, name in known.items():
        if name in gateway_names or pl_id in rule_lists:
            pl = PrefixList(id=pl_id, name=name, cidrs=_prefix_entries(ec2, pl_id))
            prefix_lists[pl_id] = pl
            prefix_lists[name] = pl
    for pl_id in sorted(rule_lists - set(known)):
        pl = PrefixList(id=pl_id, name=pl_id, cidrs=_prefix_entries(ec2, pl_id))
        prefix_lists[pl_id] = pl

    return VpcState(
        region=region,
        vpc_id=vpc_id,
        cidrs=tuple(cidrs),
        dns_support=dns_support,
        dns_hostnames=dns_hostnames,
        endpoints=endpoints,
        enis=enis,
        security_groups=groups,
        route_tables=tables,
        subnets=subnets,
        prefix_lists=prefix_lists,
        services=service_infos,
    )


def agent_interface(ec2: Any, vpc_id: str, address: str) -> tuple[str, tuple[str, ...]] | None:
    """(subnet id, security group ids) of the ENI holding `address` in the VPC, or None if there is none."""
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "addresses.private-ip-address", "Values": [address]}]
    for n in _pages(ec2, "describe_network_interfaces", "NetworkInterfaces", Filters=filters):
        return n.get("SubnetId", ""), tuple(g["GroupId"] for g in n.get("Groups") or [])
    return None


def _pages(ec2: Any, method: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    operation = "".join(part.capitalize() for part in method.split("_"))
    with calling("ec2", operation):
        for page in ec2.get_paginator(method).paginate(**kwargs):
            yield from page.get(key) or []


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _attribute(ec2: Any, vpc_id: str, attribute: str, key: str) -> bool:
    with calling("ec2", "DescribeVpcAttribute"):
        answer = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
    return bool((answer.get(key) or {}).get("Value", False))


def _endpoint(e: dict[str, Any]) -> VpcEndpoint:
    return VpcEndpoint(
        id=e["VpcEndpointId"],
        type=str(e.get("VpcEndpointType", "Gateway")).lower(),
        service=e.get("ServiceName", ""),
        state=str(e.get("State", "")),
        private_dns_enabled=bool(e.get("PrivateDnsEnabled", False)),
        subnet_ids=tuple(e.get("SubnetIds") or []),
        group_ids=tuple(g["GroupId"] for g in e.get("Groups") or []),
        route_table_ids=tuple(e.get("RouteTableIds") or []),
        eni_ids=tuple(e.get("NetworkInterfaceIds") or []),
        dns_entries=tuple(d["DnsName"] for d in e.get("DnsEntries") or [] if d.get("DnsName")),
        failure=str((e.get("LastError") or {}).get("Message", "")),
        ip_address_type=str(e.get("IpAddressType") or "ipv4").lower(),
    )


def _rules(group_id: str, permissions: list[dict[str, Any]]) -> Iterator[Rule]:
    for p in permissions:
        protocol = str(p.get("IpProtocol", "-1"))
        base = Rule(
            group_id=group_id,
            protocol="tcp" if protocol == "6" else protocol,
            from_port=p.get("FromPort"),
            to_port=p.get("ToPort"),
        )
        for r in p.get("IpRanges") or []:
            yield replace(base, cidr=r["CidrIp"], description=r.get("Description", ""))
        for r in p.get("Ipv6Ranges") or []:
            yield replace(base, cidr=r["CidrIpv6"], description=r.get("Description", ""))
        for r in p.get("UserIdGroupPairs") or []:
            yield replace(base, source_group_id=r.get("GroupId"), description=r.get("Description", ""))
        for r in p.get("PrefixListIds") or []:
            yield replace(base, prefix_list_id=r.get("PrefixListId"), description=r.get("Description", ""))


def _route_table(t: dict[str, Any]) -> RouteTable:
    associations = t.get("Associations") or []
    routes = []
    for r in t.get("Routes") or []:
        destination = (
            r.get("DestinationCidrBlock") or r.get("DestinationIpv6CidrBlock") or r.get("DestinationPrefixListId") or ""
        )
        target = (
            r.get("GatewayId")
            or r.get("NatGatewayId")
            or r.get("TransitGatewayId")
            or r.get("VpcPeeringConnectionId")
            or r.get("NetworkInterfaceId")
            or r.get("InstanceId")
            or ""
        )
        routes.append(Route(destination=destination, target=target, state=r.get("State", "active")))
    return RouteTable(
        id=t["RouteTableId"],
        main=any(a.get("Main") for a in associations),
        subnet_ids=tuple(a["SubnetId"] for a in associations if a.get("SubnetId")),
        routes=tuple(routes),
    )


def _services(ec2: Any, names: list[str]) -> dict[str, ServiceInfo]:
    out: dict[str, ServiceInfo] = {}
    for name in names:
        # One name per call: an unknown or foreign service name fails the whole call, and must not hide
        # the others.
        try:
            details = list(_pages(ec2, "describe_vpc_endpoint_services", "ServiceDetails", ServiceNames=[name]))
        except AwsNotFound:
            continue
        for d in details:
            if d.get("ServiceName") != name:
                continue
            types = tuple(str(t.get("ServiceType", "")).lower() for t in d.get("ServiceType") or [])
            dns = [p["PrivateDnsName"] for p in d.get("PrivateDnsNames") or [] if p.get("PrivateDnsName")]
            if d.get("PrivateDnsName") and d["PrivateDnsName"] not in dns:
                dns.insert(0, d["PrivateDnsName"])
            previous = out.get(name)
            out[name] = ServiceInfo(
                name=name,
                types=tuple(dict.fromkeys((previous.types if previous else ()) + types)),
                private_dns_names=tuple(dict.fromkeys((previous.private_dns_names if previous else ()) + tuple(dns))),
                base_dns_names=tuple(
                    dict.fromkeys(
                        (previous.base_dns_names if previous else ()) + tuple(d.get("BaseEndpointDnsNames") or [])
                    )
                ),
                azs=tuple(d.get("AvailabilityZones") or []),
            )
    return out


def _prefix_entries(ec2: Any, pl_id: str) -> tuple[str, ...]:
    return tuple(
        e["Cidr"]
        for e in _pages(ec2, "get_managed_prefix_list_entries", "Entries", PrefixListId=pl_id)
        if e.get("Cidr")
    )
