"""The endpoint's own names judged per address family: DnsRecordIpType says which records the regional and zonal
vpce-… names have (A, AAAA or both), and each family's answers must be the ENIs' addresses of that family (a
zonal name's, those of the ENI in its zone). An answer that is no ENI address at all is the answer ladder's
(vpc_verify.judge.rules.answers); a name that did not resolve is the DNS rule's."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from vpc_verify.aws.names import record_families
from vpc_verify.checks.dns import DnsStatus
from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import EndpointFacts
from vpc_verify.judge.rule import endpoint_rule

RECORD_TYPES = {4: "A", 6: "AAAA"}


@endpoint_rule(Code.DNS_RECORD_FAMILY)
def own_names(facts: EndpointFacts) -> Iterator[Finding]:
    """Per regional or zonal name the DNS phase asked and per family it asked: the family's records are missing,
    present where DnsRecordIpType creates none, or hold another zone's ENI."""
    side = facts.aws
    resolved = [r for r in facts.observation.dns if r.status is DnsStatus.OK]
    if side is None or side.vpce is None or side.vpce.type != "interface" or not resolved:
        return
    vpce, endpoint, zones = side.vpce, facts.endpoint, side.own_names
    asked = {f for f, on in ((4, endpoint.asks_a), (6, endpoint.asks_aaaa)) if on}
    record = vpce.dns_record_ip_type or vpce.ip_address_type or "ipv4"
    everywhere = {a for e in side.enis for a in (e.address, *e.ipv6) if a}
    for result in resolved:
        name = result.name.lower().rstrip(".")
        if name not in zones:
            continue
        az = zones[name]
        enis = [e for e in side.enis if az is None or e.az == az]
        own = {4: [e.address for e in enis if e.address], 6: [a for e in enis for a in e.ipv6]}
        families = record_families(vpce, name)
        for family in sorted(asked):
            got = [a for a in result.answers if ipaddress.ip_address(a).version == family]
            rtype = RECORD_TYPES[family]
            where = f" (zone {az})" if az else ""
            if family in families and not got:
                message = (
                    f"{name}{where} has no {rtype} record: DnsRecordIpType {record} of {vpce.id} gives it IPv{family} "
                    f"records ({', '.join(own[family]) or 'no ENI address of that family'}), so IPv{family} clients "
                    "of this name get no address"
                )
            elif family not in families and got:
                message = (
                    f"{name}{where} answered {rtype} {', '.join(got)}, but DnsRecordIpType {record} of {vpce.id} "
                    f"creates no IPv{family} record for it: another zone or rule answers the endpoint's own name"
                )
            else:
                # Another zone's ENI (a stale or hand-written record); an address no ENI holds is the ladder's.
                wrong = [a for a in got if a not in own[family] and a in everywhere]
                if not wrong:
                    continue
                message = (
                    f"{name}{where} answered {rtype} {', '.join(wrong)}, not the IPv{family} address of "
                    f"{vpce.id}'s ENI in its zone ({', '.join(own[family]) or 'none'})"
                )
            yield Finding.make(
                Code.DNS_RECORD_FAMILY,
                facts.name,
                message,
                evidence={
                    "name": name,
                    "family": f"IPv{family}",
                    "record_type": rtype,
                    "az": az,
                    "answers": got,
                    "expected": own[family] if family in families else [],
                    "DnsRecordIpType": record,
                },
            )
