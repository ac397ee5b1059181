"""Resource and ServiceNetwork endpoints (VPC Lattice): the port probed against the ports the endpoint serves. A
Resource endpoint's are its resource configuration's port ranges (vpc-lattice GetResourceConfiguration); a
ServiceNetwork endpoint's are its services' and resources', which vpc-verify does not know. The packets win: a
connect that went through on the port says nothing either way."""

from __future__ import annotations

from collections.abc import Iterator

from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import EndpointFacts
from vpc_verify.judge.rule import endpoint_rule


def _connected(facts: EndpointFacts) -> bool:
    return any(a.probe is not None and a.probe.connected for a in facts.probed())


@endpoint_rule(Code.LATTICE_PORT_NOT_SHARED)
def port_not_shared(facts: EndpointFacts) -> Iterator[Finding]:
    """The port probed is outside the resource configuration's port ranges, and nothing connected on it."""
    side = facts.aws
    config = side.resource_configuration if side is not None else None
    if side is None or side.vpce is None or config is None or not config.port_ranges or _connected(facts):
        return
    port = facts.endpoint.port
    if config.covers(port):
        return
    ranges = config.ports()
    use = 443 if config.covers(443) else config.first_port()
    yield Finding.make(
        Code.LATTICE_PORT_NOT_SHARED,
        facts.name,
        f"{side.vpce.id} reaches {config.id}, which shares TCP ports {', '.join(ranges)}, not {port}: nothing answers "
        f"on {port} through it",
        evidence={
            "vpc_endpoint_id": side.vpce.id,
            "resource_configuration_arn": config.arn,
            "port": port,
            "port_ranges": ranges,
        },
        hint=f"Check port {use} (`port: {use}` on endpoint {facts.name}), or share {port} in {config.id}: aws "
        f"vpc-lattice update-resource-configuration --resource-configuration-identifier {config.id} --port-ranges "
        f"{' '.join([*ranges, str(port)])}",
    )


@endpoint_rule(Code.LATTICE_PORT_UNVERIFIED)
def port_unverified(facts: EndpointFacts) -> Iterator[Finding]:
    """A Lattice endpoint whose ports are unknown, and nothing connected on the port probed."""
    side = facts.aws
    vpce = side.vpce if side is not None else None
    if side is None or vpce is None or not vpce.lattice or _connected(facts):
        return
    port = facts.endpoint.port
    if vpce.type == "resource":
        if side.resource_configuration is not None and side.resource_configuration.port_ranges:
            return  # known: LATTICE_PORT_NOT_SHARED says whether the port is one of them
        why = side.state.resource_configuration_errors.get(
            vpce.resource_configuration_arn, "the configuration gives no port ranges"
        )
        what = f"the ports of {vpce.resource_configuration_arn} could not be read ({why})"
    else:
        what = (
            f"the ports of service network {vpce.service_network_arn or vpce.service} are its services' and "
            "resources', which the endpoint does not say"
        )
    yield Finding.make(
        Code.LATTICE_PORT_UNVERIFIED,
        facts.name,
        f"{vpce.id} was probed on port {port}, but {what}: the port may be the wrong one rather than the endpoint "
        "broken",
        evidence={
            "vpc_endpoint_id": vpce.id,
            "type": vpce.type,
            "port": port,
            "resource_configuration_arn": vpce.resource_configuration_arn or None,
            "service_network_arn": vpce.service_network_arn or None,
            "why": what,
        },
    )
