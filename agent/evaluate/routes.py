"""Route tables, evaluated: which table a subnet uses, and whether it sends a gateway service through an endpoint.

Pure. A subnet uses its explicitly associated table, else the VPC's main table; a gateway endpoint is in
effect for a subnet when that table routes the service's prefix list to the endpoint (a blackhole route does
not count). A hub VPC's CIDR is reached when the most specific route covering it goes to a transit gateway, a
peering connection, a VPN or an appliance.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from vpc_verify.aws.model import PrefixList, Route, RouteTable, VpcEndpoint, VpcState
from vpc_verify.topology import IPNetwork


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


# Targets that carry traffic out of the VPC to another private network (a hub VPC): a transit gateway, a peering
# connection, a virtual private gateway, an appliance's interface, a Cloud WAN core network, a local gateway.
PRIVATE_TARGETS = ("tgw-", "pcx-", "vgw-", "eni-", "i-", "lgw-", "arn:aws")


@dataclass(frozen=True, slots=True)
class Carried:
    """Which route of `table_id` carries traffic for `network` (longest prefix match), and whether it reaches a
    private network outside the VPC."""

    table_id: str
    network: str
    route: Route | None  # None: no route covers the network

    @property
    def reaches(self) -> bool:
        """An active route through a transit gateway, peering, VPN or appliance (not local, an internet or NAT
        gateway, or a blackhole)."""
        r = self.route
        return r is not None and r.state.lower() != "blackhole" and r.target.startswith(PRIVATE_TARGETS)


def carrying(table: RouteTable, network: IPNetwork) -> Carried:
    """The most specific CIDR route of `table` that covers all of `network` (prefix-list routes aside)."""
    best: tuple[int, Route] | None = None
    for r in table.routes:
        try:
            destination = ipaddress.ip_network(r.destination, strict=False)
        except ValueError:
            continue  # a prefix list id
        if destination.version != network.version or not network.subnet_of(destination):  # type: ignore[arg-type]
            continue
        if best is None or destination.prefixlen > best[0]:
            best = (destination.prefixlen, r)
    return Carried(table.id, str(network), best[1] if best else None)
