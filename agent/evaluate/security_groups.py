"""Security groups, evaluated: does a set of groups admit tcp/<port> from the agent, and by which rule?

Pure: groups, prefix lists and the agent's source in, a verdict with the deciding rules out. Conservative
where AWS's facts leave it open: a rule whose CIDR covers only part of where the agent may be, or that names
a group when the agent's groups are unknown, makes the verdict "unknown", never "blocks". Security groups are
stateful, so for a connection from the agent only the endpoint's inbound rules (`inbound`) and the agent's
own outbound rules (`outbound`) matter. Everything is per address family: an IPv6 probe is judged against
IPv6 rules and the agent's IPv6 source. A link-local address (a Lambda sandbox's) is never a source: the
packets enter the VPC from the function's subnets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from vpc_verify.aws.model import PrefixList, Rule, SecurityGroup, VpcState
from vpc_verify.aws.whereami import Place
from vpc_verify.topology import IPNetwork

Verdict = Literal["admits", "blocks", "unknown"]
Precision = Literal["address", "subnet", "vpc"]


class Peer(Protocol):
    """The other end of a rule: the networks it may be in and its security groups (None: unknown)."""

    @property
    def networks(self) -> tuple[IPNetwork, ...]: ...

    @property
    def group_ids(self) -> tuple[str, ...] | None: ...


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the agent connects to: an address and the security groups of its ENI (none for a gateway)."""

    networks: tuple[IPNetwork, ...]
    group_ids: tuple[str, ...] | None = ()


@dataclass(frozen=True, slots=True)
class AgentSource:
    """Where the agent's packets come from, as precisely as known, for one address family."""

    networks: tuple[IPNetwork, ...]  # its address (/32, /128), else its subnet, else the VPC's CIDRs
    precision: Precision
    group_ids: tuple[str, ...] | None  # None when the agent's security groups are unknown

    def describe(self) -> str:
        """For messages: 'the agent (10.0.1.5/32)', "the agent's subnet (10.0.1.0/24)", ..."""
        shown = ", ".join(str(n) for n in self.networks) or "?"
        return {"address": f"the agent ({shown})", "subnet": f"the agent's subnet ({shown})"}.get(
            self.precision, f"the VPC ({shown})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence."""
        return {
            "agent_source": [str(n) for n in self.networks],
            "agent_source_precision": self.precision,
            "agent_security_group_ids": None if self.group_ids is None else list(self.group_ids),
        }


@dataclass(frozen=True, slots=True)
class SgVerdict:
    """Whether groups admit the agent on a port, and the rules that decided it."""

    verdict: Verdict
    port: int
    group_ids: tuple[str, ...]
    source: AgentSource
    admitting: tuple[Rule, ...] = ()
    possible: tuple[Rule, ...] = ()
    rules: tuple[Rule, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence: the groups, every rule, and which rules admit the agent."""
        return {
            "security_group_ids": list(self.group_ids),
            "port": self.port,
            "verdict": self.verdict,
            **self.source.to_dict(),
            "inbound_rules": [r.to_dict() for r in self.rules],
            "admitting_rules": [r.to_dict() for r in self.admitting],
            "possibly_admitting_rules": [r.to_dict() for r in self.possible],
        }


@dataclass(frozen=True, slots=True)
class EgressVerdict:
    """Whether the agent's own groups let tcp/<port> out to an address, and the rules that decided it."""

    verdict: Verdict
    port: int
    group_ids: tuple[str, ...]  # the agent's groups
    destination: str
    admitting: tuple[Rule, ...] = ()
    possible: tuple[Rule, ...] = ()
    rules: tuple[Rule, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence: the agent's groups, their outbound rules, and which admit the destination."""
        return {
            "agent_security_group_ids": list(self.group_ids),
            "port": self.port,
            "destination": self.destination,
            "verdict": self.verdict,
            "outbound_rules": [r.to_dict() for r in self.rules],
            "admitting_rules": [r.to_dict() for r in self.admitting],
            "possibly_admitting_rules": [r.to_dict() for r in self.possible],
        }


def agent_source(state: VpcState, place: Place, version: int = 4) -> AgentSource:
    """The agent's source networks of one address family, and its groups, as precisely as known: its
    address, else its subnet (or the union of the subnets it may be in, a Lambda's), else the VPC's CIDRs."""
    groups = place.security_group_ids or None
    for address in (place.address, place.ipv6_address):
        if address and not _link_local(address) and ipaddress.ip_address(address).version == version:
            return AgentSource((ipaddress.ip_network(address),), "address", groups)
    nets: list[IPNetwork] = []
    for subnet_id in place.candidate_subnets():
        subnet = state.subnets.get(subnet_id)
        if subnet is None:
            continue
        cidrs = [c for c in (subnet.cidr, *subnet.ipv6_cidrs) if c]
        nets += [n for n in (ipaddress.ip_network(c, strict=False) for c in cidrs) if n.version == version]
    if nets:
        return AgentSource(tuple(dict.fromkeys(nets)), "subnet", groups)
    return AgentSource(tuple(c for c in state.cidrs if c.version == version), "vpc", groups)


def inbound(
    group_ids: tuple[str, ...],
    groups: Mapping[str, SecurityGroup],
    prefix_lists: Mapping[str, PrefixList],
    source: AgentSource,
    port: int,
) -> SgVerdict:
    """Do the groups' inbound rules admit tcp/`port` from `source`?"""
    verdict, rules, admitting, possible = _evaluate(group_ids, groups, prefix_lists, source, port, "ingress")
    return SgVerdict(verdict, port, group_ids, source, admitting, possible, rules)


def outbound(
    group_ids: tuple[str, ...],
    groups: Mapping[str, SecurityGroup],
    prefix_lists: Mapping[str, PrefixList],
    destination: Destination,
    port: int,
) -> EgressVerdict:
    """Do the agent's groups' outbound rules let tcp/`port` out to `destination`?"""
    verdict, rules, admitting, possible = _evaluate(group_ids, groups, prefix_lists, destination, port, "egress")
    shown = ", ".join(str(n.network_address if n.num_addresses == 1 else n) for n in destination.networks)
    return EgressVerdict(verdict, port, group_ids, shown, admitting, possible, rules)


def _evaluate(
    group_ids: tuple[str, ...],
    groups: Mapping[str, SecurityGroup],
    prefix_lists: Mapping[str, PrefixList],
    peer: Peer,
    port: int,
    direction: Literal["ingress", "egress"],
) -> tuple[Verdict, tuple[Rule, ...], tuple[Rule, ...], tuple[Rule, ...]]:
    """The verdict of one direction's rules of `group_ids` for tcp/`port` with `peer`: the rules read, those
    that admit, and those that might (a group that could not be read makes the verdict unknown, never blocks)."""
    rules: list[Rule] = []
    missing = False
    for gid in group_ids:
        group = groups.get(gid)
        if group is None:
            missing = True
            continue
        rules.extend(group.ingress if direction == "ingress" else group.egress)
    admitting, possible = _sort(rules, prefix_lists, peer, port)
    verdict: Verdict
    if admitting:
        verdict = "admits"
    elif possible or missing or not group_ids:
        verdict = "unknown"
    else:
        verdict = "blocks"
    return verdict, tuple(rules), tuple(admitting), tuple(possible)


def _sort(
    rules: Iterable[Rule], prefix_lists: Mapping[str, PrefixList], source: Peer, port: int
) -> tuple[list[Rule], list[Rule]]:
    admitting: list[Rule] = []
    possible: list[Rule] = []
    for rule in rules:
        if not rule.covers_port(port):
            continue
        fit = rule_fit(rule, prefix_lists, source)
        if fit == "admits":
            admitting.append(rule)
        elif fit == "unknown":
            possible.append(rule)
    return admitting, possible


def rule_fit(rule: Rule, prefix_lists: Mapping[str, PrefixList], source: Peer) -> Verdict:
    """Whether one rule's peer holds every address the other end (`source`) may have."""
    if rule.source_group_id:
        if source.group_ids is None:
            return "unknown"
        return "admits" if rule.source_group_id in source.group_ids else "blocks"
    cidrs: tuple[str, ...]
    if rule.cidr:
        cidrs = (rule.cidr,)
    else:
        pl = prefix_lists.get(rule.prefix_list_id or "")
        if pl is None:
            return "unknown"
        cidrs = pl.cidrs
    nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    mine = list(source.networks)
    if mine and all(any(_within(m, n) for n in nets) for m in mine):
        return "admits"
    if any(n.version == m.version and n.overlaps(m) for n in nets for m in mine):
        return "unknown"
    return "blocks"


def _link_local(address: str) -> bool:
    return ipaddress.ip_address(address).is_link_local


def _within(inner: IPNetwork, outer: IPNetwork) -> bool:
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    return False
