"""Route tables, evaluated: which table a subnet uses, and whether it sends a gateway service through an endpoint.

Pure. A subnet uses its explicitly associated table, else the VPC's main table; a gateway endpoint is in
effect for a subnet when that table routes the service's prefix list to the endpoint (a blackhole route does
not count).
"""

from __future__ import annotations

from vpc_verify.aws.model import PrefixList, RouteTable, VpcEndpoint, VpcState


def table_of(state: VpcState, subnet_id: str | None) -> RouteTable | None:
    """The route table of a subnet, when the subnet is known."""
    return state.route_table_of(subnet_id) if subnet_id else None


def routes_via(table: RouteTable, vpce: VpcEndpoint, prefix_list: PrefixList | None) -> bool:
    """True when `table` routes the gateway service's prefix list through `vpce` (and not to a blackhole)."""
    return any(
        r.target == vpce.id
        and (prefix_list is None or r.destination == prefix_list.id)
        and r.state.lower() != "blackhole"
        for r in table.routes
    )
