"""The fixes findings suggest, as the AWS CLI commands that make them (shared by the rules that need one)."""

from __future__ import annotations

from vpc_verify.judge.facts import AwsSide
from vpc_verify.topology import Endpoint


def create_endpoint(side: AwsSide, endpoint: Endpoint) -> str:
    """Create the missing VPC endpoint for a topology endpoint."""
    vpc = side.state.vpc_id
    if endpoint.type == "gateway":
        table = side.agent_table
        extra = f" --route-table-ids {table.id if table else '<route table of the agent subnet>'}"
        kind = "Gateway"
    else:
        extra = " --subnet-ids <one subnet per AZ> --security-group-ids <sg admitting 443> --private-dns-enabled"
        kind = "Interface"
    return (
        f"Create it: aws ec2 create-vpc-endpoint --vpc-id {vpc} --vpc-endpoint-type {kind} "
        f"--service-name {endpoint.service}{extra}"
    )


def enable_private_dns(vpce_id: str) -> str:
    """Turn private DNS on for an interface endpoint."""
    return f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce_id} --private-dns-enabled"


def enable_vpc_attribute(vpc_id: str, attribute: str) -> str:
    """Turn enableDnsSupport or enableDnsHostnames on."""
    flag = "--enable-dns-support" if attribute == "enableDnsSupport" else "--enable-dns-hostnames"
    return f"aws ec2 modify-vpc-attribute --vpc-id {vpc_id} {flag} '{{\"Value\":true}}'"


def add_route_table(vpce_id: str, table_id: str) -> str:
    """Associate a gateway endpoint with a route table."""
    return f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce_id} --add-route-table-ids {table_id}"


def authorize_ingress(group_id: str, port: int, origin: str) -> str:
    """Admit tcp/`port` from `origin` (`--cidr …` or `--source-group …`) into a security group."""
    return f"aws ec2 authorize-security-group-ingress --group-id {group_id} --protocol tcp --port {port} {origin}"


def authorize_egress(group_id: str, port: int, peer: str) -> str:
    """Let tcp/`port` out of a security group to `peer` (`IpRanges=[{CidrIp=…}]`, `PrefixListIds=[…]`, ...)."""
    return (
        f"aws ec2 authorize-security-group-egress --group-id {group_id} "
        f"--ip-permissions 'IpProtocol=tcp,FromPort={port},ToPort={port},{peer}'"
    )


def allow_nacl_entry(acl_id: str, egress: bool, below: int | None, ports: tuple[int, int], cidr: str) -> str:
    """Add an allow entry to a network ACL, numbered below the entry that denies (when there is one)."""
    number = f"<a free number below {below}>" if below is not None else "<a free number>"
    block = "--ipv6-cidr-block" if ":" in cidr else "--cidr-block"
    return (
        f"aws ec2 create-network-acl-entry --network-acl-id {acl_id} {'--egress' if egress else '--ingress'} "
        f"--rule-number {number} --protocol tcp --port-range From={ports[0]},To={ports[1]} {block} {cidr} "
        "--rule-action allow"
    )
