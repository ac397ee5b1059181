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
