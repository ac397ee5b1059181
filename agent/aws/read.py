"""Reading one VPC into a VpcState: paginated EC2 Describe*/Get* calls, one small reader per resource.

Nothing is ever changed. ENIs are looked up by id (the `vpc-endpoint-id` filter of DescribeNetworkInterfaces
is not implemented everywhere, e.g. the emulator). Every call goes through `calling`, so a failure is an
AwsError naming the operation. Two reads are optional precision (network ACLs, the account's AZ names):
when the role may not make them, the state lists the action in `unread` and the verdicts that need them are
"unknown", so a role granted before they were added keeps working. Static answers (endpoint services, AZs)
come from a StaticCache when one is given.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, cast

from vpc_verify.aws.cache import StaticCache
from vpc_verify.aws.errors import AwsAccessDenied, AwsNotFound, calling
from vpc_verify.aws.model import (
    Eni,
    NaclEntry,
    NetworkAcl,
    PrefixList,
    Route,
    RouteTable,
    Rule,
    SecurityGroup,
    ServiceInfo,
    Subnet,
    VpcEndpoint,
    VpcState,
)
from vpc_verify.topology import IPNetwork

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

_CHUNK = 100  # ids per Describe call: well under the API's filter-value limits


def read(ec2: EC2Client, vpc_id: str, *, services: Iterable[str] = (), cache: StaticCache | None = None) -> VpcState:
    """Describe `vpc_id` and everything the comparison needs (also the endpoint services in `services`)."""
    region = str(ec2.meta.region_name)
    vpc = describe_vpc(ec2, vpc_id)
    cidrs = _cidrs(vpc)
    vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]
    endpoints = vpc_endpoints(ec2, vpc_id)
    groups = security_groups(ec2, sorted({g for e in endpoints for g in e.group_ids}))
    # A Resource or ServiceNetwork endpoint's "service" is an ARN: DescribeVpcEndpointServices knows no such name.
    wanted = {s for s in {e.service for e in endpoints} | set(services) if s and not s.startswith("arn:")}
    service_infos = endpoint_services(ec2, sorted(wanted), cache=cache)
    gateway_names = {e.service for e in endpoints if e.type == "gateway"} | {
        s for s in services if s in service_infos and "gateway" in service_infos[s].types
    }
    rule_lists = _rule_prefix_lists(groups.values())
    unread: list[str] = []
    acls = _optional(network_acls, ec2, vpc_id, unread=unread, action="ec2:DescribeNetworkAcls") or ()
    zones = _optional(availability_zones, ec2, cache, unread=unread, action="ec2:DescribeAvailabilityZones") or {}
    return VpcState(
        region=region,
        vpc_id=vpc_id,
        cidrs=cidrs,
        dns_support=vpc_attribute(ec2, vpc_id, "enableDnsSupport"),
        dns_hostnames=vpc_attribute(ec2, vpc_id, "enableDnsHostnames"),
        endpoints=endpoints,
        enis=network_interfaces(ec2, sorted({i for e in endpoints for i in e.eni_ids})),
        security_groups=groups,
        route_tables=tuple(_route_table(t) for t in _pages(ec2, "describe_route_tables", "RouteTables", vpc_filter)),
        subnets=subnets(ec2, vpc_id),
        prefix_lists=prefix_lists(ec2, gateway_names, rule_lists),
        services=service_infos,
        network_acls=acls,
        zones=zones,
        unread=tuple(unread),
        dhcp_options_id=str(vpc.get("DhcpOptionsId") or ""),
    )


def with_groups(ec2: EC2Client, state: VpcState, group_ids: Sequence[str]) -> VpcState:
    """The state with these security groups added (the agent's own, for their outbound rules) and the prefix
    lists their rules name; AwsNotFound when a group does not exist."""
    missing = [g for g in group_ids if g not in state.security_groups]
    if not missing:
        return state
    groups = {**state.security_groups, **security_groups(ec2, missing)}
    lists = _rule_prefix_lists(groups.values()) - set(state.prefix_lists)
    more = prefix_lists(ec2, set(), lists) if lists else {}
    return replace(state, security_groups=groups, prefix_lists={**state.prefix_lists, **more})


def describe_vpc(ec2: EC2Client, vpc_id: str) -> dict[str, Any]:
    """DescribeVpcs of one VPC (AwsNotFound when there is no such VPC)."""
    vpcs = list(_pages(ec2, "describe_vpcs", "Vpcs", VpcIds=[vpc_id]))
    if not vpcs:
        raise AwsNotFound("ec2", "DescribeVpcs", "InvalidVpcID.NotFound", f"no VPC {vpc_id} in {ec2.meta.region_name}")
    return vpcs[0]


def vpc_cidrs(ec2: EC2Client, vpc_id: str) -> tuple[IPNetwork, ...]:
    """The VPC's associated IPv4 and IPv6 CIDR blocks (AwsNotFound when there is no such VPC)."""
    return _cidrs(describe_vpc(ec2, vpc_id))


def dhcp_options(ec2: EC2Client, dhcp_options_id: str) -> tuple[str, ...]:
    """The domain-name-servers of a DHCP option set (AmazonProvidedDNS, or the custom resolvers clients use)."""
    if not dhcp_options_id or dhcp_options_id == "default":
        return ("AmazonProvidedDNS",)
    servers: list[str] = []
    for options in _pages(ec2, "describe_dhcp_options", "DhcpOptions", DhcpOptionsIds=[dhcp_options_id]):
        for config in options.get("DhcpConfigurations") or []:
            if config.get("Key") == "domain-name-servers":
                servers += [str(v.get("Value")) for v in config.get("Values") or [] if v.get("Value")]
    return tuple(servers)


def _cidrs(vpc: Mapping[str, Any]) -> tuple[IPNetwork, ...]:
    v4 = [
        str(a["CidrBlock"])
        for a in vpc.get("CidrBlockAssociationSet") or []
        if a.get("CidrBlock") and (a.get("CidrBlockState") or {}).get("State", "associated") == "associated"
    ]
    if not v4 and vpc.get("CidrBlock"):
        v4 = [str(vpc["CidrBlock"])]
    cidrs: list[IPNetwork] = [ipaddress.ip_network(c, strict=False) for c in v4]
    for assoc in vpc.get("Ipv6CidrBlockAssociationSet") or []:
        if assoc.get("Ipv6CidrBlock") and (assoc.get("Ipv6CidrBlockState") or {}).get("State") == "associated":
            cidrs.append(ipaddress.ip_network(assoc["Ipv6CidrBlock"], strict=False))
    return tuple(cidrs)


def vpc_attribute(ec2: EC2Client, vpc_id: str, attribute: Literal["enableDnsSupport", "enableDnsHostnames"]) -> bool:
    """enableDnsSupport / enableDnsHostnames."""
    with calling("ec2", "DescribeVpcAttribute"):
        answer = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
    value = answer.get("EnableDnsSupport") if attribute == "enableDnsSupport" else answer.get("EnableDnsHostnames")
    return bool((value or {}).get("Value", False))


def vpc_endpoints(ec2: EC2Client, vpc_id: str) -> tuple[VpcEndpoint, ...]:
    """The VPC's endpoints that are not deleted."""
    found = _pages(ec2, "describe_vpc_endpoints", "VpcEndpoints", [{"Name": "vpc-id", "Values": [vpc_id]}])
    return tuple(
        _endpoint(e) for e in found if e.get("VpcId", vpc_id) == vpc_id and str(e.get("State", "")).lower() != "deleted"
    )


def subnets(ec2: EC2Client, vpc_id: str) -> dict[str, Subnet]:
    """The VPC's subnets by id, with their AZ names and ids."""
    return {
        s["SubnetId"]: Subnet(
            id=s["SubnetId"],
            cidr=s.get("CidrBlock", ""),
            az=s.get("AvailabilityZone", ""),
            az_id=s.get("AvailabilityZoneId", ""),
            ipv6_cidrs=tuple(
                a["Ipv6CidrBlock"] for a in s.get("Ipv6CidrBlockAssociationSet") or [] if a.get("Ipv6CidrBlock")
            ),
        )
        for s in _pages(ec2, "describe_subnets", "Subnets", [{"Name": "vpc-id", "Values": [vpc_id]}])
    }


def network_interfaces(ec2: EC2Client, eni_ids: Sequence[str]) -> dict[str, Eni]:
    """The ENIs with these ids, by id."""
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
    return enis


def security_groups(ec2: EC2Client, group_ids: Sequence[str]) -> dict[str, SecurityGroup]:
    """The security groups with these ids, inbound and outbound rules flattened."""
    groups: dict[str, SecurityGroup] = {}
    for chunk in _chunks(group_ids):
        for g in _pages(ec2, "describe_security_groups", "SecurityGroups", GroupIds=chunk):
            gid = g["GroupId"]
            groups[gid] = SecurityGroup(
                id=gid,
                name=g.get("GroupName", ""),
                ingress=tuple(_rules(gid, g.get("IpPermissions") or [])),
                egress=tuple(_rules(gid, g.get("IpPermissionsEgress") or [])),
                vpc_id=g.get("VpcId", ""),
            )
    return groups


def endpoint_services(
    ec2: EC2Client, names: Sequence[str], *, cache: StaticCache | None = None
) -> dict[str, ServiceInfo]:
    """What DescribeVpcEndpointServices says about each service name (unknown names are left out); answers
    are taken from and kept in `cache` (they do not change between runs)."""
    out: dict[str, ServiceInfo] = {}
    region = str(ec2.meta.region_name)
    for name in names:
        key = ("service", region, name)
        kept = cache.get(key) if cache is not None else None
        if isinstance(kept, ServiceInfo):
            out[name] = kept
            continue
        # One name per call: an unknown or foreign service name fails the whole call, and must not hide
        # the others.
        try:
            details = list(_pages(ec2, "describe_vpc_endpoint_services", "ServiceDetails", ServiceNames=[name]))
        except AwsNotFound:
            continue
        for d in details:
            if d.get("ServiceName") == name:
                out[name] = _merge_service(out.get(name), name, d)
        if cache is not None and name in out:
            cache.put(key, out[name])
    return out


def network_acls(ec2: EC2Client, vpc_id: str) -> tuple[NetworkAcl, ...]:
    """The VPC's network ACLs with their subnet associations and entries."""
    return tuple(
        _network_acl(a)
        for a in _pages(ec2, "describe_network_acls", "NetworkAcls", [{"Name": "vpc-id", "Values": [vpc_id]}])
    )


def availability_zones(ec2: EC2Client, cache: StaticCache | None = None) -> dict[str, str]:
    """AZ name -> AZ id as this account maps them (names differ between accounts; ids name the same zone)."""
    key = ("zones", str(ec2.meta.region_name))
    kept = cache.get(key) if cache is not None else None
    if isinstance(kept, dict):
        return dict(kept)
    with calling("ec2", "DescribeAvailabilityZones"):
        answer = ec2.describe_availability_zones()
    zones = {
        str(z["ZoneName"]): str(z["ZoneId"])
        for z in answer.get("AvailabilityZones") or []
        if z.get("ZoneName") and z.get("ZoneId")
    }
    if cache is not None:
        cache.put(key, zones)
    return zones


def prefix_lists(ec2: EC2Client, gateway_services: set[str], rule_list_ids: set[str]) -> dict[str, PrefixList]:
    """Prefix lists of gateway services (indexed by name and id) and those rules reference (by id)."""
    found: dict[str, PrefixList] = {}
    known = {
        p["PrefixListId"]: p.get("PrefixListName", "") for p in _pages(ec2, "describe_prefix_lists", "PrefixLists")
    }
    for pl_id, name in known.items():
        if name in gateway_services or pl_id in rule_list_ids:
            pl = PrefixList(id=pl_id, name=name, cidrs=_prefix_entries(ec2, pl_id))
            found[pl_id] = pl
            found[name] = pl
    for pl_id in sorted(rule_list_ids - set(known)):
        found[pl_id] = PrefixList(id=pl_id, name=pl_id, cidrs=_prefix_entries(ec2, pl_id))
    return found


def agent_interface(ec2: EC2Client, vpc_id: str, address: str) -> tuple[str, tuple[str, ...]] | None:
    """(subnet id, security group ids) of the ENI holding `address` in the VPC, or None if there is none."""
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "addresses.private-ip-address", "Values": [address]}]
    for n in _pages(ec2, "describe_network_interfaces", "NetworkInterfaces", filters):
        return n.get("SubnetId", ""), tuple(g["GroupId"] for g in n.get("Groups") or [])
    return None


# ----------------------------------------------------------------------------------------------- the parts


def _optional(read_one: Any, *args: Any, unread: list[str], action: str) -> Any:
    """Call a reader whose facts are optional precision: a denied call is noted in `unread`, not raised."""
    try:
        return read_one(*args)
    except AwsAccessDenied:
        unread.append(action)
        return None


def _rule_prefix_lists(groups: Iterable[SecurityGroup]) -> set[str]:
    return {r.prefix_list_id for g in groups for r in (*g.ingress, *g.egress) if r.prefix_list_id}


def _network_acl(a: Mapping[str, Any]) -> NetworkAcl:
    entries = []
    for e in a.get("Entries") or []:
        ports = e.get("PortRange") or {}
        protocol = str(e.get("Protocol", "-1"))
        entries.append(
            NaclEntry(
                rule_number=int(e.get("RuleNumber", 32767)),
                egress=bool(e.get("Egress", False)),
                protocol={"tcp": "6", "udp": "17", "icmp": "1", "all": "-1"}.get(protocol.lower(), protocol),
                action=str(e.get("RuleAction", "deny")).lower(),
                cidr=str(e.get("CidrBlock") or e.get("Ipv6CidrBlock") or ""),
                from_port=ports.get("From") if ports else None,
                to_port=ports.get("To") if ports else None,
            )
        )
    return NetworkAcl(
        id=a["NetworkAclId"],
        default=bool(a.get("IsDefault", False)),
        subnet_ids=tuple(x["SubnetId"] for x in a.get("Associations") or [] if x.get("SubnetId")),
        entries=tuple(sorted(entries, key=lambda x: (x.egress, x.rule_number))),
    )


def _pages(
    ec2: EC2Client, method: str, key: str, filters: list[dict[str, Any]] | None = None, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    operation = "".join(part.capitalize() for part in method.split("_"))
    if filters is not None:
        kwargs["Filters"] = filters
    with calling("ec2", operation):
        # The paginator's name is a variable here, which the stubs' overloads cannot type.
        for page in cast(Any, ec2).get_paginator(method).paginate(**kwargs):
            yield from page.get(key) or []


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield list(items[i : i + _CHUNK])


def _prefixes(sets: Sequence[Mapping[str, Any]] | None) -> tuple[str, ...]:
    return tuple(p for s in sets or [] for p in s.get("IpPrefixes") or [] if p)


def _endpoint(e: Mapping[str, Any]) -> VpcEndpoint:
    options = e.get("DnsOptions") or {}
    created = e.get("CreationTimestamp")
    # Resource and ServiceNetwork endpoints (VPC Lattice) have no ServiceName: the ARN they connect to names them.
    service = e.get("ServiceName") or e.get("ResourceConfigurationArn") or e.get("ServiceNetworkArn") or ""
    return VpcEndpoint(
        id=e["VpcEndpointId"],
        type=str(e.get("VpcEndpointType", "Gateway")).lower(),
        service=service,
        state=str(e.get("State", "")),
        private_dns_enabled=bool(e.get("PrivateDnsEnabled", False)),
        subnet_ids=tuple(e.get("SubnetIds") or []),
        group_ids=tuple(g["GroupId"] for g in e.get("Groups") or []),
        route_table_ids=tuple(e.get("RouteTableIds") or []),
        eni_ids=tuple(e.get("NetworkInterfaceIds") or []),
        dns_entries=tuple(d["DnsName"] for d in e.get("DnsEntries") or [] if d.get("DnsName")),
        failure=str((e.get("LastError") or {}).get("Message", "")),
        ip_address_type=str(e.get("IpAddressType") or "ipv4").lower(),
        dns_record_ip_type=str(options.get("DnsRecordIpType") or "").lower(),
        private_dns_only_for_inbound_resolver=bool(options.get("PrivateDnsOnlyForInboundResolverEndpoint", False)),
        created=created.isoformat() if isinstance(created, dt.datetime) else str(created or ""),
        policy_document=str(e.get("PolicyDocument") or ""),
        resource_configuration_arn=str(e.get("ResourceConfigurationArn") or ""),
        service_network_arn=str(e.get("ServiceNetworkArn") or ""),
        ipv4_prefixes=_prefixes(e.get("Ipv4Prefixes")),
        ipv6_prefixes=_prefixes(e.get("Ipv6Prefixes")),
    )


def _rules(group_id: str, permissions: Sequence[Mapping[str, Any]]) -> Iterator[Rule]:
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


def _route_table(t: Mapping[str, Any]) -> RouteTable:
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


def _merge_service(previous: ServiceInfo | None, name: str, d: Mapping[str, Any]) -> ServiceInfo:
    types = tuple(str(t.get("ServiceType", "")).lower() for t in d.get("ServiceType") or [])
    dns = [p["PrivateDnsName"] for p in d.get("PrivateDnsNames") or [] if p.get("PrivateDnsName")]
    if d.get("PrivateDnsName") and d["PrivateDnsName"] not in dns:
        dns.insert(0, d["PrivateDnsName"])
    return ServiceInfo(
        name=name,
        types=tuple(dict.fromkeys((previous.types if previous else ()) + types)),
        private_dns_names=tuple(dict.fromkeys((previous.private_dns_names if previous else ()) + tuple(dns))),
        base_dns_names=tuple(
            dict.fromkeys((previous.base_dns_names if previous else ()) + tuple(d.get("BaseEndpointDnsNames") or []))
        ),
        azs=tuple(d.get("AvailabilityZones") or []),
        verification_state=str(
            d.get("PrivateDnsNameVerificationState") or (previous.verification_state if previous else "")
        ),
    )


def _prefix_entries(ec2: EC2Client, pl_id: str) -> tuple[str, ...]:
    return tuple(
        e["Cidr"]
        for e in _pages(ec2, "get_managed_prefix_list_entries", "Entries", PrefixListId=pl_id)
        if e.get("Cidr")
    )
