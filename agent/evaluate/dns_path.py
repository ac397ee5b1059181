"""The VPC resolver's path for one name, evaluated: which Resolver rule or private hosted zone answers it, and
whether DNS Firewall lets the question through.

Pure. Route 53 Resolver compares the name with the domains of the Resolver rules associated with the VPC and
the private hosted zones associated with it; a domain matches the name itself and every name below it, and the
most specific match wins (a Resolver rule before a zone of the same name). A FORWARD rule sends the question to
its targets; a SYSTEM rule makes Resolver answer itself; a zone answers from its records, and a zone without a
record for the name answers NXDOMAIN (it never falls through to public DNS). DNS Firewall runs the rule groups
associated with the VPC in association-priority order, each group's rules in rule-priority order, and the
first rule whose domain list matches decides (ALLOW and ALERT let the question through, BLOCK stops it).
"""

from __future__ import annotations

from dataclasses import dataclass

from vpc_verify.aws.model import DnsPath, FirewallRule, HostedZone, ResolverRule


@dataclass(frozen=True, slots=True)
class NameVerdict:
    """What the VPC resolver does with one name."""

    name: str
    rule: ResolverRule | None = None  # the Resolver rule that wins (FORWARD, SYSTEM, ...), when one does
    zone: HostedZone | None = None  # the private hosted zone that wins, when one does
    firewall: FirewallRule | None = None  # the first DNS Firewall rule whose domain list matches
    firewall_unknown: tuple[FirewallRule, ...] = ()  # rules before the decision whose domain lists were unread

    @property
    def forwarded(self) -> bool:
        """A FORWARD rule takes the question away from the VPC resolver's own zones."""
        return self.rule is not None and self.rule.type.upper() == "FORWARD"

    @property
    def shadowed(self) -> bool:
        """A private hosted zone wins and holds no record for the name: the answer is NXDOMAIN."""
        z = self.zone
        return z is not None and z.records is not None and self.name not in z.records

    @property
    def blocked(self) -> bool:
        """DNS Firewall blocks the question."""
        return self.firewall is not None and self.firewall.action.upper() == "BLOCK"


def _under(name: str, domain: str) -> bool:
    """`name` is `domain` or below it (Resolver rules and zones)."""
    domain = domain.lower().rstrip(".")
    return not domain or name == domain or name.endswith("." + domain)  # "." is every name


def _listed(name: str, pattern: str) -> bool:
    """A DNS Firewall domain list entry: `*` is every name, `*.zone` every name below the zone, else the name."""
    pattern = pattern.lower().rstrip(".")
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return name.endswith(pattern[1:])
    return name == pattern


def evaluate(path: DnsPath, name: str) -> NameVerdict:
    """What the VPC resolver does with `name`."""
    name = name.lower().rstrip(".")
    rules = [r for r in path.rules if _under(name, r.domain)]
    zones = [z for z in path.zones if _under(name, z.name)]
    rule = max(rules, key=lambda r: len(r.domain.rstrip(".")), default=None)
    zone = max(zones, key=lambda z: len(z.name.rstrip(".")), default=None)
    if rule is not None and zone is not None:
        if len(zone.name.rstrip(".")) > len(rule.domain.rstrip(".")):
            rule = None
        else:
            zone = None
    decided, unknown = None, []
    for f in sorted(path.firewall, key=lambda f: (f.association_priority, f.priority)):
        if f.domains is None:
            unknown.append(f)
            continue
        if any(_listed(name, d) for d in f.domains):
            decided = f
            break
    return NameVerdict(name, rule, zone, decided, tuple(unknown))
