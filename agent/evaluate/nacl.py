"""Network ACLs, evaluated: is a TCP flow admitted in one direction through a subnet's ACL, by which rule?

Pure. AWS evaluates a network ACL's entries of one direction in ascending rule number and the first entry
that matches decides (allow or deny); the final `*` entry (32767) denies the rest. ACLs are stateless, so a
connection needs four passes when the two ends are in different subnets: out of the agent's subnet to the
port, into the endpoint's subnet to the port, and the return traffic out of the endpoint's subnet and into
the agent's, to the agent's ephemeral port. Traffic between two addresses of one subnet is not evaluated.

Conservative where the facts leave it open: an entry that covers only part of where the agent may be (its
subnet rather than its address) or only part of the ephemeral range makes the verdict "unknown", never
"blocks"; so does an ACL that was not read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from vpc_verify.aws.model import NaclEntry, NetworkAcl
from vpc_verify.evaluate.security_groups import Verdict
from vpc_verify.topology import IPNetwork

Direction = Literal["inbound", "outbound"]
TCP = "6"


@dataclass(frozen=True, slots=True)
class NaclVerdict:
    """One pass of a flow through a subnet's network ACL, and the entry that decided it."""

    verdict: Verdict
    acl_id: str | None  # None: the subnet's ACL is unknown (not read)
    subnet_id: str
    direction: Direction
    peer: tuple[IPNetwork, ...]  # the other end: the source of inbound traffic, the destination of outbound
    ports: tuple[int, int]  # the destination ports of the traffic
    entry: NaclEntry | None = None  # the deciding entry (None for the implicit final deny, or unknown)
    leg: str = ""  # request | return

    def describe(self) -> str:
        """For messages: 'network ACL acl-1 of subnet subnet-a, inbound rule 90 (deny tcp/443 from 10.1.1.0/24)'."""
        what = f"network ACL {self.acl_id} of subnet {self.subnet_id}"
        ports = f"tcp/{self.ports[0]}" if self.ports[0] == self.ports[1] else f"tcp/{self.ports[0]}-{self.ports[1]}"
        peer = ", ".join(str(p) for p in self.peer) or "?"
        way = "from" if self.direction == "inbound" else "to"
        if self.entry is None:
            return f"{what}: no {self.direction} rule admits {ports} {way} {peer} (the final * rule denies it)"
        e = self.entry
        return f"{what}, {self.direction} rule {e.rule_number} ({e.action} {ports} {way} {e.cidr})"

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence."""
        return {
            "network_acl_id": self.acl_id,
            "subnet_id": self.subnet_id,
            "direction": self.direction,
            "leg": self.leg,
            "peer": [str(p) for p in self.peer],
            "ports": f"{self.ports[0]}-{self.ports[1]}",
            "verdict": self.verdict,
            "rule": None if self.entry is None else self.entry.to_dict(),
        }


def evaluate(
    acl: NetworkAcl | None,
    *,
    subnet_id: str,
    direction: Direction,
    peer: Sequence[IPNetwork],
    ports: tuple[int, int],
    leg: str = "",
    protocol: str = TCP,
) -> NaclVerdict:
    """Does `acl` admit `protocol` traffic to `ports` from (inbound) or to (outbound) every network of `peer`?"""
    peer = tuple(peer)
    if acl is None or not peer:
        return NaclVerdict("unknown", acl.id if acl else None, subnet_id, direction, peer, ports, leg=leg)
    egress = direction == "outbound"
    version = peer[0].version
    for entry in sorted((e for e in acl.entries if e.egress == egress), key=lambda e: e.rule_number):
        if entry.protocol not in ("-1", protocol) or not entry.cidr:
            continue
        net = ipaddress.ip_network(entry.cidr, strict=False)
        if net.version != version:
            continue
        addresses = _cover(net, peer)
        port_range = _port_cover(entry, ports)
        if addresses == "none" or port_range == "none":
            continue
        if addresses == "all" and port_range == "all":
            verdict: Verdict = "admits" if entry.action == "allow" else "blocks"
            return NaclVerdict(verdict, acl.id, subnet_id, direction, peer, ports, entry, leg)
        # The entry decides for part of the flow only: which part the real packets are is not known.
        return NaclVerdict("unknown", acl.id, subnet_id, direction, peer, ports, entry, leg)
    return NaclVerdict("blocks", acl.id, subnet_id, direction, peer, ports, None, leg)


def combined(verdicts: Sequence[NaclVerdict]) -> Verdict:
    """blocks when a pass is blocked, unknown when one is unknown, admits when every pass is admitted."""
    found = {v.verdict for v in verdicts}
    if "blocks" in found:
        return "blocks"
    if "unknown" in found or not verdicts:
        return "unknown"
    return "admits"


def _cover(net: IPNetwork, peer: Sequence[IPNetwork]) -> str:
    inside = [_within(p, net) for p in peer]
    if all(inside):
        return "all"
    if any(inside) or any(p.overlaps(net) for p in peer if p.version == net.version):
        return "some"
    return "none"


def _port_cover(entry: NaclEntry, ports: tuple[int, int]) -> str:
    if entry.protocol == "-1" or entry.from_port is None or entry.to_port is None:
        return "all"
    low, high = entry.from_port, entry.to_port
    if low <= ports[0] and ports[1] <= high:
        return "all"
    if high < ports[0] or low > ports[1]:
        return "none"
    return "some"


def _within(inner: IPNetwork, outer: IPNetwork) -> bool:
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    return False
