"""A name that did not resolve: one finding per name, by how the resolver failed (and, for an endpoint created
minutes ago, that its private DNS may still be propagating)."""

from __future__ import annotations

from collections.abc import Iterator

from vpc_verify.checks.dns import DnsResult, DnsStatus
from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import EndpointFacts
from vpc_verify.judge.rule import endpoint_rule

CODES = {
    DnsStatus.NXDOMAIN: Code.DNS_NXDOMAIN,
    DnsStatus.NODATA: Code.DNS_NO_ANSWER,
    DnsStatus.SERVFAIL: Code.DNS_SERVFAIL,
    DnsStatus.REFUSED: Code.DNS_SERVFAIL,
    DnsStatus.TIMEOUT: Code.DNS_TIMEOUT,
    # A malformed answer or a CNAME loop is the resolver path failing, as a recursive resolver would
    # report it with SERVFAIL.
    DnsStatus.ERROR: Code.DNS_SERVFAIL,
}

MESSAGES = {
    DnsStatus.NXDOMAIN: "{name} does not exist (NXDOMAIN)",
    DnsStatus.NODATA: "{name} exists but has no A/AAAA record",
    DnsStatus.SERVFAIL: "the resolver failed for {name} (SERVFAIL)",
    DnsStatus.REFUSED: "the resolver refused to answer for {name} (REFUSED)",
    DnsStatus.TIMEOUT: "no answer for {name} from the resolver within {timeout} ({error})",
    DnsStatus.ERROR: "the resolver's answer for {name} was unusable: {error}",
}


@endpoint_rule(Code.DNS_NXDOMAIN, Code.DNS_NO_ANSWER, Code.DNS_SERVFAIL, Code.DNS_TIMEOUT)
def unresolved(facts: EndpointFacts) -> Iterator[Finding]:
    """One finding per name that did not resolve to an address."""
    for result in facts.observation.dns:
        if result.status is DnsStatus.OK:
            continue
        message = MESSAGES[result.status].format(
            name=result.name, timeout=f"{facts.resolver_timeout_ms} ms", error=result.error or result.rcode
        )
        evidence = {
            "name": result.name,
            "status": result.status.value,
            "rcode": result.rcode,
            "cname_chain": list(result.cname_chain),
            "nameserver": result.nameserver,
            "ms": round(result.ms, 3),
            "error": result.error,
        }
        if result.cname_chain and result.status in (DnsStatus.NXDOMAIN, DnsStatus.NODATA):
            # A dangling CNAME: the culprit is the name at the end of the chain (an endpoint's vpce-… name that
            # no longer exists), not the service name the client asked.
            end = result.cname_chain[-1]
            what = "does not exist (NXDOMAIN)" if result.status is DnsStatus.NXDOMAIN else "has no A/AAAA record"
            message = f"{result.name} is a CNAME to {end}, which {what}"
        hint = _hint(facts, result)
        age = facts.aws.created_s_ago(facts.now) if facts.aws is not None else None
        if age is not None and result.status in (DnsStatus.NXDOMAIN, DnsStatus.NODATA):
            vpce_id = facts.aws.vpce.id if facts.aws is not None and facts.aws.vpce is not None else "the endpoint"
            message += f"; {vpce_id} was created {age:.0f} s ago: its private DNS may still be propagating"
            evidence["created_s_ago"] = round(age)
            hint = "Wait a few minutes and check again (`vpc-verify check --wait 300`)."
        yield Finding.make(CODES[result.status], facts.name, message, evidence=evidence, hint=hint)


def _hint(facts: EndpointFacts, result: DnsResult) -> str | None:
    """A fix more precise than the code's, when the facts point at one (None: the catalogue's)."""
    endpoint, side = facts.endpoint, facts.aws
    vpce = side.vpce if side is not None else None
    record = (vpce.dns_record_ip_type or vpce.ip_address_type) if vpce is not None else ""
    if result.status is DnsStatus.NODATA and not endpoint.asks_aaaa and record == "ipv6":
        return (
            f"{vpce.id if vpce else 'The endpoint'} has only AAAA records (DnsRecordIpType ipv6) and this check asks "
            f"for A: set `ip_address_type: ipv6` on endpoint {endpoint.name} (or dualstack records on the endpoint)."
        )
    if result.cname_chain and result.status in (DnsStatus.NXDOMAIN, DnsStatus.NODATA):
        return (
            f"{result.cname_chain[-1]} is gone: the zone's record points at a deleted or replaced endpoint; point "
            f"{result.cname_chain[0] if len(result.cname_chain) > 1 else result.name} at the current endpoint's "
            "regional DNS name."
        )
    if result.status is DnsStatus.TIMEOUT:
        mine = [r.name for r in facts.observation.dns if r.status not in (DnsStatus.TIMEOUT, DnsStatus.ERROR)]
        answered = list(dict.fromkeys([*mine, *facts.answered_in_run]))[:3]
        if answered:
            return (
                f"The same resolver answered {', '.join(answered)} in this run: it is reachable, and what is silent "
                f"is whoever it asks for {result.name} (a Resolver FORWARD rule's target, a custom forwarder). "
                "Timeouts in bursts are the VPC resolver's limit of 1024 packets a second per network interface: "
                "lower resolver.queries_per_second."
            )
    return None
