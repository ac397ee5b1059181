"""Reading what stands between a VPC's clients and the answers: the DHCP option set (which resolver clients use),
the Route 53 Resolver rules associated with the VPC, its DNS Firewall rule groups (and their domain lists), and
the private hosted zones associated with it (and, for the names the topology checks, whether they hold a record).

Read-only and optional: a call the role may not make, or an API the region lacks, leaves its part unread (noted
in `unread`, so the verdicts that need it are unknown, never false). Domain lists and record sets are read up to
a bound; beyond it (or for an AWS-managed list, which cannot be listed) they count as unread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vpc_verify.aws import read
from vpc_verify.aws.errors import AwsError, calling
from vpc_verify.aws.model import DnsPath, FirewallRule, HostedZone, ResolverRule, VpcState

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

MAX_PAGES = 20  # of a domain list or a zone's record sets: a bound on one run's calls


@dataclass(frozen=True, slots=True)
class DnsPathRead:
    """The DNS path and the parts that could not be read (IAM actions, for AWS_READ_PARTIAL)."""

    path: DnsPath
    unread: tuple[str, ...] = ()


def read_dns_path(ec2: EC2Client, resolver: Any, route53: Any, state: VpcState, names: Iterable[str]) -> DnsPathRead:
    """The VPC's DNS path, with records looked up for `names` (the names the topology checks). A client that is
    None (its API is unreachable from here) leaves its parts unread."""
    wanted = sorted({n.lower().rstrip(".") for n in names})
    unread: list[str] = []

    def part(action: str, fn: Any, client: Any, *args: Any) -> Any:
        if client is None:
            unread.append(f"{action} (its API is unreachable from here)")
            return None
        try:
            return fn(client, *args)
        except AwsError:
            unread.append(action)
            return None

    servers = part("ec2:DescribeDhcpOptions", read.dhcp_options, ec2, state.dhcp_options_id)
    rules = part("route53resolver:ListResolverRuleAssociations", resolver_rules, resolver, state.vpc_id)
    firewall = part("route53resolver:ListFirewallRuleGroupAssociations", firewall_rules, resolver, state.vpc_id)
    zones = part("route53:ListHostedZonesByVPC", hosted_zones, route53, state.vpc_id, state.region, wanted)
    path = DnsPath(
        dhcp_options_id=state.dhcp_options_id,
        domain_name_servers=servers or (),
        rules=rules or (),
        firewall=firewall or (),
        zones=zones or (),
    )
    return DnsPathRead(path, tuple(unread))


def resolver_rules(resolver: Any, vpc_id: str) -> tuple[ResolverRule, ...]:
    """The Resolver rules associated with the VPC (ListResolverRuleAssociations, GetResolverRule)."""
    out = []
    with calling("route53resolver", "ListResolverRuleAssociations"):
        associations = list(
            _paged(
                resolver,
                "list_resolver_rule_associations",
                "ResolverRuleAssociations",
                Filters=[{"Name": "VPCId", "Values": [vpc_id]}],
            )
        )
    for a in associations:
        if str(a.get("Status", "COMPLETE")).upper() not in ("COMPLETE", "OVERRIDDEN"):
            continue
        with calling("route53resolver", "GetResolverRule"):
            r = resolver.get_resolver_rule(ResolverRuleId=a["ResolverRuleId"])["ResolverRule"]
        out.append(
            ResolverRule(
                id=str(r["Id"]),
                association_id=str(a.get("Id", "")),
                domain=str(r.get("DomainName", "")).lower().rstrip("."),
                type=str(r.get("RuleType", "")).upper(),
                name=str(r.get("Name", "")),
                targets=tuple(f"{t.get('Ip') or t.get('Ipv6')}:{t.get('Port', 53)}" for t in r.get("TargetIps") or []),
            )
        )
    return tuple(out)


def firewall_rules(resolver: Any, vpc_id: str) -> tuple[FirewallRule, ...]:
    """The rules of the DNS Firewall rule groups associated with the VPC, with their domain lists."""
    out = []
    with calling("route53resolver", "ListFirewallRuleGroupAssociations"):
        associations = list(
            _paged(resolver, "list_firewall_rule_group_associations", "FirewallRuleGroupAssociations", VpcId=vpc_id)
        )
    lists: dict[str, tuple[str, ...] | None] = {}
    for a in associations:
        if str(a.get("Status", "COMPLETE")).upper() == "DELETING":
            continue
        group = str(a["FirewallRuleGroupId"])
        with calling("route53resolver", "ListFirewallRules"):
            rules = list(_paged(resolver, "list_firewall_rules", "FirewallRules", FirewallRuleGroupId=group))
        for r in rules:
            list_id = str(r.get("FirewallDomainListId", ""))
            if list_id not in lists:
                lists[list_id] = _domains(resolver, list_id)
            out.append(
                FirewallRule(
                    group_id=group,
                    association_id=str(a.get("Id", "")),
                    association_priority=int(a.get("Priority", 0)),
                    priority=int(r.get("Priority", 0)),
                    name=str(r.get("Name", "")),
                    action=str(r.get("Action", "")).upper(),
                    domain_list_id=list_id,
                    domains=lists[list_id],
                    block_response=str(r.get("BlockResponse", "")).upper(),
                    override_domain=str(r.get("BlockOverrideDomain", "")),
                )
            )
    return tuple(out)


def _domains(resolver: Any, list_id: str) -> tuple[str, ...] | None:
    """A domain list's entries (None: it cannot be listed, an AWS-managed list, or it is longer than the bound)."""
    out: list[str] = []
    try:
        with calling("route53resolver", "ListFirewallDomains"):
            for page, response in enumerate(
                resolver.get_paginator("list_firewall_domains").paginate(FirewallDomainListId=list_id)
            ):
                if page >= MAX_PAGES:
                    return None
                out += [str(d).lower().rstrip(".") for d in response.get("Domains") or []]
    except AwsError:
        return None
    return tuple(out)


def hosted_zones(route53: Any, vpc_id: str, region: str, names: Iterable[str]) -> tuple[HostedZone, ...]:
    """The private hosted zones associated with the VPC; for each zone above one of `names`, which of them it
    holds a record for (None: its records could not be read, a zone another account or a service owns)."""
    names = tuple(names)
    with calling("route53", "ListHostedZonesByVPC"):
        summaries = list(_zone_summaries(route53, vpc_id, region))
    out = []
    for z in summaries:
        name = str(z.get("Name", "")).lower().rstrip(".")
        owner = z.get("Owner") or {}
        below = [n for n in names if n == name or n.endswith("." + name)]
        records = _records(route53, str(z["HostedZoneId"]), below) if below else ()
        out.append(
            HostedZone(
                id=str(z["HostedZoneId"]).rsplit("/", 1)[-1],
                name=name,
                owner=str(owner.get("OwningAccount") or owner.get("OwningService") or ""),
                records=records,
            )
        )
    return tuple(out)


def _zone_summaries(route53: Any, vpc_id: str, region: str) -> Iterator[dict[str, Any]]:
    token = None
    for _ in range(MAX_PAGES):
        kwargs: dict[str, Any] = {"VPCId": vpc_id, "VPCRegion": region}
        if token:
            kwargs["NextToken"] = token
        response = route53.list_hosted_zones_by_vpc(**kwargs)
        yield from response.get("HostedZoneSummaries") or []
        token = response.get("NextToken")
        if not token:
            return


def _records(route53: Any, zone_id: str, names: list[str]) -> tuple[str, ...] | None:
    """Which of `names` the zone answers (a record of the name, or a wildcard above it); None when unreadable."""
    held: set[str] = set()
    try:
        with calling("route53", "ListResourceRecordSets"):
            pages = route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id)
            for page, response in enumerate(pages):
                if page >= MAX_PAGES:
                    return None
                for r in response.get("ResourceRecordSets") or []:
                    if r.get("Type") in ("SOA", "NS"):
                        continue
                    held.add(str(r.get("Name", "")).replace("\\052", "*").lower().rstrip("."))
    except AwsError:
        return None
    return tuple(n for n in names if n in held or any(h.startswith("*.") and n.endswith(h[1:]) for h in held))


def _paged(client: Any, method: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    for response in client.get_paginator(method).paginate(**kwargs):
        yield from response.get(key) or []
