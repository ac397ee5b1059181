"""Reading what stands between a VPC's clients and the answers: the DHCP option set (which resolver clients use),
the Route 53 Resolver rules associated with the VPC, its DNS Firewall rule groups (and their domain lists), the
private hosted zones associated with it (and, for the names the topology checks, whether they hold a record), and
the Route 53 Profile associated with it, whose private hosted zones apply to the VPC as its own do (ListHostedZonesByVPC
does not list them: Route 53 Profiles API, ListProfileAssociations and ListProfileResourceAssociations). A Profile
shared from another account lists its resources, but its zones may not be readable here: they are unverifiable, not
absent.

Read-only and optional: a call the role may not make, or an API the region lacks, leaves its part unread (noted
in `unread`, so the verdicts that need it are unknown, never false). Domain lists and record sets are read up to
a bound; beyond it (or for an AWS-managed list, which cannot be listed) they count as unread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from vpc_verify.aws import read
from vpc_verify.aws.errors import AwsError, calling
from vpc_verify.aws.model import DnsPath, FirewallRule, HostedZone, Profile, ResolverRule, VpcState

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

MAX_PAGES = 20  # of a domain list or a zone's record sets: a bound on one run's calls
NOT_ASKED: Any = object()  # read_dns_path's `profiles` when the Route 53 Profiles API is not to be read at all


@dataclass(frozen=True, slots=True)
class DnsPathRead:
    """The DNS path and the parts that could not be read (IAM actions, for AWS_READ_PARTIAL)."""

    path: DnsPath
    unread: tuple[str, ...] = ()


def read_dns_path(
    ec2: EC2Client,
    resolver: Any,
    route53: Any,
    state: VpcState,
    names: Iterable[str],
    profiles: Any = NOT_ASKED,
) -> DnsPathRead:
    """The VPC's DNS path, with records looked up for `names` (the names the topology checks). A client that is
    None (its API is unreachable from here) leaves its parts unread; `profiles` NOT_ASKED leaves the Route 53
    Profile out."""
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
    shared: tuple[Profile | None, tuple[HostedZone, ...]] | None = None
    if profiles is not NOT_ASKED:
        shared = part("route53profiles:ListProfileAssociations", profile, profiles, route53, state.vpc_id, wanted)
    own = tuple(zones or ())
    mine = {z.id for z in own}
    path = DnsPath(
        dhcp_options_id=state.dhcp_options_id,
        domain_name_servers=servers or (),
        rules=rules or (),
        firewall=firewall or (),
        # The VPC's own zones first: of two zones of one name the evaluator takes the first (the VPC's own; a
        # Profile's zone of the same name as a zone of the VPC's is not verified against a live account).
        zones=own + tuple(z for z in (shared[1] if shared else ()) if z.id not in mine),
        profile=shared[0] if shared else None,
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


def profile(
    profiles: Any, route53: Any, vpc_id: str, names: Iterable[str]
) -> tuple[Profile | None, tuple[HostedZone, ...]]:
    """The Route 53 Profile associated with the VPC (None: none is) and the private hosted zones it shares, each with
    the records it holds for `names` like the VPC's own zones. Its resources or a zone that cannot be read (another
    account's) are recorded on the Profile (`error`, `unreadable`), never raised; a route53 client that is None reads
    no zone."""
    names = tuple(names)
    with calling("route53profiles", "ListProfileAssociations"):
        associations = list(_paged(profiles, "list_profile_associations", "ProfileAssociations", ResourceId=vpc_id))
    live = [a for a in associations if str(a.get("Status", "COMPLETE")).upper() not in ("DELETING", "DELETED")]
    if not live:
        return None, ()
    a = live[0]  # a VPC has at most one Profile
    found = Profile(
        id=str(a.get("ProfileId", "")),
        association_id=str(a.get("Id", "")),
        name=str(a.get("Name", "")),
        owner=str(a.get("OwnerId", "")),
        status=str(a.get("Status", "")),
    )
    try:
        with calling("route53profiles", "ListProfileResourceAssociations"):
            listed = list(
                _paged(
                    profiles, "list_profile_resource_associations", "ProfileResourceAssociations", ProfileId=found.id
                )
            )
    except AwsError as exc:
        return replace(found, error=str(exc)), ()
    resources = tuple(
        (str(r.get("ResourceType", "")), str(r.get("ResourceArn", "")))
        for r in listed
        if str(r.get("Status", "COMPLETE")).upper() not in ("DELETING", "DELETED", "FAILED")
    )
    found = replace(found, resources=resources)
    zones, unreadable = [], []
    for zone_id in found.hosted_zone_ids():
        zone = _shared_zone(route53, zone_id, names, found.id)
        if zone is None or zone.records is None:
            unreadable.append(zone_id)
        if zone is not None:
            zones.append(zone)
    return replace(found, unreadable=tuple(unreadable)), tuple(zones)


def _shared_zone(route53: Any, zone_id: str, names: tuple[str, ...], profile_id: str) -> HostedZone | None:
    """A Profile's private hosted zone with the records it holds for `names` (None: its name could not be read)."""
    if route53 is None:
        return None
    try:
        with calling("route53", "GetHostedZone"):
            answer = route53.get_hosted_zone(Id=zone_id)
    except AwsError:
        return None
    name = str((answer.get("HostedZone") or {}).get("Name", "")).lower().rstrip(".")
    if not name:
        return None
    below = [n for n in names if n == name or n.endswith("." + name)]
    records = _records(route53, zone_id, below) if below else ()
    return HostedZone(id=zone_id, name=name, owner="", records=records, profile_id=profile_id)


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
