"""Why an answer is wrong, from the VPC's DNS path: a DNS Firewall rule that blocks the name, a Resolver FORWARD
rule that takes it away from the VPC resolver's zones, a private hosted zone that covers it without its record, a
DHCP option set that sends clients to other servers. Each is said only for a name whose answer was wrong (failed,
public, outside the VPC, or not the endpoint's): the packets win, and a path that answers right is no finding."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from vpc_verify.checks.dns import DnsResult, DnsStatus
from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import EndpointFacts
from vpc_verify.judge.rule import endpoint_rule

if TYPE_CHECKING:
    from vpc_verify.evaluate.dns_path import NameVerdict


def _wrong(facts: EndpointFacts, result: DnsResult) -> bool:
    """The name failed to resolve, or (but for a gateway service's) answered an address that is not the
    endpoint's: public, outside the VPC, or not an expected ENI address."""
    if result.status is not DnsStatus.OK:
        return True
    if facts.endpoint.type == "gateway":
        return False
    answered = set(result.answers)
    return any(
        not a.private or a.in_vpc is False or a.expected is False for a in facts.addresses if a.address in answered
    )


def _wrongly_answered(facts: EndpointFacts) -> Iterator[tuple[DnsResult, NameVerdict]]:
    side = facts.aws
    if side is None or not side.dns:
        return
    for result in facts.observation.dns:
        verdict = side.dns.get(result.name.lower().rstrip(".")) or side.dns.get(result.name)
        if verdict is not None and _wrong(facts, result):
            yield result, verdict


def _outcome(result: DnsResult) -> str:
    return result.status.value if result.status is not DnsStatus.OK else f"answered {', '.join(result.answers)}"


@endpoint_rule(Code.DNS_FIREWALL_BLOCKED)
def firewall(facts: EndpointFacts) -> Iterator[Finding]:
    """A DNS Firewall BLOCK rule decides the name."""
    for result, verdict in _wrongly_answered(facts):
        rule = verdict.firewall
        if rule is None or not verdict.blocked:
            continue
        how = {
            "NODATA": "answers NODATA",
            "NXDOMAIN": "answers NXDOMAIN",
            "OVERRIDE": f"answers a CNAME to {rule.override_domain}",
        }.get(rule.block_response, "blocks it")
        yield Finding.make(
            Code.DNS_FIREWALL_BLOCKED,
            facts.name,
            f"DNS Firewall rule {rule.name or rule.priority} of rule group {rule.group_id} blocks {result.name} "
            f"(domain list {rule.domain_list_id}): the VPC resolver {how}",
            evidence={"name": result.name, **rule.to_dict()},
            hint=f"Allow {result.name} before rule {rule.name or rule.priority} of {rule.group_id} (an ALLOW rule "
            f"with a lower priority number), or remove it from domain list {rule.domain_list_id}.",
        )


@endpoint_rule(Code.DNS_FORWARDED)
def forwarded(facts: EndpointFacts) -> Iterator[Finding]:
    """A Resolver FORWARD rule is the most specific match for the name."""
    for result, verdict in _wrongly_answered(facts):
        rule = verdict.rule
        if rule is None or not verdict.forwarded:
            continue
        vpc = facts.aws.state.vpc_id if facts.aws is not None else "the VPC"
        yield Finding.make(
            Code.DNS_FORWARDED,
            facts.name,
            f"Resolver rule {rule.id} forwards {rule.domain or '.'} (and {result.name}) to "
            f"{', '.join(rule.targets) or 'its targets'}, not the endpoint's private zone; the name "
            f"{_outcome(result)}",
            evidence={"name": result.name, "resolver_rule": rule.to_dict(), "status": result.status.value},
            hint=f"Answer {result.name} in the VPC: aws route53resolver create-resolver-rule --rule-type SYSTEM "
            f"--domain-name {result.name} --creator-request-id <id>, then associate-resolver-rule with {vpc}; or "
            f"make {', '.join(rule.targets) or 'the forwarder'} send it to an inbound Resolver endpoint.",
        )


@endpoint_rule(Code.DNS_ZONE_SHADOWED)
def shadowed(facts: EndpointFacts) -> Iterator[Finding]:
    """A private hosted zone covers the name without its record."""
    for result, verdict in _wrongly_answered(facts):
        zone = verdict.zone
        if zone is None or not verdict.shadowed:
            continue
        yield Finding.make(
            Code.DNS_ZONE_SHADOWED,
            facts.name,
            f"private hosted zone {zone.name} ({zone.id}) is associated with the VPC and has no record for "
            f"{result.name}: the VPC resolver answers from it, and the name {_outcome(result)}",
            evidence={"name": result.name, **zone.to_dict(), "status": result.status.value},
            hint=f"Add {result.name} to zone {zone.id} (an alias to the endpoint's regional DNS name), or "
            f"disassociate {zone.id} from the VPC.",
        )


@endpoint_rule(Code.DNS_CUSTOM_RESOLVER)
def custom_resolver(facts: EndpointFacts) -> Iterator[Finding]:
    """The VPC's DHCP options give clients other DNS servers, and a name was answered wrongly."""
    side = facts.aws
    path = side.state.dns if side is not None else None
    if path is None or not path.custom_servers:
        return
    names = [result.name for result, _ in _wrongly_answered(facts)]
    if not names:
        return
    yield Finding.make(
        Code.DNS_CUSTOM_RESOLVER,
        facts.name,
        f"DHCP option set {path.dhcp_options_id} gives the VPC's clients {', '.join(path.domain_name_servers)}: "
        f"{', '.join(names)} reach the endpoint's private zone only if {', '.join(path.custom_servers)} forward "
        "them to the VPC resolver",
        evidence={
            "dhcp_options_id": path.dhcp_options_id,
            "domain_name_servers": list(path.domain_name_servers),
            "names": names,
        },
    )
