"""A read-only snapshot of one VPC as the EC2 API describes it: frozen facts, no I/O (vpc_verify.aws.read fills it).

Pure data, so evaluators and rules can be tested on hand-made states without AWS.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vpc_verify.topology import IPNetwork


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
    """One security group permission, flattened to a single peer (the source of an inbound rule, the
    destination of an outbound one)."""

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
        """The rule's peer as the console shows it."""
        return self.cidr or self.source_group_id or self.prefix_list_id or "?"

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence."""
        ports = "all" if self.protocol == "-1" else f"{self.protocol}/{self.from_port}-{self.to_port}"
        return {"group_id": self.group_id, "ports": ports, "source": self.source(), "description": self.description}


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    """A security group and its rules."""

    id: str
    name: str
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...] = ()
    vpc_id: str = ""


@dataclass(frozen=True, slots=True)
class Route:
    """One route of a route table."""

    destination: str  # a CIDR or a prefix list id
    target: str  # gateway / vpce / nat / eni id, "local"
    state: str = "active"

    def to_dict(self) -> dict[str, str]:
        """JSON evidence."""
        return {"destination": self.destination, "target": self.target, "state": self.state}


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
    ipv6_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NaclEntry:
    """One numbered rule of a network ACL (stateless: one direction, evaluated in rule-number order)."""

    rule_number: int
    egress: bool  # True: outbound (traffic leaving the subnet); False: inbound
    protocol: str  # IANA number as a string ("6" tcp, "17" udp), "-1" for all
    action: str  # allow | deny
    cidr: str  # CidrBlock or Ipv6CidrBlock
    from_port: int | None = None  # None: every port (no PortRange)
    to_port: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence, as the console shows the rule."""
        ports = "all" if self.from_port is None else f"{self.from_port}-{self.to_port}"
        protocol = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp"}.get(self.protocol, self.protocol)
        return {
            "rule_number": self.rule_number,
            "direction": "outbound" if self.egress else "inbound",
            "protocol": protocol,
            "ports": ports,
            "cidr": self.cidr,
            "action": self.action,
        }


@dataclass(frozen=True, slots=True)
class NetworkAcl:
    """A network ACL, the subnets associated with it, and its entries (both directions)."""

    id: str
    default: bool
    subnet_ids: tuple[str, ...]
    entries: tuple[NaclEntry, ...]


@dataclass(frozen=True, slots=True)
class PrefixList:
    """An AWS-managed (or customer) prefix list with its entries."""

    id: str
    name: str
    cidrs: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence."""
        return {"id": self.id, "name": self.name, "cidrs": list(self.cidrs)}


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """What DescribeVpcEndpointServices says about a service: its DNS names and zones."""

    name: str
    types: tuple[str, ...]
    private_dns_names: tuple[str, ...]
    base_dns_names: tuple[str, ...]
    azs: tuple[str, ...]
    # PrivateDnsNameVerificationState: a partner's domain must be `verified` before its private DNS can be enabled
    verification_state: str = ""


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
    dns_record_ip_type: str = ""  # DnsOptions.DnsRecordIpType: ipv4 | dualstack | ipv6 | service-defined
    private_dns_only_for_inbound_resolver: bool = False  # DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint
    created: str = ""  # CreationTimestamp, ISO-8601
    policy_document: str = ""  # PolicyDocument (JSON text; empty for services without endpoint policies)
    # Resource and ServiceNetwork (VPC Lattice) endpoints: no ServiceName (`service` holds the ARN), and their
    # answers come from these prefixes rather than the ENIs' own addresses.
    resource_configuration_arn: str = ""
    service_network_arn: str = ""
    ipv4_prefixes: tuple[str, ...] = ()
    ipv6_prefixes: tuple[str, ...] = ()

    @property
    def lattice(self) -> bool:
        """A Resource or ServiceNetwork endpoint (VPC Lattice)."""
        return self.type in ("resource", "servicenetwork")


@dataclass(frozen=True, slots=True)
class ResourceConfiguration:
    """A VPC Lattice resource configuration a Resource endpoint connects to (vpc-lattice GetResourceConfiguration):
    the TCP port ranges consumers may use, which decide the port worth probing."""

    arn: str
    id: str = ""
    name: str = ""
    port_ranges: tuple[tuple[int, int], ...] = ()  # inclusive; empty: none given
    protocol: str = ""
    custom_domain_name: str = ""

    def covers(self, port: int) -> bool:
        """Whether `port` is in one of the ranges."""
        return any(low <= port <= high for low, high in self.port_ranges)

    def first_port(self) -> int | None:
        """The lowest port consumers may use (None when no range is given)."""
        return min((low for low, _ in self.port_ranges), default=None)

    def ports(self) -> list[str]:
        """The ranges as the API writes them: "443", "22-30"."""
        return [str(low) if low == high else f"{low}-{high}" for low, high in self.port_ranges]


@dataclass(frozen=True, slots=True)
class ResolverRule:
    """A Route 53 Resolver rule associated with the VPC: queries for `domain` (and below) go where it says."""

    id: str
    association_id: str
    domain: str  # lower case, no trailing dot
    type: str  # FORWARD | SYSTEM | RECURSIVE | DELEGATE
    name: str = ""
    targets: tuple[str, ...] = ()  # ip:port of a FORWARD rule's DNS servers

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence."""
        return {
            "resolver_rule_id": self.id,
            "association_id": self.association_id,
            "domain": self.domain,
            "rule_type": self.type,
            "name": self.name,
            "targets": list(self.targets),
        }


@dataclass(frozen=True, slots=True)
class FirewallRule:
    """One rule of a DNS Firewall rule group associated with the VPC, with what its domain list holds."""

    group_id: str
    association_id: str
    association_priority: int  # the group's priority on the VPC (lower first)
    priority: int  # the rule's priority in its group (lower first)
    name: str
    action: str  # ALLOW | BLOCK | ALERT
    domain_list_id: str
    domains: tuple[str, ...] | None  # None: the list could not be read (an AWS-managed list)
    block_response: str = ""  # NODATA | NXDOMAIN | OVERRIDE
    override_domain: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence."""
        return {
            "firewall_rule_group_id": self.group_id,
            "association_id": self.association_id,
            "rule_name": self.name,
            "rule_priority": self.priority,
            "action": self.action,
            "block_response": self.block_response,
            "domain_list_id": self.domain_list_id,
            "override_domain": self.override_domain or None,
        }


@dataclass(frozen=True, slots=True)
class HostedZone:
    """A private hosted zone associated with the VPC, and which of the names asked it holds a record for."""

    id: str
    name: str  # lower case, no trailing dot
    owner: str = ""  # the account (or service) that owns it
    records: tuple[str, ...] | None = None  # names (lower case) with a record among those looked up; None: not read
    profile_id: str = ""  # the Route 53 Profile that shares it with the VPC ("": associated with the VPC itself)

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence."""
        return {
            "hosted_zone_id": self.id,
            "zone": self.name,
            "owner": self.owner,
            "profile_id": self.profile_id or None,
        }


@dataclass(frozen=True, slots=True)
class Profile:
    """The Route 53 Profile associated with the VPC (at most one): the private hosted zones, Resolver rules, DNS
    Firewall rule groups and interface endpoints it shares with the VPC, by ARN. What could not be read is said, so
    that it is unverifiable rather than absent: `error` (its resources could not be listed), `unreadable` (a zone
    whose name or records could not be read: another account's)."""

    id: str
    association_id: str = ""
    name: str = ""
    owner: str = ""
    status: str = ""
    resources: tuple[tuple[str, str], ...] | None = None  # (resource type, ARN); None: not listed (`error`)
    error: str = ""
    unreadable: tuple[str, ...] = ()  # hosted zone ids whose name or records could not be read

    def hosted_zone_ids(self) -> tuple[str, ...]:
        """The ids of the private hosted zones it shares (ARNs `arn:aws:route53:::hostedzone/<id>`)."""
        return tuple(arn.rsplit("/", 1)[-1] for _, arn in self.resources or () if ":hostedzone/" in arn)

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence."""
        return {
            "profile_id": self.id,
            "profile_association_id": self.association_id,
            "profile_name": self.name,
            "owner": self.owner,
            "resources": None if self.resources is None else [arn for _, arn in self.resources],
            "unreadable_hosted_zones": list(self.unreadable),
            "error": self.error or None,
        }


@dataclass(frozen=True, slots=True)
class DnsPath:
    """What stands between the VPC's clients and the answers: the DHCP option set (which resolver clients use),
    Resolver rules, DNS Firewall rules and the private hosted zones associated with the VPC."""

    dhcp_options_id: str = ""
    domain_name_servers: tuple[str, ...] = ()  # from the DHCP options: AmazonProvidedDNS or custom servers
    rules: tuple[ResolverRule, ...] = ()
    firewall: tuple[FirewallRule, ...] = ()
    zones: tuple[HostedZone, ...] = ()  # the VPC's own, then those its Route 53 Profile shares
    profile: Profile | None = None  # the Route 53 Profile associated with the VPC, when there is one and it was read

    @property
    def custom_servers(self) -> tuple[str, ...]:
        """The DHCP options' name servers that are not the VPC resolver (clients on them bypass it)."""
        return tuple(s for s in self.domain_name_servers if s != "AmazonProvidedDNS")


@dataclass(frozen=True, slots=True)
class VpcState:
    """Everything read about one VPC."""

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
    network_acls: tuple[NetworkAcl, ...] = ()
    zones: Mapping[str, str] = field(default_factory=dict)  # AZ name -> AZ id (DescribeAvailabilityZones)
    unread: tuple[str, ...] = ()  # optional reads that were denied ("ec2:DescribeNetworkAcls"): their facts are unknown
    dns: DnsPath | None = None  # the DNS path (DHCP options, Resolver rules, firewall, zones); None: not read
    dhcp_options_id: str = ""
    # The resource configurations of the VPC's Resource endpoints, by ARN, and why one could not be read (denied,
    # another account's, the VPC Lattice API unreachable): then the port it shares is unknown, not wrong.
    resource_configurations: Mapping[str, ResourceConfiguration] = field(default_factory=dict)
    resource_configuration_errors: Mapping[str, str] = field(default_factory=dict)

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
            for cidr in (subnet.cidr, *subnet.ipv6_cidrs):
                if not cidr:
                    continue
                net = ipaddress.ip_network(cidr, strict=False)
                if ip.version == net.version and ip in net:
                    return subnet
        return None

    def network_acl_of(self, subnet_id: str) -> NetworkAcl | None:
        """The network ACL of a subnet: its association, else the VPC's default ACL; None when ACLs were not read."""
        default = None
        for acl in self.network_acls:
            if subnet_id in acl.subnet_ids:
                return acl
            if acl.default:
                default = acl
        return default

    def az_id_of(self, az: str | None) -> str | None:
        """The AZ id of an AZ name (or id) as this account maps it (names differ between accounts, ids do not),
        from the VPC's subnets, else DescribeAvailabilityZones; None if unknown."""
        if not az:
            return None
        for subnet in self.subnets.values():
            if az in (subnet.az, subnet.az_id):
                return subnet.az_id or None
        if az in self.zones:
            return self.zones[az]
        return az if az in self.zones.values() else None

    def az_name_of(self, az_id: str | None) -> str | None:
        """The AZ name this account gives an AZ id; None if unknown."""
        if not az_id:
            return None
        for subnet in self.subnets.values():
            if az_id in (subnet.az_id, subnet.az):
                return subnet.az or None
        return next((name for name, zid in self.zones.items() if az_id in (zid, name)), None)
