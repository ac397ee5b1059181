"""The names a topology checks against the names the service's private DNS answers: a name it does not answer
resolves publicly or not at all, whatever the endpoint does (AWS's names when the control plane was read, which
are authoritative, else vpc-verify's catalogue)."""

from __future__ import annotations

from collections.abc import Iterator

from vpc_verify import service_names
from vpc_verify.aws.names import is_vpce_name, names_source, private_dns_names
from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import EndpointFacts
from vpc_verify.judge.rule import endpoint_rule


def _service_names(facts: EndpointFacts) -> tuple[tuple[str, ...], str]:
    """The service's private DNS names and where they come from (empty: nothing to judge against)."""
    service = facts.endpoint.service or ""
    vpce = facts.aws.vpce if facts.aws is not None else None
    if vpce is not None and vpce.lattice and vpce.dns_entries:
        # A Resource or ServiceNetwork endpoint (VPC Lattice) has no service names: its DNS entries are its names.
        return tuple(n.lower().rstrip(".") for n in vpce.dns_entries), "DescribeVpcEndpoints DnsEntries"
    if facts.aws is not None:
        return private_dns_names(facts.aws.state, service), names_source(facts.aws.state, service)
    known = service_names.lookup(service)
    if known is None or not known.known:
        return (), ""
    return known.names, f"vpc-verify's catalogue ({service_names.catalogue().version})"


@endpoint_rule(Code.DNS_NAME_UNCOVERED)
def uncovered(facts: EndpointFacts) -> Iterator[Finding]:
    """A topology name that none of the service's private DNS names covers (and that is not an endpoint's own
    vpce-… name): the check tests a name the service's clients do not use, or a name private DNS never answers."""
    endpoint = facts.endpoint
    if endpoint.type not in ("interface", "service") or not endpoint.service:
        return
    names, source = _service_names(facts)
    if not names:
        return
    usable = [service_names.probe_name(n) for n in names]
    for name in endpoint.dns_names:
        if is_vpce_name(name) or any(service_names.covers(p, name) for p in names):
            continue
        yield Finding.make(
            Code.DNS_NAME_UNCOVERED,
            facts.name,
            f"{name} is not one of {endpoint.service}'s private DNS names ({', '.join(names)}, from {source}): "
            "the endpoint's private DNS does not answer it",
            evidence={
                "name": name,
                "service": endpoint.service,
                "service_private_dns_names": list(names),
                "source": source,
            },
            hint=f"Check the name clients use: {' or '.join(usable)} (a wildcard answers any label under it); "
            "`vpc-verify discover` writes it.",
        )
