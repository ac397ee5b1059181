"""The VPC endpoint serving a topology endpoint, as AWS describes it: present, available, private DNS, AZs."""

from __future__ import annotations

from collections.abc import Iterator

from vpc_verify.aws.names import is_vpce_name, private_dns_names
from vpc_verify.findings import Code, Finding
from vpc_verify.judge import hints
from vpc_verify.judge.facts import EndpointFacts
from vpc_verify.judge.rule import endpoint_rule


@endpoint_rule(Code.ENDPOINT_MISSING)
def missing(facts: EndpointFacts) -> Iterator[Finding]:
    """The VPC has no endpoint for the service (and the topology does not say it lives in a hub VPC)."""
    side = facts.aws
    if side is None or side.vpce is not None or facts.endpoint.hub is not None:
        return
    endpoint, vpc = facts.endpoint, side.state.vpc_id
    kind = endpoint.type if endpoint.type in ("gateway", "gatewayloadbalancer") else "interface"
    others = [e for e in side.state.endpoints if e.service == endpoint.service]
    message = f"{vpc} has no {kind} endpoint for {endpoint.service}"
    if others:
        message += f" (it has {', '.join(f'{o.type} endpoint {o.id}' for o in others)})"
    yield Finding.make(
        Code.ENDPOINT_MISSING,
        facts.name,
        message,
        evidence={
            "vpc_id": vpc,
            "service": endpoint.service,
            "type": endpoint.type,
            "vpc_endpoints": [
                {"id": e.id, "service": e.service, "type": e.type, "state": e.state} for e in side.state.endpoints
            ],
        },
        hint=hints.create_endpoint(side, endpoint),
    )


AVAILABILITY_HINTS = {
    "pending": "{id} is still being created: wait a minute and check again (`vpc-verify check --wait`).",
    "pendingacceptance": "The service owner must accept {id}: aws ec2 accept-vpc-endpoint-connections "
    "--service-id <vpce-svc-…> --vpc-endpoint-ids {id}",
    "rejected": "The service owner rejected {id}: ask them to accept it, or delete and recreate it.",
    "failed": "{id} failed{why}; delete it and create it again: aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {id}",
    "expired": "{id} expired before it was accepted: delete and recreate it.",
}


@endpoint_rule(Code.ENDPOINT_NOT_AVAILABLE)
def availability(facts: EndpointFacts) -> Iterator[Finding]:
    """The endpoint exists but is not `available` (pending, pendingAcceptance, rejected, failed, ...)."""
    vpce = facts.aws.vpce if facts.aws is not None else None
    if vpce is None or vpce.state.lower() == "available":
        return
    template = AVAILABILITY_HINTS.get(
        vpce.state.lower(), "{id} is {state}: wait for it to become available or recreate it."
    )
    yield Finding.make(
        Code.ENDPOINT_NOT_AVAILABLE,
        facts.name,
        f"VPC endpoint {vpce.id} for {vpce.service} is {vpce.state}, not available",
        evidence={"vpc_endpoint_id": vpce.id, "state": vpce.state, "last_error": vpce.failure},
        hint=template.format(id=vpce.id, state=vpce.state, why=f": {vpce.failure}" if vpce.failure else ""),
    )


@endpoint_rule(Code.PRIVATE_DNS_DISABLED)
def private_dns(facts: EndpointFacts) -> Iterator[Finding]:
    """An interface endpoint with private DNS off, when the topology uses the service's own name."""
    side = facts.aws
    vpce = side.vpce if side is not None else None
    if side is None or vpce is None or vpce.type == "gateway" or vpce.private_dns_enabled:
        return
    private_names = set(private_dns_names(side.state, vpce.service))
    # Only a problem when the topology uses the service's own name: the vpce-… names work without it.
    used = [n for n in facts.endpoint.dns_names if n in private_names or not is_vpce_name(n)]
    if not private_names or not used:
        return
    evidence = {
        "vpc_endpoint_id": vpce.id,
        "PrivateDnsEnabled": False,
        "names": used,
        "service_private_dns_names": sorted(private_names),
    }
    message = f"{vpce.id} has private DNS off, so {', '.join(used)} resolves to the public service, not the endpoint"
    hint = hints.enable_private_dns(vpce.id)
    info = side.state.services.get(vpce.service)
    state = info.verification_state if info is not None else ""
    if state and state.lower() != "verified":
        # A partner's private DNS name can be enabled only once the provider has verified its domain.
        evidence["verification_state"] = state
        message += f"; the service's private DNS name is not verified ({state})"
        hint = (
            f"The service provider must verify the domain of {', '.join(sorted(private_names))} first (a TXT record; "
            f"aws ec2 start-vpc-endpoint-service-private-dns-verification --service-id <vpce-svc-…>), then: {hint}"
        )
    yield Finding.make(Code.PRIVATE_DNS_DISABLED, facts.name, message, evidence=evidence, hint=hint)


@endpoint_rule(Code.ENDPOINT_AZ_MISSING)
def azs(facts: EndpointFacts) -> Iterator[Finding]:
    """An AZ the topology expects where the endpoint has no network interface: by AZ id (`discover` writes
    ids, the same zones in every account) or by this account's AZ name."""
    side = facts.aws
    vpce = side.vpce if side is not None else None
    if side is None or vpce is None or vpce.type == "gateway":
        return
    state, enis = side.state, side.enis
    have: set[str] = set()
    for eni in enis:
        have.add(eni.az)
        subnet = state.subnets.get(eni.subnet_id)
        zone_id = subnet.az_id if subnet is not None and subnet.az_id else state.az_id_of(eni.az)
        if zone_id:
            have.add(zone_id)
    for az in facts.endpoint.azs:
        if az in have:
            continue
        candidates = [s.id for s in state.subnets.values() if az in (s.az, s.az_id)]
        subnet_hint = candidates[0] if candidates else f"<a subnet of {state.vpc_id} in {az}>"
        yield Finding.make(
            Code.ENDPOINT_AZ_MISSING,
            facts.name,
            f"{vpce.id} has no network interface in {az} (it has: {', '.join(sorted({e.az for e in enis})) or 'none'})",
            evidence={
                "vpc_endpoint_id": vpce.id,
                "az": az,
                "subnet_ids": list(vpce.subnet_ids),
                "network_interfaces": [
                    {"eni_id": e.id, "az": e.az, "subnet_id": e.subnet_id, "address": e.address} for e in enis
                ],
                "subnets_in_az": candidates,
            },
            hint=f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce.id} --add-subnet-ids {subnet_hint}",
        )


@endpoint_rule(Code.ENDPOINT_NOT_IN_AGENT_AZ)
def agent_zone(facts: EndpointFacts) -> Iterator[Finding]:
    """No network interface of the endpoint in the agent's AZ (by AZ id), whatever the topology's `azs`: every
    request crosses AZs. Not said when the topology expects that AZ (ENDPOINT_AZ_MISSING says it then)."""
    side = facts.aws
    vpce = side.vpce if side is not None else None
    if side is None or vpce is None or vpce.type == "gateway" or vpce.state.lower() != "available" or not side.enis:
        return
    mine = side.agent_az_id
    if not mine or mine in facts.endpoint.azs or (side.place.az and side.place.az in facts.endpoint.azs):
        return
    theirs = sorted({z for z in (side.state.az_id_of(e.az) for e in side.enis) if z})
    if not theirs or mine in theirs:
        return
    name = side.state.az_name_of(mine) or side.place.az
    shown = f"{mine} ({name})" if name else mine
    subnets = sorted(s.id for s in side.state.subnets.values() if s.az_id == mine)
    yield Finding.make(
        Code.ENDPOINT_NOT_IN_AGENT_AZ,
        facts.name,
        f"{vpce.id} has no network interface in the agent's AZ {shown} (it has: {', '.join(theirs)}): every "
        "request crosses AZs (cross-AZ data charges, added latency)",
        evidence={
            "vpc_endpoint_id": vpce.id,
            "agent_az": name,
            "agent_az_id": mine,
            "endpoint_az_ids": theirs,
            "subnets_in_agent_az": subnets,
        },
        hint=f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce.id} --add-subnet-ids "
        f"{subnets[0] if subnets else f'<a subnet of {side.state.vpc_id} in {shown}>'}",
    )
