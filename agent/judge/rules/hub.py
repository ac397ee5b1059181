"""Centralised endpoints (topology `hub`): the endpoint lives in a hub VPC reached over a transit gateway or
peering, so what the spoke must have is a route to the hub's CIDR."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from vpc_verify.addresses import in_networks
from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import EndpointFacts
from vpc_verify.judge.rule import endpoint_rule


@endpoint_rule(Code.HUB_UNROUTED)
def unrouted(facts: EndpointFacts) -> Iterator[Finding]:
    """A route table of the agent that does not carry a hub CIDR to a private network. The packets win: when a
    connect to an address in that CIDR went through, the route exists where the agent stands and nothing is said."""
    side, hub = facts.aws, facts.endpoint.hub
    if side is None or hub is None:
        return
    for carried in side.hub_routes:
        if carried.reaches:
            continue
        network = ipaddress.ip_network(carried.network)
        connected = [
            a.address
            for a in facts.probed()
            if a.probe is not None and a.probe.tcp.status is TcpStatus.OK and in_networks(a.address, (network,))
        ]
        if connected:
            continue
        route = carried.route
        how = "has no route to it" if route is None else f"sends it to {route.target} ({route.state})"
        yield Finding.make(
            Code.HUB_UNROUTED,
            facts.name,
            f"{facts.endpoint.service or facts.name} lives in hub {hub.vpc_id or carried.network}, but route table "
            f"{carried.table_id} of the agent {how}: the hub's endpoint cannot be reached from here",
            evidence={
                "hub_cidr": carried.network,
                "hub_vpc_id": hub.vpc_id,
                "route_table_id": carried.table_id,
                "route": route.to_dict() if route is not None else None,
            },
            hint=f"Route {carried.network} to the transit gateway or peering connection that joins the VPCs: aws ec2 "
            f"create-route --route-table-id {carried.table_id} --destination-cidr-block {carried.network} "
            "--transit-gateway-id <tgw-…>",
        )


@endpoint_rule(Code.HUB_ENDPOINT_MISSING)
def hub_endpoint(facts: EndpointFacts) -> Iterator[Finding]:
    """The hub VPC was read and has no endpoint for the service."""
    hub = facts.aws.hub if facts.aws is not None else None
    if hub is None or hub.state is None or hub.vpce is not None:
        return
    yield Finding.make(
        Code.HUB_ENDPOINT_MISSING,
        facts.name,
        f"hub {hub.vpc_id} has no endpoint for {facts.endpoint.service}",
        evidence={
            "hub_vpc_id": hub.vpc_id,
            "service": facts.endpoint.service,
            "vpc_endpoints": [
                {"id": e.id, "service": e.service, "type": e.type, "state": e.state} for e in hub.state.endpoints
            ],
        },
    )


@endpoint_rule(Code.HUB_SECURITY_GROUP_BLOCKS)
def hub_groups(facts: EndpointFacts) -> Iterator[Finding]:
    """The hub endpoint's groups do not admit the agent, and connects timed out (the packets agree)."""
    hub = facts.aws.hub if facts.aws is not None else None
    if hub is None or hub.vpce is None or hub.sg is None or hub.sg.verdict != "blocks":
        return
    timed_out = [a.address for a in facts.probed() if a.probe is not None and a.probe.tcp.status is TcpStatus.TIMEOUT]
    if not timed_out:
        return
    groups = ", ".join(hub.sg.group_ids) or "none"
    yield Finding.make(
        Code.HUB_SECURITY_GROUP_BLOCKS,
        facts.name,
        f"the groups of hub endpoint {hub.vpce.id} ({groups}) admit nothing from {hub.sg.source.describe()} on "
        f"tcp/{hub.sg.port}, and the connects to {', '.join(timed_out)} timed out",
        evidence={
            "hub_vpc_id": hub.vpc_id,
            "vpc_endpoint_id": hub.vpce.id,
            "security_groups": hub.sg.to_dict(),
            "timed_out": timed_out,
        },
    )


@endpoint_rule(Code.HUB_UNVERIFIED)
def hub_unread(facts: EndpointFacts) -> Iterator[Finding]:
    """The hub VPC could not be read: its side is unverified."""
    hub = facts.aws.hub if facts.aws is not None else None
    if hub is None or hub.state is not None:
        return
    yield Finding.make(
        Code.HUB_UNVERIFIED,
        facts.name,
        f"hub {hub.vpc_id} could not be read ({hub.error}): its endpoint for {facts.endpoint.service} and that "
        "endpoint's security groups are unverified",
        evidence={"hub_vpc_id": hub.vpc_id, "error": hub.error},
    )
