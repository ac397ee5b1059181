"""Centralised endpoints (topology `hub`): the endpoint lives in a hub VPC reached over a transit gateway or
peering, so what the spoke must have is a route to the hub's CIDR."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from vpc_verify.addresses import in_networks
from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.evaluate.nacl import NaclVerdict
from vpc_verify.findings import Code, Finding
from vpc_verify.judge import hints
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


@endpoint_rule(Code.HUB_NACL_BLOCKS)
def hub_network_acls(facts: EndpointFacts) -> Iterator[Finding]:
    """A network ACL between the spoke's agent and the hub's ENI (the agent subnet's out and back in, the hub ENI
    subnet's in and back out) drops a connection that timed out: one finding per deciding entry. Connects that
    went through say nothing (the packets win)."""
    side, hub = facts.aws, facts.endpoint.hub
    if side is None or hub is None:
        return
    found = side.hub
    grouped: dict[tuple[Any, ...], tuple[str, NaclVerdict, list[str]]] = {}
    for a in facts.probed():
        if a.probe is None or a.probe.tcp.status is not TcpStatus.TIMEOUT:
            continue
        passes: list[tuple[str, NaclVerdict]] = []
        spoke = side.paths.get(a.address)
        if spoke is not None and side.vpce is None:  # with an endpoint of its own, NACL_BLOCKS says the spoke's
            passes += [("spoke", v) for v in spoke.blocked_nacls()]
        if found is not None:
            passes += [("hub", v) for v in found.nacls.get(a.address, ()) if v.verdict == "blocks"]
        for where, v in passes:
            key = (where, v.acl_id, v.subnet_id, v.direction, v.leg, v.entry.rule_number if v.entry else None)
            grouped.setdefault(key, (where, v, []))[2].append(a.address)
    hub_id = hub.vpc_id or (found.vpc_id if found is not None else None)
    vpce_id = found.vpce.id if found is not None and found.vpce is not None else None
    for where, v, addresses in grouped.values():
        ports = f"tcp/{v.ports[0]}" if v.ports[0] == v.ports[1] else f"tcp/{v.ports[0]}-{v.ports[1]}"
        leg = "the return traffic" if v.leg == "return" else "the connection"
        vpc = f"hub {hub_id}" if where == "hub" else "the spoke"
        peer = str(v.peer[0]) if v.peer else "<peer CIDR>"
        yield Finding.make(
            Code.HUB_NACL_BLOCKS,
            facts.name,
            f"{v.describe()} in {vpc}: it drops {leg} ({ports}) of the probes to {', '.join(addresses)}, which "
            "timed out",
            evidence={
                "hub_vpc_id": hub_id,
                "vpc": where,
                **v.to_dict(),
                "timed_out": addresses,
                "vpc_endpoint_id": vpce_id,
            },
            hint=hints.allow_nacl_entry(
                v.acl_id or "<acl>", v.direction == "outbound", v.entry.rule_number if v.entry else None, v.ports, peer
            ),
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
