"""Where the answers point: a ladder with one root cause per address.

A public answer is DNS_PUBLIC_ADDRESS (not also outside-VPC or unexpected); a private answer outside the VPC
is DNS_OUTSIDE_VPC (not also unexpected); an answer inside the VPC that is not an expected ENI is
DNS_UNEXPECTED_ADDRESS (but an ENI's address under the endpoint's own vpce-… names, unexpected only for its
family, is DNS_RECORD_FAMILY's). "Public" means outside every private range and outside the VPC's CIDRs: an IPv6
global unicast ENI inside the VPC's /56 is the VPC's own. DNS_MISSING_ADDRESS is only said when the names
are served from the expected zone (no public or foreign answer): when the wrong zone answers, the missing
ENIs are its consequence, not a second fault. A gateway service resolves to its public prefix list by
design; its answers are the gateway rules'.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vpc_verify.findings import Code, Finding
from vpc_verify.judge import hints
from vpc_verify.judge.facts import AwsSide, EndpointFacts
from vpc_verify.judge.rule import endpoint_rule
from vpc_verify.report import AddressReport


def _evidence(facts: EndpointFacts, a: AddressReport) -> dict[str, Any]:
    chains = {d.name: list(d.cname_chain) for d in facts.observation.dns}
    return {"names": list(a.names), "cname_chain": {n: chains.get(n, []) for n in a.names}}


def public(facts: EndpointFacts) -> list[AddressReport]:
    """The answers outside every private range and outside the VPC (none for a gateway service)."""
    return [a for a in facts.addresses if not a.private] if facts.endpoint.type != "gateway" else []


def outside(facts: EndpointFacts) -> list[AddressReport]:
    """The private answers outside the VPC's CIDRs (none for a gateway service)."""
    if facts.endpoint.type == "gateway":
        return []
    return [a for a in facts.addresses if a.private and a.in_vpc is False]


@endpoint_rule(Code.DNS_PUBLIC_ADDRESS)
def public_address(facts: EndpointFacts) -> Iterator[Finding]:
    """A public answer: private DNS is not in effect; with the control plane, why not."""
    for a in public(facts):
        names = ", ".join(a.names)
        message = (
            f"{names} answered {a.address}, a public address: traffic would leave the VPC instead of using the endpoint"
        )
        evidence = _evidence(facts, a)
        hint: str | None = None
        if facts.aws is not None:
            why, more, hint = _why_public(facts, facts.aws)
            message += why
            evidence |= more
        yield Finding.make(
            Code.DNS_PUBLIC_ADDRESS, facts.name, message, address=a.address, evidence=evidence, hint=hint
        )


def _why_public(facts: EndpointFacts, side: AwsSide) -> tuple[str, dict[str, Any], str]:
    state, vpce, endpoint = side.state, side.vpce, facts.endpoint
    vpc = state.vpc_id
    more: dict[str, Any] = {
        "vpc_id": vpc,
        "enableDnsSupport": state.dns_support,
        "enableDnsHostnames": state.dns_hostnames,
    }
    if vpce is None:
        return (
            f"; {vpc} has no endpoint for {endpoint.service}",
            more | {"vpc_endpoint_id": None},
            hints.create_endpoint(side, endpoint),
        )
    more |= {"vpc_endpoint_id": vpce.id, "PrivateDnsEnabled": vpce.private_dns_enabled}
    if vpce.private_dns_enabled and vpce.private_dns_only_for_inbound_resolver:
        # S3 and DynamoDB: inside the VPC the service's names answer the gateway endpoint (its public prefix
        # list) by design; only queries from an inbound Resolver endpoint get the interface endpoint's ENIs.
        from vpc_verify.aws.names import regional_dns_name  # AWS's model: only for a run with a control plane

        own = regional_dns_name(state, vpce)
        return (
            f": by design, {vpce.id} has PrivateDnsOnlyForInboundResolverEndpoint, so inside {vpc} the service's "
            "names answer the gateway endpoint's prefix list; the interface endpoint is reached by its own names",
            more | {"PrivateDnsOnlyForInboundResolverEndpoint": True},
            f"Check {', '.join(endpoint.dns_names)} as `type: gateway`, and the interface endpoint through its own "
            f"name, {own} (`vpc-verify discover` writes both).",
        )
    if not vpce.private_dns_enabled:
        return (
            f": private DNS is off on {vpce.id}",
            more,
            f"Enable private DNS on {vpce.id}: {hints.enable_private_dns(vpce.id)}",
        )
    if not (state.dns_support and state.dns_hostnames):
        off = "enableDnsSupport" if not state.dns_support else "enableDnsHostnames"
        return (
            f": private DNS of {vpce.id} is on, but {vpc} has {off} off",
            more,
            hints.enable_vpc_attribute(vpc, off),
        )
    age = side.created_s_ago(facts.now)
    if age is not None:
        return (
            f": {vpce.id} was created {age:.0f} s ago: its private DNS may still be propagating",
            more | {"created": vpce.created, "created_s_ago": round(age)},
            "Wait a few minutes and check again (`vpc-verify check --wait 300`).",
        )
    return (
        f": private DNS of {vpce.id} and the DNS attributes of {vpc} are on, so the answer did not come from "
        "the VPC resolver's private zone",
        more,
        "Point the agent's resolver at the VPC resolver (base+2 or 169.254.169.253), or make a custom resolver "
        f"forward {', '.join(endpoint.dns_names)} to it; look for a private hosted zone overriding the name "
        f"in {vpc}.",
    )


@endpoint_rule(Code.DNS_OUTSIDE_VPC)
def outside_vpc(facts: EndpointFacts) -> Iterator[Finding]:
    """A private answer outside the VPC's CIDRs: another network's endpoint or a stale zone."""
    for a in outside(facts):
        yield Finding.make(
            Code.DNS_OUTSIDE_VPC,
            facts.name,
            f"{', '.join(a.names)} answered {a.address}, a private address outside this VPC's CIDRs",
            address=a.address,
            evidence=_evidence(facts, a),
        )


@endpoint_rule(Code.DNS_UNEXPECTED_ADDRESS)
def unexpected_address(facts: EndpointFacts) -> Iterator[Finding]:
    """An answer inside the VPC that is not one of the endpoint's expected ENI addresses."""
    if facts.endpoint.type == "gateway":
        return
    prefixes = [str(p) for p in facts.expected_prefixes]
    for a in facts.addresses:
        if a.private and a.in_vpc is not False and a.expected is False:
            if _own_eni_under_own_names(facts, a):
                continue  # an ENI's address its records lack the family of: DNS_RECORD_FAMILY names the family
            what = "one of the endpoint's expected ENI addresses"
            if prefixes:  # a Lattice endpoint's answers come from its prefixes
                what = f"within the endpoint's IP prefixes ({', '.join(prefixes)})"
            yield Finding.make(
                Code.DNS_UNEXPECTED_ADDRESS,
                facts.name,
                f"{', '.join(a.names)} answered {a.address}, which is not {what}",
                address=a.address,
                evidence={**_evidence(facts, a), "expected": sorted(facts.expected) + prefixes},
            )


def _own_eni_under_own_names(facts: EndpointFacts, a: AddressReport) -> bool:
    """An ENI's own address answered only by the endpoint's own names, when the expected addresses are AWS's: it
    is unexpected only for its family, which the per-family rule (vpc_verify.judge.rules.families) says."""
    side = facts.aws
    if side is None or facts.endpoint.addresses or side.eni_of(a.address) is None or not a.names:
        return False
    return all(n.lower().rstrip(".") in side.own_names for n in a.names)


@endpoint_rule(Code.DNS_MISSING_ADDRESS)
def missing_address(facts: EndpointFacts) -> Iterator[Finding]:
    """An expected ENI address no name answered, when the names are served from the expected zone."""
    answered = {a.address for a in facts.addresses}
    if not answered or public(facts) or outside(facts):
        return
    for address in facts.expected:
        if address not in answered:
            yield Finding.make(
                Code.DNS_MISSING_ADDRESS,
                facts.name,
                f"expected ENI address {address} is not among the answers for "
                f"{', '.join(d.name for d in facts.observation.dns)}",
                address=address,
                evidence={"answers": sorted(answered)},
            )
