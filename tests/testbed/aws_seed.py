"""Seed the AWS emulator with the testbed's VPC, and return the facts as the emulator assigned them.

`seed`: 10.0.0.0/16, one subnet in each of two AZs, interface endpoints for sqs and kms (private DNS on, one ENI
per subnet, a security group admitting 443 from the VPC), a gateway endpoint for s3 on the route table of the first
subnet, and an agent security group. The testbed's DNS must serve exactly the returned ENI addresses.

Real-VPC shapes, each added to a seeded VPC (issues 11 and 12):
* `add_ipv6`: an Amazon-provided IPv6 /56 (global unicast: EC2 CreateVpc, AmazonProvidedIpv6CidrBlock), a /64 per
  subnet, and dual-stack interface endpoints (IpAddressType and DnsRecordIpType dualstack) whose ENIs hold an
  address of each family; the endpoints' group admits the VPC's IPv6 CIDR too.
* `add_secondary_cidr`: a secondary non-RFC1918 CIDR (100.64.0.0/16 by default) with subnets and endpoints in it.
* `restrict_agent_egress`: the agent's group loses its allow-all egress and gets what a locked-down VPC gives:
  443 to every VPC CIDR, 443 to the S3 prefix list, DNS to the VPC.
* `deny_in_network_acl`: one ACL on every subnet denying a port from one CIDR (a spoke's) by a numbered rule.
* `add_network_acls`: numbered NACL entries (rule-number order, stateless: ephemeral return ports 1024-65535,
  as the VPC user guide's NACL examples) on the agent's subnet and on the endpoints' other subnet, each with a deny
  rule numbered below its allows.
* `add_lambda`: a function with VpcConfig (the agent's subnet(s) and group) and its Hyperplane ENIs (one per
  subnet, the function's groups, AWS's description "AWS Lambda VPC ENI-<function>-..."). GetFunctionConfiguration
  returns the VpcConfig; the emulator needs an IAM role, which is made too.
* `add_partner_service`: a PrivateLink partner service whose private DNS name is not verified yet, and an interface
  endpoint to it with private DNS off.
* `add_lattice`: a VPC Lattice resource configuration (its TCP port ranges) and a service network, and the VPC's
  Resource and ServiceNetwork endpoints to them (tests/testbed/emulator_lattice.py adds what moto lacks);
  `lattice_box_endpoints` serves them in the box.
* `seed_hub_and_spoke`: interface endpoints in a hub VPC (private DNS off, as centralised designs do), a spoke VPC
  without any, a Transit Gateway (or a peering connection) with the spoke's route to the hub CIDR, and one private
  hosted zone per service (an alias to the hub endpoint's regional name) associated with both VPCs, or shared with
  the spoke through a Route 53 Profile (tests/testbed/emulator_profiles.py answers that API).
* `add_dns_path`: a DHCP option set with custom domain-name-servers; a Route 53 Resolver outbound endpoint and a
  FORWARD rule for a domain (most specific name wins: Route 53 developer guide) associated with the VPC; a private
  hosted zone shadowing a service name without its record (NXDOMAIN: "Considerations when working with a private
  hosted zone"); DNS Firewall BLOCK rules (NODATA, NXDOMAIN, OVERRIDE CNAME) associated with the VPC.
AZ names and AZ IDs come from the emulator's DescribeAvailabilityZones (moto maps us-east-1a to use1-az6, ...).

The emulator is patched to shape endpoints as AWS does (tests/testbed/emulator_vpce.py): ENI addresses inside
their subnets and AWS's DnsEntries, whose regional and zonal names the facts carry. (Unpatched, moto gave random
10.x addresses, which this module used to cover by associating each address's /16 with the VPC.)
"""

from __future__ import annotations

import io
import ipaddress
import json
import zipfile
from dataclasses import dataclass, field, replace
from typing import Any

REGION = "us-east-1"
VPC_CIDR = "10.0.0.0/16"
SUBNETS = {"us-east-1a": "10.0.1.0/24", "us-east-1b": "10.0.2.0/24"}
INTERFACE_SERVICES = ("sqs", "kms")
GATEWAY_SERVICE = "s3"
HUB_CIDR = "10.1.0.0/16"
HUB_SUBNETS = {"us-east-1a": "10.1.1.0/24", "us-east-1b": "10.1.2.0/24"}
SECONDARY_CIDR = "100.64.0.0/16"
EPHEMERAL = (1024, 65535)


@dataclass(frozen=True, slots=True)
class InterfaceFacts:
    """One seeded interface endpoint."""

    name: str
    vpce_id: str
    service: str
    dns_name: str  # the private DNS name (a wildcard for some services: *.dkr.ecr.<r>.amazonaws.com)
    regional_name: str
    zonal_names: dict[str, str]  # az -> name
    addresses: dict[str, str]  # ENI IPv4 address -> az
    eni_ids: tuple[str, ...]
    security_group_id: str
    private_dns: bool
    ipv6_addresses: dict[str, str] = field(default_factory=dict)  # ENI IPv6 address -> az
    ip_address_type: str = "ipv4"
    subnet_ids: tuple[str, ...] = ()

    @property
    def all_addresses(self) -> dict[str, str]:
        """Every ENI address (both families) -> az."""
        return {**self.addresses, **self.ipv6_addresses}


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
class LambdaFacts:
    """A seeded VPC Lambda function and its Hyperplane ENIs."""

    function_name: str
    function_arn: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    hyperplane: dict[str, str]  # az -> the Hyperplane ENI's address
    eni_ids: tuple[str, ...]


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
    gateway: GatewayFacts | None
    extra: dict[str, Any] = field(default_factory=dict)
    vpce_security_group_id: str = ""
    subnet_cidrs: dict[str, str] = field(default_factory=dict)  # subnet id -> IPv4 CIDR
    az_ids: dict[str, str] = field(default_factory=dict)  # az name -> az id
    ipv6_cidrs: tuple[str, ...] = ()
    network_acls: dict[str, str] = field(default_factory=dict)  # role (agent, endpoints) -> acl id
    function: LambdaFacts | None = None

    @property
    def agent_subnet_id(self) -> str:
        """The subnet the agent is placed in (the first AZ's; its route table has the s3 route)."""
        return self.subnets["us-east-1a"]

    @property
    def all_cidrs(self) -> tuple[str, ...]:
        """The VPC's CIDRs of both families."""
        return (*self.cidrs, *self.ipv6_cidrs)

    def dns_records(self) -> dict[str, list[str]]:
        """name -> addresses the testbed's DNS should serve for the seeded VPC (private DNS names included only
        where private DNS is on; wildcard names as they are: the box serves them as wildcards)."""
        records: dict[str, list[str]] = {}
        for facts in self.interfaces.values():
            every = facts.all_addresses
            if facts.private_dns:
                records[facts.dns_name] = list(every)
            records[facts.regional_name] = list(every)
            for az, name in facts.zonal_names.items():
                records[name] = [a for a, where in every.items() if where == az]
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


def private_dns_name(ec2: Any, service: str) -> str:
    """The service's private DNS name as DescribeVpcEndpointServices gives it (else <svc>.<region>.amazonaws.com)."""
    details = ec2.describe_vpc_endpoint_services(ServiceNames=[service])["ServiceDetails"]
    for d in details:
        if {"Interface"} & {t.get("ServiceType") for t in d.get("ServiceType") or []} and d.get("PrivateDnsName"):
            return str(d["PrivateDnsName"])
    return f"{service.split('.', 3)[3]}.{REGION}.amazonaws.com"


def az_ids(ec2: Any) -> dict[str, str]:
    """AZ name -> AZ ID, as the (emulated) account maps them."""
    return {z["ZoneName"]: z["ZoneId"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}


def create_interface_endpoints(
    ec2: Any,
    vpc_id: str,
    services: tuple[str, ...],
    subnet_ids: list[str],
    security_group_id: str,
    *,
    private_dns: bool | dict[str, bool] = True,
    ip_address_type: str = "ipv4",
    dns_options: dict[str, Any] | None = None,
) -> dict[str, InterfaceFacts]:
    """Create interface endpoints and return their facts (ENI addresses by family, names from DnsEntries)."""
    out: dict[str, InterfaceFacts] = {}
    for svc in services:
        service = f"com.amazonaws.{REGION}.{svc}"
        on = private_dns if isinstance(private_dns, bool) else private_dns.get(svc, True)
        kwargs: dict[str, Any] = {}
        if ip_address_type != "ipv4":
            kwargs["IpAddressType"] = ip_address_type
            kwargs["DnsOptions"] = {"DnsRecordIpType": ip_address_type, **(dns_options or {})}
        elif dns_options:
            kwargs["DnsOptions"] = dns_options
        e = ec2.create_vpc_endpoint(
            VpcId=vpc_id,
            ServiceName=service,
            VpcEndpointType="Interface",
            SubnetIds=subnet_ids,
            SecurityGroupIds=[security_group_id],
            PrivateDnsEnabled=on,
            **kwargs,
        )["VpcEndpoint"]
        enis = ec2.describe_network_interfaces(NetworkInterfaceIds=e["NetworkInterfaceIds"])["NetworkInterfaces"]
        addresses = {n["PrivateIpAddress"]: n["AvailabilityZone"] for n in enis if n.get("PrivateIpAddress")}
        v6 = {a["Ipv6Address"]: n["AvailabilityZone"] for n in enis for a in n.get("Ipv6Addresses") or []}
        regional, zonal = endpoint_names(e, sorted({n["AvailabilityZone"] for n in enis}))
        out[svc] = InterfaceFacts(
            name=svc,
            vpce_id=e["VpcEndpointId"],
            service=service,
            dns_name=private_dns_name(ec2, service),
            regional_name=regional,
            zonal_names=zonal,
            addresses=addresses,
            eni_ids=tuple(e["NetworkInterfaceIds"]),
            security_group_id=security_group_id,
            private_dns=bool(e.get("PrivateDnsEnabled")),
            ipv6_addresses=v6,
            ip_address_type=str(e.get("IpAddressType") or "ipv4"),
            subnet_ids=tuple(subnet_ids),
        )
    return out


def seed(
    ec2: Any,
    *,
    private_dns: bool | dict[str, bool] = True,
    port: int = 443,
    dns_support: bool = True,
    dns_hostnames: bool = True,
    gateway_route: bool = True,
    services: tuple[str, ...] = INTERFACE_SERVICES,
    cidr: str = VPC_CIDR,
    subnets: dict[str, str] | None = None,
    gateway: bool = True,
    admit: tuple[str, ...] = (),
) -> SeedFacts:
    """Create the testbed VPC through `ec2` (a boto3 EC2 client of the emulator) and return its facts.

    `cidr`/`subnets` give another VPC (a hub), `gateway=False` leaves out the s3 gateway endpoint, and `admit` adds
    CIDRs the endpoints' group admits on `port` besides the VPC's own (a spoke's)."""
    subnet_cidrs = subnets or SUBNETS
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": dns_support})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": dns_hostnames})
    made = {
        az: ec2.create_subnet(VpcId=vpc_id, CidrBlock=block, AvailabilityZone=az)["Subnet"]["SubnetId"]
        for az, block in subnet_cidrs.items()
    }
    agent_sg = ec2.create_security_group(GroupName="vpc-verify-agent", Description="the agent", VpcId=vpc_id)["GroupId"]
    vpce_sg = ec2.create_security_group(GroupName="vpce", Description="interface endpoints", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=vpce_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": c} for c in (cidr, *admit)]}
        ],
    )

    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    main_table = next(t["RouteTableId"] for t in tables if any(a.get("Main") for a in t.get("Associations", [])))
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=made["us-east-1a"])

    interfaces = create_interface_endpoints(
        ec2, vpc_id, services, list(made.values()), vpce_sg, private_dns=private_dns
    )
    gateway_facts = None
    if gateway:
        endpoint = ec2.create_vpc_endpoint(
            VpcId=vpc_id,
            ServiceName=f"com.amazonaws.{REGION}.{GATEWAY_SERVICE}",
            VpcEndpointType="Gateway",
            RouteTableIds=[table] if gateway_route else [],
        )["VpcEndpoint"]
        lists = ec2.describe_prefix_lists(
            Filters=[{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{REGION}.{GATEWAY_SERVICE}"]}]
        )
        pl = lists["PrefixLists"][0]
        entries = ec2.get_managed_prefix_list_entries(PrefixListId=pl["PrefixListId"])["Entries"]
        gateway_facts = GatewayFacts(
            name=GATEWAY_SERVICE,
            vpce_id=endpoint["VpcEndpointId"],
            service=endpoint["ServiceName"],
            dns_name=f"{GATEWAY_SERVICE}.{REGION}.amazonaws.com",
            route_table_id=table,
            prefix_list_id=pl["PrefixListId"],
            prefix_list_cidrs=tuple(e["Cidr"] for e in entries),
        )

    return SeedFacts(
        region=REGION,
        vpc_id=vpc_id,
        cidrs=(cidr,),
        subnets=made,
        main_route_table_id=main_table,
        agent_security_group_id=agent_sg,
        interfaces=interfaces,
        gateway=gateway_facts,
        vpce_security_group_id=vpce_sg,
        subnet_cidrs={made[az]: block for az, block in subnet_cidrs.items()},
        az_ids=az_ids(ec2),
    )


# ------------------------------------------------------------------------------------------ real-VPC shapes


def _admit(ec2: Any, group_id: str, cidrs: tuple[str, ...], port: int = 443) -> None:
    v4 = [{"CidrIp": c} for c in cidrs if ":" not in c]
    v6 = [{"CidrIpv6": c} for c in cidrs if ":" in c]
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": v4, "Ipv6Ranges": v6}],
    )


def add_ipv6(
    ec2: Any,
    facts: SeedFacts,
    services: tuple[str, ...] = ("sts",),
    *,
    ipv6_cidr: str | None = None,
    ipv6_only: tuple[str, ...] = (),
) -> SeedFacts:
    """An IPv6 /56 for the VPC (Amazon-provided, or `ipv6_cidr`), a /64 per subnet, dual-stack endpoints for
    `services`, and IPv6-only endpoints (IpAddressType and DnsRecordIpType ipv6: ENIs without an IPv4 address,
    AAAA records only) for `ipv6_only`."""
    if ipv6_cidr:
        ec2.associate_vpc_cidr_block(VpcId=facts.vpc_id, Ipv6CidrBlock=ipv6_cidr)
    else:
        ec2.associate_vpc_cidr_block(VpcId=facts.vpc_id, AmazonProvidedIpv6CidrBlock=True)
    vpc = ec2.describe_vpcs(VpcIds=[facts.vpc_id])["Vpcs"][0]
    block = next(a["Ipv6CidrBlock"] for a in vpc["Ipv6CidrBlockAssociationSet"] if a.get("Ipv6CidrBlock"))
    sixty_fours = ipaddress.ip_network(block).subnets(new_prefix=64)
    next(sixty_fours)  # the first /64 stays free, as a console-made VPC leaves it
    for subnet_id in facts.subnets.values():
        ec2.associate_subnet_cidr_block(SubnetId=subnet_id, Ipv6CidrBlock=str(next(sixty_fours)))
    _admit(ec2, facts.vpce_security_group_id, (block,))
    made = create_interface_endpoints(
        ec2,
        facts.vpc_id,
        services,
        list(facts.subnets.values()),
        facts.vpce_security_group_id,
        ip_address_type="dualstack",
    )
    if ipv6_only:
        made |= create_interface_endpoints(
            ec2,
            facts.vpc_id,
            ipv6_only,
            list(facts.subnets.values()),
            facts.vpce_security_group_id,
            ip_address_type="ipv6",
        )
    return replace(facts, ipv6_cidrs=(*facts.ipv6_cidrs, block), interfaces={**facts.interfaces, **made})


def add_secondary_cidr(
    ec2: Any, facts: SeedFacts, cidr: str = SECONDARY_CIDR, services: tuple[str, ...] = ("logs",)
) -> SeedFacts:
    """A secondary CIDR (non-RFC1918 by default) with a subnet per AZ and interface endpoints whose ENIs live there."""
    ec2.associate_vpc_cidr_block(VpcId=facts.vpc_id, CidrBlock=cidr)
    network = ipaddress.ip_network(cidr)
    blocks = list(network.subnets(new_prefix=24))
    made = {
        az: ec2.create_subnet(VpcId=facts.vpc_id, CidrBlock=str(blocks[i + 1]), AvailabilityZone=az)["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate(sorted(facts.subnets))
    }
    _admit(ec2, facts.vpce_security_group_id, (cidr,))
    endpoints = create_interface_endpoints(
        ec2, facts.vpc_id, services, list(made.values()), facts.vpce_security_group_id
    )
    cidrs = {made[az]: str(blocks[i + 1]) for i, az in enumerate(sorted(facts.subnets))}
    extra = {**facts.extra, "secondary_subnets": made}
    return replace(
        facts,
        cidrs=(*facts.cidrs, cidr),
        interfaces={**facts.interfaces, **endpoints},
        subnet_cidrs={**facts.subnet_cidrs, **cidrs},
        extra=extra,
    )


def restrict_agent_egress(ec2: Any, facts: SeedFacts) -> SeedFacts:
    """The agent's group: no allow-all egress; 443 to every VPC CIDR and to the S3 prefix list, DNS to the VPC."""
    group = ec2.describe_security_groups(GroupIds=[facts.agent_security_group_id])["SecurityGroups"][0]
    if group.get("IpPermissionsEgress"):
        ec2.revoke_security_group_egress(
            GroupId=facts.agent_security_group_id, IpPermissions=group["IpPermissionsEgress"]
        )
    v4 = [{"CidrIp": c, "Description": "VPC"} for c in facts.all_cidrs if ":" not in c]
    v6 = [{"CidrIpv6": c, "Description": "VPC"} for c in facts.all_cidrs if ":" in c]
    rules: list[dict[str, Any]] = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": v4, "Ipv6Ranges": v6},
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": v4},
        {"IpProtocol": "tcp", "FromPort": 53, "ToPort": 53, "IpRanges": v4},
    ]
    if facts.gateway is not None:
        rules.append(
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "PrefixListIds": [{"PrefixListId": facts.gateway.prefix_list_id, "Description": "S3 gateway"}],
            }
        )
    ec2.authorize_security_group_egress(GroupId=facts.agent_security_group_id, IpPermissions=rules)
    return facts


def _nacl_entry(
    ec2: Any, acl: str, number: int, *, egress: bool, cidr: str, ports: tuple[int, int], action: str = "allow"
) -> None:
    kwargs: dict[str, Any] = {"Ipv6CidrBlock": cidr} if ":" in cidr else {"CidrBlock": cidr}
    ec2.create_network_acl_entry(
        NetworkAclId=acl,
        RuleNumber=number,
        Protocol="6",
        RuleAction=action,
        Egress=egress,
        PortRange={"From": ports[0], "To": ports[1]},
        **kwargs,
    )


def _associate_acl(ec2: Any, vpc_id: str, acl: str, subnet_id: str) -> None:
    acls = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NetworkAcls"]
    for a in acls:
        for assoc in a.get("Associations") or []:
            if assoc.get("SubnetId") == subnet_id:
                ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=acl)
                return


def add_network_acls(ec2: Any, facts: SeedFacts, *, port: int = 443) -> SeedFacts:
    """NACLs that let a healthy VPC work, numbered as teams number them, each with a deny rule before its allows.

    The agent's subnet: out `port` to every VPC CIDR (100+), in the ephemeral return ports (100+), and endpoint ENIs
    live there too, so in `port` from the VPC and out the ephemeral ports (200+); rule 90 denies SSH in. The other
    subnet (endpoint ENIs only): in `port` from the VPC, out the ephemeral ports; rule 50 denies RDP in."""
    agent_subnet = facts.agent_subnet_id
    others = [s for s in facts.subnets.values() if s != agent_subnet]
    acls: dict[str, str] = {}
    for role, subnets in (("agent", [agent_subnet]), ("endpoints", others)):
        if not subnets:
            continue
        acl = ec2.create_network_acl(VpcId=facts.vpc_id)["NetworkAcl"]["NetworkAclId"]
        ec2.create_tags(Resources=[acl], Tags=[{"Key": "Name", "Value": f"vpcbox-{role}"}])
        cidrs = facts.all_cidrs
        if role == "agent":
            _nacl_entry(ec2, acl, 90, egress=False, cidr="0.0.0.0/0", ports=(22, 22), action="deny")
            for i, cidr in enumerate(cidrs):
                _nacl_entry(ec2, acl, 100 + 10 * i, egress=True, cidr=cidr, ports=(port, port))
                _nacl_entry(ec2, acl, 100 + 10 * i, egress=False, cidr=cidr, ports=EPHEMERAL)
            base = 200
        else:
            _nacl_entry(ec2, acl, 50, egress=False, cidr="0.0.0.0/0", ports=(3389, 3389), action="deny")
            base = 100
        for i, cidr in enumerate(cidrs):
            _nacl_entry(ec2, acl, base + 10 * i, egress=False, cidr=cidr, ports=(port, port))
            _nacl_entry(ec2, acl, base + 10 * i, egress=True, cidr=cidr, ports=EPHEMERAL)
        if role == "agent" and facts.gateway is not None:  # a NACL cannot name a prefix list: its CIDRs
            for i, cidr in enumerate(facts.gateway.prefix_list_cidrs):
                _nacl_entry(ec2, acl, 300 + 10 * i, egress=True, cidr=cidr, ports=(port, port))
                _nacl_entry(ec2, acl, 300 + 10 * i, egress=False, cidr=cidr, ports=EPHEMERAL)
        for subnet_id in subnets:
            _associate_acl(ec2, facts.vpc_id, acl, subnet_id)
        acls[role] = acl
    return replace(facts, network_acls={**facts.network_acls, **acls})


def deny_in_network_acl(
    ec2: Any,
    facts: SeedFacts,
    cidr: str,
    *,
    port: int = 443,
    rule: int = 90,
    egress: bool = False,
    subnet_ids: tuple[str, ...] | None = None,
) -> str:
    """A network ACL on the VPC's subnets (all, or `subnet_ids`) that denies `port` from `cidr` (inbound; with
    `egress`, to `cidr` outbound) by rule `rule`, and allows the rest both ways (rule 100), as a team blocking one
    peer does. Returns its id."""
    acl = ec2.create_network_acl(VpcId=facts.vpc_id)["NetworkAcl"]["NetworkAclId"]
    _nacl_entry(ec2, acl, rule, egress=egress, cidr=cidr, ports=(port, port), action="deny")
    for way in (False, True):
        _nacl_entry(ec2, acl, 100, egress=way, cidr="0.0.0.0/0", ports=(0, 65535))
    for subnet_id in subnet_ids or tuple(facts.subnets.values()):
        _associate_acl(ec2, facts.vpc_id, acl, subnet_id)
    return str(acl)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def add_lambda(
    clients: dict[str, Any],
    facts: SeedFacts,
    function_name: str = "vpc-verify",
    *,
    subnet_ids: tuple[str, ...] | None = None,
    security_group_ids: tuple[str, ...] | None = None,
) -> SeedFacts:
    """A VPC Lambda function (clients: ec2, lambda, iam) in the agent's subnet(s) with the agent's group, and its
    Hyperplane ENIs."""
    ec2, lam, iam = clients["ec2"], clients["lambda"], clients["iam"]
    subnets = subnet_ids or (facts.agent_subnet_id,)
    groups = security_group_ids or (facts.agent_security_group_id,)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName=f"{function_name}-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    created = lam.create_function(
        FunctionName=function_name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
        VpcConfig={"SubnetIds": list(subnets), "SecurityGroupIds": list(groups)},
    )
    hyperplane: dict[str, str] = {}
    eni_ids = []
    by_id = {v: k for k, v in facts.subnets.items()}
    for subnet_id in subnets:
        eni = ec2.create_network_interface(
            SubnetId=subnet_id,
            Groups=list(groups),
            Description=f"AWS Lambda VPC ENI-{function_name}-{subnet_id[-8:]}",
        )["NetworkInterface"]
        hyperplane[by_id.get(subnet_id, eni["AvailabilityZone"])] = eni["PrivateIpAddress"]
        eni_ids.append(eni["NetworkInterfaceId"])
    function = LambdaFacts(
        function_name=function_name,
        function_arn=created["FunctionArn"],
        subnet_ids=tuple(subnets),
        security_group_ids=tuple(groups),
        hyperplane=hyperplane,
        eni_ids=tuple(eni_ids),
    )
    return replace(facts, function=function)


# ------------------------------------------------------------------------------------------- partner services


def add_partner_service(
    clients: dict[str, Any], facts: SeedFacts, private_dns_name: str = "api.partner.example.com", name: str = "partner"
) -> tuple[SeedFacts, str]:
    """A PrivateLink partner service (an endpoint service in front of a Network Load Balancer, with a private DNS
    name its provider has not verified yet: pendingVerification) and this VPC's interface endpoint to it, private DNS
    off (AWS refuses it on until the name is verified). clients: ec2, elbv2. Returns the facts and the service id."""
    ec2, elbv2 = clients["ec2"], clients["elbv2"]
    nlb = elbv2.create_load_balancer(
        Name=f"{name}-nlb", Subnets=list(facts.subnets.values()), Type="network", Scheme="internal"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    config = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb], PrivateDnsName=private_dns_name, AcceptanceRequired=False
    )["ServiceConfiguration"]
    e = ec2.create_vpc_endpoint(
        VpcId=facts.vpc_id,
        ServiceName=config["ServiceName"],
        VpcEndpointType="Interface",
        SubnetIds=list(facts.subnets.values()),
        SecurityGroupIds=[facts.vpce_security_group_id],
        PrivateDnsEnabled=False,
    )["VpcEndpoint"]
    enis = ec2.describe_network_interfaces(NetworkInterfaceIds=e["NetworkInterfaceIds"])["NetworkInterfaces"]
    regional, zonal = endpoint_names(e, sorted({n["AvailabilityZone"] for n in enis}))
    partner = InterfaceFacts(
        name=name,
        vpce_id=e["VpcEndpointId"],
        service=config["ServiceName"],
        dns_name=private_dns_name,
        regional_name=regional,
        zonal_names=zonal,
        addresses={n["PrivateIpAddress"]: n["AvailabilityZone"] for n in enis},
        eni_ids=tuple(e["NetworkInterfaceIds"]),
        security_group_id=facts.vpce_security_group_id,
        private_dns=False,
        subnet_ids=tuple(facts.subnets.values()),
    )
    return replace(facts, interfaces={**facts.interfaces, name: partner}), str(config["ServiceId"])


# ----------------------------------------------------------------------------------------------- VPC Lattice


@dataclass(frozen=True, slots=True)
class LatticeEndpointFacts:
    """A seeded Resource or ServiceNetwork endpoint (VPC Lattice)."""

    name: str  # the name `discover` gives it: the configuration's or the service network's id
    kind: str  # resource | servicenetwork
    vpce_id: str
    arn: str  # its resource configuration or service network
    dns_name: str  # its DNS entry
    eni_addresses: tuple[str, ...]
    prefixes: tuple[str, ...]  # its Ipv4Prefixes (a ServiceNetwork endpoint's /28 per subnet)
    port_ranges: tuple[str, ...] = ()  # a Resource endpoint's configuration's

    @property
    def answers(self) -> list[str]:
        """What its name answers: an address in each prefix, else the interfaces' own addresses."""
        if self.prefixes:
            return [str(ipaddress.ip_network(p).network_address + 5) for p in self.prefixes]
        return list(self.eni_addresses)


def add_lattice(
    clients: dict[str, Any], facts: SeedFacts, *, port_ranges: tuple[str, ...] = ("8443",)
) -> dict[str, LatticeEndpointFacts]:
    """A VPC Lattice resource configuration sharing `port_ranges` (TCP) and this VPC's Resource endpoint to it, a
    service network and this VPC's ServiceNetwork endpoint to it, both in every subnet with a group admitting the
    VPC on 443 and on the shared ports. clients: ec2, vpc-lattice."""
    ec2, lattice = clients["ec2"], clients["vpc-lattice"]
    group = ec2.create_security_group(GroupName="lattice", Description="lattice endpoints", VpcId=facts.vpc_id)[
        "GroupId"
    ]
    for ports in ("443", *port_ranges):
        low, _, high = ports.partition("-")
        ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": int(low),
                    "ToPort": int(high or low),
                    "IpRanges": [{"CidrIp": c} for c in facts.cidrs],
                }
            ],
        )
    config = lattice.create_resource_configuration(
        name="orders-db",
        type="SINGLE",
        portRanges=list(port_ranges),
        protocol="TCP",
        resourceConfigurationDefinition={"ipResource": {"ipAddress": "10.9.0.5"}},
    )
    network = lattice.create_service_network(name="shared-services")
    out: dict[str, LatticeEndpointFacts] = {}
    for kind, arn, argument in (
        ("resource", config["arn"], {"ResourceConfigurationArn": config["arn"]}),
        ("servicenetwork", network["arn"], {"ServiceNetworkArn": network["arn"]}),
    ):
        e = ec2.create_vpc_endpoint(
            VpcId=facts.vpc_id,
            VpcEndpointType="Resource" if kind == "resource" else "ServiceNetwork",
            SubnetIds=list(facts.subnets.values()),
            SecurityGroupIds=[group],
            **argument,
        )["VpcEndpoint"]
        enis = ec2.describe_network_interfaces(NetworkInterfaceIds=e["NetworkInterfaceIds"])["NetworkInterfaces"]
        name = arn.rsplit("/", 1)[-1]
        out[name] = LatticeEndpointFacts(
            name=name,
            kind=kind,
            vpce_id=e["VpcEndpointId"],
            arn=arn,
            dns_name=e["DnsEntries"][0]["DnsName"],
            eni_addresses=tuple(n["PrivateIpAddress"] for n in enis),
            prefixes=tuple(p for s in e.get("Ipv4Prefixes") or [] for p in s.get("IpPrefixes") or []),
            port_ranges=tuple(port_ranges) if kind == "resource" else (),
        )
    return out


def lattice_box_endpoints(
    lattice: dict[str, LatticeEndpointFacts], faults: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The box's endpoints for seeded Lattice endpoints: each DNS entry answering as AWS does, a TLS server on the
    port the endpoint shares (a Resource endpoint's lowest, else 443)."""
    out = []
    for e in lattice.values():
        port = int(e.port_ranges[0].split("-")[0]) if e.port_ranges else 443
        out.append(
            {
                "name": e.name,
                "type": "service",
                "dns_name": e.dns_name,
                "addresses": e.answers,
                "port": port,
                "fault": (faults or {}).get(e.kind, "none"),
            }
        )
    return out


# ------------------------------------------------------------------------------------------- hub and spoke


@dataclass(frozen=True, slots=True)
class HubSpokeFacts:
    """A hub VPC holding the interface endpoints and a spoke VPC reaching them."""

    hub: SeedFacts
    spoke: SeedFacts
    via: str  # tgw | peering
    connection_id: str  # the transit gateway or the peering connection
    hosted_zones: dict[str, str]  # service name (e.g. sqs) -> private hosted zone id
    profile_id: str = ""  # the Route 53 Profile sharing the zones with the spoke ("": associated with it directly)


def seed_hub_and_spoke(
    ec2: Any,
    route53: Any,
    *,
    via: str = "tgw",
    services: tuple[str, ...] = INTERFACE_SERVICES,
    profiles: Any = None,
    foreign_zones: tuple[str, ...] = (),
) -> HubSpokeFacts:
    """The centralised design: endpoints in a hub (private DNS off), a spoke with its route to the hub's CIDR, and a
    private hosted zone per service (alias to the hub endpoint's regional name) shared with the spoke: associated
    with it, or, given a Route 53 Profiles client `profiles`, through a Profile associated with the spoke (which
    also holds `foreign_zones`, zone ids of another account's that this account cannot read)."""
    spoke = seed(ec2, services=(), gateway=True)
    hub = seed(
        ec2, services=services, cidr=HUB_CIDR, subnets=HUB_SUBNETS, private_dns=False, gateway=False, admit=(VPC_CIDR,)
    )
    if via == "tgw":
        tgw = ec2.create_transit_gateway(Description="hub-and-spoke")["TransitGateway"]["TransitGatewayId"]
        for facts in (hub, spoke):
            ec2.create_transit_gateway_vpc_attachment(
                TransitGatewayId=tgw, VpcId=facts.vpc_id, SubnetIds=list(facts.subnets.values())
            )
        connection = tgw
        target: dict[str, str] = {"TransitGatewayId": tgw}
    elif via == "peering":
        connection = ec2.create_vpc_peering_connection(VpcId=spoke.vpc_id, PeerVpcId=hub.vpc_id)[
            "VpcPeeringConnection"
        ]["VpcPeeringConnectionId"]
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=connection)
        target = {"VpcPeeringConnectionId": connection}
    else:
        raise ValueError(f"via {via!r}: expected tgw or peering")
    assert spoke.gateway is not None
    for table in (spoke.gateway.route_table_id, spoke.main_route_table_id):
        ec2.create_route(RouteTableId=table, DestinationCidrBlock=HUB_CIDR, **target)
    for table in (hub.main_route_table_id,):
        ec2.create_route(RouteTableId=table, DestinationCidrBlock=VPC_CIDR, **target)
    zones: dict[str, str] = {}
    for name, endpoint in hub.interfaces.items():
        zone = route53.create_hosted_zone(
            Name=endpoint.dns_name,
            CallerReference=f"hub-{name}",
            HostedZoneConfig={"Comment": f"centralised {name} endpoint", "PrivateZone": True},
            VPC={"VPCRegion": REGION, "VPCId": hub.vpc_id},
        )["HostedZone"]["Id"].split("/")[-1]
        if profiles is None:
            route53.associate_vpc_with_hosted_zone(HostedZoneId=zone, VPC={"VPCRegion": REGION, "VPCId": spoke.vpc_id})
        route53.change_resource_record_sets(
            HostedZoneId=zone,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "CREATE",
                        "ResourceRecordSet": {
                            "Name": endpoint.dns_name,
                            "Type": "A",
                            "AliasTarget": {
                                "HostedZoneId": "Z7HUB22UULQXV",
                                "DNSName": endpoint.regional_name,
                                "EvaluateTargetHealth": False,
                            },
                        },
                    }
                ]
            },
        )
        zones[name] = zone
    profile_id = ""
    if profiles is not None:
        profile_id = profiles.create_profile(Name="hub-endpoints")["Profile"]["Id"]
        for name, zone in [*zones.items(), *((f"foreign-{i}", z) for i, z in enumerate(foreign_zones))]:
            profiles.associate_resource_to_profile(
                ProfileId=profile_id, ResourceArn=f"arn:aws:route53:::hostedzone/{zone}", Name=f"zone-{name}"
            )
        profiles.associate_profile(ProfileId=profile_id, ResourceId=spoke.vpc_id, Name="spoke")
    return HubSpokeFacts(
        hub=hub, spoke=spoke, via=via, connection_id=connection, hosted_zones=zones, profile_id=profile_id
    )


# ----------------------------------------------------------------------------------------------- DNS path


@dataclass(frozen=True, slots=True)
class DnsPathFacts:
    """What stands between a VPC's clients and the answers: options, rules, zones, firewall."""

    dhcp_options_id: str
    domain_name_servers: tuple[str, ...]
    resolver_endpoint_id: str
    forward_rule_id: str
    forward_domain: str
    forward_targets: tuple[str, ...]
    forward_association_id: str
    shadow_zone_id: str
    shadow_zone: str
    firewall_rule_group_id: str
    firewall_association_id: str
    firewall_blocks: dict[str, str]  # domain -> NODATA | NXDOMAIN | OVERRIDE
    firewall_override_domain: str


def add_dns_path(
    clients: dict[str, Any],
    facts: SeedFacts,
    *,
    domain_name_servers: tuple[str, ...] = ("10.0.2.53", "AmazonProvidedDNS"),
    forward_domain: str = "corp.example.com",
    forward_targets: tuple[str, ...] = ("192.168.10.53",),
    shadow_zone: str = "ssm.us-east-1.amazonaws.com",
    firewall_blocks: dict[str, str] | None = None,
    override_domain: str = "blocked.walled-garden.example.com",
) -> tuple[SeedFacts, DnsPathFacts]:
    """A DHCP option set with custom name servers, a Resolver FORWARD rule (with its outbound endpoint), a private
    hosted zone shadowing a service name without its record, and DNS Firewall BLOCK rules, all on the VPC.
    clients: ec2, route53, route53resolver."""
    ec2, route53, resolver = clients["ec2"], clients["route53"], clients["route53resolver"]
    blocks = firewall_blocks or {"kms.us-east-1.amazonaws.com": "NXDOMAIN"}
    dhcp = ec2.create_dhcp_options(
        DhcpConfigurations=[
            {"Key": "domain-name-servers", "Values": list(domain_name_servers)},
            {"Key": "domain-name", "Values": ["ec2.internal"]},
        ]
    )["DhcpOptions"]["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=dhcp, VpcId=facts.vpc_id)

    resolver_sg = ec2.create_security_group(
        GroupName="resolver-outbound", Description="Route 53 Resolver outbound endpoint", VpcId=facts.vpc_id
    )["GroupId"]
    endpoint = resolver.create_resolver_endpoint(
        CreatorRequestId="vpcbox-outbound",
        Name="outbound",
        SecurityGroupIds=[resolver_sg],
        Direction="OUTBOUND",
        IpAddresses=[{"SubnetId": s} for s in facts.subnets.values()],
    )["ResolverEndpoint"]["Id"]
    rule = resolver.create_resolver_rule(
        CreatorRequestId="vpcbox-forward",
        Name="forward-corp",
        RuleType="FORWARD",
        DomainName=forward_domain,
        TargetIps=[{"Ip": ip, "Port": 53} for ip in forward_targets],
        ResolverEndpointId=endpoint,
    )["ResolverRule"]["Id"]
    association = resolver.associate_resolver_rule(ResolverRuleId=rule, VPCId=facts.vpc_id, Name="forward-corp")[
        "ResolverRuleAssociation"
    ]["Id"]

    shadow = route53.create_hosted_zone(
        Name=shadow_zone,
        CallerReference="vpcbox-shadow",
        HostedZoneConfig={"Comment": "shadows the service name, no record", "PrivateZone": True},
        VPC={"VPCRegion": REGION, "VPCId": facts.vpc_id},
    )["HostedZone"]["Id"].split("/")[-1]

    domains = resolver.create_firewall_domain_list(CreatorRequestId="vpcbox-domains", Name="blocked")[
        "FirewallDomainList"
    ]["Id"]
    group = resolver.create_firewall_rule_group(CreatorRequestId="vpcbox-group", Name="vpcbox")["FirewallRuleGroup"][
        "Id"
    ]
    for priority, (domain, response) in enumerate(sorted(blocks.items()), start=1):
        one = resolver.create_firewall_domain_list(CreatorRequestId=f"vpcbox-d{priority}", Name=f"block-{priority}")[
            "FirewallDomainList"
        ]["Id"]
        resolver.update_firewall_domains(FirewallDomainListId=one, Operation="ADD", Domains=[domain])
        resolver.update_firewall_domains(FirewallDomainListId=domains, Operation="ADD", Domains=[domain])
        rule_args: dict[str, Any] = {"Action": "BLOCK", "BlockResponse": response}
        if response == "OVERRIDE":
            rule_args |= {
                "BlockOverrideDomain": override_domain,
                "BlockOverrideDnsType": "CNAME",
                "BlockOverrideTtl": 60,
            }
        resolver.create_firewall_rule(
            CreatorRequestId=f"vpcbox-r{priority}",
            FirewallRuleGroupId=group,
            FirewallDomainListId=one,
            Priority=priority,
            Name=f"block-{priority}",
            **rule_args,
        )
    firewall_association = resolver.associate_firewall_rule_group(
        CreatorRequestId="vpcbox-fw", FirewallRuleGroupId=group, VpcId=facts.vpc_id, Priority=101, Name="vpcbox"
    )["FirewallRuleGroupAssociation"]["Id"]
    path = DnsPathFacts(
        dhcp_options_id=dhcp,
        domain_name_servers=domain_name_servers,
        resolver_endpoint_id=endpoint,
        forward_rule_id=rule,
        forward_domain=forward_domain,
        forward_targets=forward_targets,
        forward_association_id=association,
        shadow_zone_id=shadow,
        shadow_zone=shadow_zone,
        firewall_rule_group_id=group,
        firewall_association_id=firewall_association,
        firewall_blocks=dict(blocks),
        firewall_override_domain=override_domain,
    )
    return replace(facts, extra={**facts.extra, "dns_path": path}), path
