"""Gateway endpoints (S3, DynamoDB): the route that sends the service's prefix list through the endpoint, and
answers inside that prefix list."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from vpc_verify.findings import Code, Finding
from vpc_verify.judge import hints
from vpc_verify.judge.facts import EndpointFacts
from vpc_verify.judge.rule import endpoint_rule


@endpoint_rule(Code.GATEWAY_ROUTE_MISSING)
def route(facts: EndpointFacts) -> Iterator[Finding]:
    """The agent's route table lacks the route; where the agent may be in several subnets (a Lambda's), each
    of their tables; where its subnet is unknown, every table of the VPC."""
    side = facts.aws
    vpce = side.vpce if side is not None else None
    if side is None or vpce is None or vpce.type != "gateway":
        return
    from vpc_verify.evaluate import routes  # AWS's model: only for a run with a control plane

    pl, table = side.prefix_list, side.agent_table
    destination = pl.id if pl else vpce.service
    evidence = {
        "vpc_endpoint_id": vpce.id,
        "prefix_list_id": pl.id if pl else None,
        "endpoint_route_table_ids": list(vpce.route_table_ids),
        "agent_subnet_id": side.place.subnet_id,
    }
    if table is not None:
        if not routes.routes_via(table, vpce, pl):
            yield Finding.make(
                Code.GATEWAY_ROUTE_MISSING,
                facts.name,
                f"route table {table.id} of the agent's subnet {side.place.subnet_id} has no route to "
                f"{destination} via {vpce.id}",
                evidence={**evidence, "route_table_id": table.id, "routes": [r.to_dict() for r in table.routes]},
                hint=hints.add_route_table(vpce.id, table.id),
            )
    elif side.agent_tables:
        # The agent may run in any of several subnets (a Lambda's): each of their tables must route.
        for t in side.agent_tables:
            if routes.routes_via(t, vpce, pl):
                continue
            using = [s for s in side.place.candidate_subnets() if routes.table_of(side.state, s) == t]
            yield Finding.make(
                Code.GATEWAY_ROUTE_MISSING,
                facts.name,
                f"route table {t.id} of the agent's subnets {', '.join(using)} has no route to {destination} via "
                f"{vpce.id}: runs from there do not use the endpoint",
                evidence={
                    **evidence,
                    "route_table_id": t.id,
                    "subnet_ids": using,
                    "routes": [r.to_dict() for r in t.routes],
                },
                hint=hints.add_route_table(vpce.id, t.id),
            )
    elif not any(routes.routes_via(t, vpce, pl) for t in side.state.route_tables):
        yield Finding.make(
            Code.GATEWAY_ROUTE_MISSING,
            facts.name,
            f"no route table of {side.state.vpc_id} routes {destination} via {vpce.id}",
            evidence={**evidence, "route_table_ids": [t.id for t in side.state.route_tables]},
            hint=hints.add_route_table(vpce.id, "<route table of the agent's subnet>"),
        )


@endpoint_rule(Code.GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST)
def prefix_list(facts: EndpointFacts) -> Iterator[Finding]:
    """An answer outside the service's prefix list: traffic to it does not use the gateway endpoint."""
    side = facts.aws
    vpce = side.vpce if side is not None else None
    if side is None or vpce is None or vpce.type != "gateway":
        return
    pl = side.prefix_list
    if pl is None or not pl.cidrs:
        return
    nets = [ipaddress.ip_network(c, strict=False) for c in pl.cidrs]
    for a in facts.addresses:
        ip = ipaddress.ip_address(a.address)
        if any(ip.version == n.version and ip in n for n in nets):
            continue
        yield Finding.make(
            Code.GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST,
            facts.name,
            f"{', '.join(a.names)} answered {a.address}, outside prefix list {pl.id} ({pl.name}): traffic to it "
            f"does not use {vpce.id}",
            address=a.address,
            evidence={
                "vpc_endpoint_id": vpce.id,
                "prefix_list_id": pl.id,
                "prefix_list_name": pl.name,
                "prefix_list_cidrs": list(pl.cidrs),
                "names": list(a.names),
            },
            hint=f"The name does not resolve into {pl.id} ({pl.name}): check the resolver (a custom zone or "
            f"forwarder) and that the name is the service's in {side.state.region}.",
        )


@endpoint_rule(Code.GWLB_ENDPOINT_UNROUTED)
def load_balancer_routes(facts: EndpointFacts) -> Iterator[Finding]:
    """A Gateway Load Balancer endpoint is a route target: nothing is resolved or probed through it, and what can
    be checked is that some route table sends traffic to it."""
    side = facts.aws
    vpce = side.vpce if side is not None else None
    if side is None or vpce is None or vpce.type != "gatewayloadbalancer":
        return
    if any(r.target == vpce.id and r.state.lower() != "blackhole" for t in side.state.route_tables for r in t.routes):
        return
    tables = [t.id for t in side.state.route_tables]
    yield Finding.make(
        Code.GWLB_ENDPOINT_UNROUTED,
        facts.name,
        f"no route table of {side.state.vpc_id} sends traffic to Gateway Load Balancer endpoint {vpce.id}",
        evidence={"vpc_endpoint_id": vpce.id, "route_table_ids": tables},
        hint=f"Route the traffic to inspect through it: aws ec2 create-route --route-table-id <rtb-…> "
        f"--destination-cidr-block <CIDR> --vpc-endpoint-id {vpce.id}",
    )
