"""The configuration on the path of each probe against what the packets showed: the endpoint's security
groups, the agent's own outbound rules, and the network ACLs of both subnets (vpc_verify.evaluate.path).

A control-plane verdict never outranks the packets: "the configuration blocks the agent" is an error only
for an address whose connect actually timed out; where the configuration says "blocks" and connects went
through, the two views disagree (the agent's place or a rule is not what vpc-verify read), which is one
warning with both views. Every verdict is in the address family of its probe.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.findings import Code, Finding
from vpc_verify.judge import hints
from vpc_verify.judge.facts import AwsSide, EndpointFacts
from vpc_verify.judge.rule import endpoint_rule

if TYPE_CHECKING:
    from vpc_verify.evaluate.nacl import NaclVerdict
    from vpc_verify.evaluate.path import PathVerdict


def _paths(facts: EndpointFacts, status: TcpStatus | None) -> list[PathVerdict]:
    """The paths of the probed addresses whose connect ended with `status` (None: succeeded)."""
    side = facts.aws
    if side is None:
        return []
    out = []
    for a in facts.probed():
        assert a.probe is not None
        ok = a.probe.connected
        if (status is None and ok) or (status is not None and a.probe.tcp.status is status):
            found = side.paths.get(a.address)
            if found is not None:
                out.append(found)
    return out


@endpoint_rule(Code.SECURITY_GROUP_BLOCKS)
def endpoint_groups(facts: EndpointFacts) -> Iterator[Finding]:
    """No inbound rule of the endpoint's groups admits the agent, and a connect timed out (per family)."""
    side = facts.aws
    if side is None or side.vpce is None:
        return
    vpce = side.vpce
    by_family: dict[int, list[PathVerdict]] = {}
    for p in _paths(facts, TcpStatus.TIMEOUT):
        if p.inbound is not None and p.inbound.verdict == "blocks":
            by_family.setdefault(p.version, []).append(p)
    for version, paths in sorted(by_family.items()):
        verdict = paths[0].inbound
        assert verdict is not None
        source = verdict.source
        first = verdict.group_ids[0]
        origin = (
            f"--source-group {source.group_ids[0]}"
            if source.group_ids
            else f"--cidr {source.networks[0] if source.networks else '<agent CIDR>'}"
        )
        yield Finding.make(
            Code.SECURITY_GROUP_BLOCKS,
            facts.name,
            f"no inbound rule of {', '.join(verdict.group_ids)} (on {vpce.id}) admits tcp/{verdict.port} "
            f"from {source.describe()}",
            evidence={
                "vpc_endpoint_id": vpce.id,
                **verdict.to_dict(),
                "timed_out": [p.address for p in paths],
                "address_family": version,
            },
            hint=hints.authorize_ingress(first, verdict.port, origin)
            if version == 4 or source.group_ids
            else _ingress_v6(first, verdict.port, str(source.networks[0]) if source.networks else "<agent CIDR>"),
        )


def _ingress_v6(group_id: str, port: int, cidr: str) -> str:
    return (
        f"aws ec2 authorize-security-group-ingress --group-id {group_id} "
        f"--ip-permissions 'IpProtocol=tcp,FromPort={port},ToPort={port},Ipv6Ranges=[{{CidrIpv6={cidr}}}]'"
    )


@endpoint_rule(Code.AGENT_EGRESS_BLOCKS)
def agent_egress(facts: EndpointFacts) -> Iterator[Finding]:
    """No outbound rule of the agent's own groups lets the connection out, and it timed out."""
    side = facts.aws
    if side is None or side.vpce is None:
        return
    for p in _paths(facts, TcpStatus.TIMEOUT):
        egress = p.egress
        if egress is None or egress.verdict != "blocks":
            continue
        gateway = side.vpce.type == "gateway"
        pl = side.prefix_list if gateway else None
        where = f"{p.address} (prefix list {pl.id} of {pl.name})" if pl is not None else p.address
        yield Finding.make(
            Code.AGENT_EGRESS_BLOCKS,
            facts.name,
            f"no outbound rule of the agent's security groups {', '.join(egress.group_ids)} lets tcp/{p.port} "
            f"out to {where}",
            address=p.address,
            evidence={"vpc_endpoint_id": side.vpce.id, **egress.to_dict(), "prefix_list_id": pl.id if pl else None},
            hint=hints.authorize_egress(egress.group_ids[0], p.port, _egress_peer(side, p, pl.id if pl else None)),
        )


def _egress_peer(side: AwsSide, p: PathVerdict, prefix_list_id: str | None) -> str:
    if prefix_list_id:
        return f"PrefixListIds=[{{PrefixListId={prefix_list_id}}}]"
    cidrs = [str(c) for c in side.state.cidrs if c.version == p.version] or [p.address]
    if p.version == 6:
        return f"Ipv6Ranges=[{{CidrIpv6={cidrs[0]}}}]"
    return f"IpRanges=[{{CidrIp={cidrs[0]}}}]"


@endpoint_rule(Code.NACL_BLOCKS)
def network_acls(facts: EndpointFacts) -> Iterator[Finding]:
    """A network ACL entry (or the final deny) drops a connection that timed out: one finding per entry."""
    side = facts.aws
    if side is None or side.vpce is None:
        return
    grouped: dict[tuple[Any, ...], tuple[NaclVerdict, list[str]]] = {}
    for p in _paths(facts, TcpStatus.TIMEOUT):
        for v in p.blocked_nacls():
            key = (v.acl_id, v.subnet_id, v.direction, v.leg, v.entry.rule_number if v.entry else None)
            grouped.setdefault(key, (v, []))[1].append(p.address)
    for v, addresses in grouped.values():
        ports = f"tcp/{v.ports[0]}" if v.ports[0] == v.ports[1] else f"tcp/{v.ports[0]}-{v.ports[1]}"
        leg = "the return traffic" if v.leg == "return" else "the connection"
        peer = str(v.peer[0]) if v.peer else "<peer CIDR>"
        yield Finding.make(
            Code.NACL_BLOCKS,
            facts.name,
            f"{v.describe()}: it drops {leg} ({ports}) of the probes to {', '.join(addresses)}",
            evidence={"vpc_endpoint_id": side.vpce.id, **v.to_dict(), "timed_out": addresses},
            hint=hints.allow_nacl_entry(
                v.acl_id or "<acl>", v.direction == "outbound", v.entry.rule_number if v.entry else None, v.ports, peer
            ),
        )


@endpoint_rule(Code.CONTROL_PLANE_DISAGREES)
def disagreement(facts: EndpointFacts) -> Iterator[Finding]:
    """The configuration says "blocks" for addresses whose connects succeeded: one warning with both views."""
    side = facts.aws
    if side is None or side.vpce is None:
        return
    paths = [p for p in _paths(facts, None) if p.blocks()]
    if not paths:
        return
    reasons: list[str] = []
    disagreements: list[dict[str, Any]] = []
    evidence: dict[str, Any] = {"vpc_endpoint_id": side.vpce.id}
    for p in paths:
        if p.inbound is not None and p.inbound.verdict == "blocks":
            v = p.inbound
            text = (
                f"no inbound rule of {', '.join(v.group_ids)} (on {side.vpce.id}) admits tcp/{v.port} from "
                f"{v.source.describe()}"
            )
            evidence = {**v.to_dict(), **evidence}
            _add(reasons, disagreements, text, {"what": "endpoint security groups", "address": p.address})
        if p.egress is not None and p.egress.verdict == "blocks":
            text = f"no outbound rule of the agent's groups {', '.join(p.egress.group_ids)} lets tcp/{p.port} out"
            _add(reasons, disagreements, text, {"what": "agent egress", **p.egress.to_dict()})
        for n in p.blocked_nacls():
            _add(reasons, disagreements, n.describe(), {"what": "network ACL", **n.to_dict()})
    connected = [p.address for p in paths]
    yield Finding.make(
        Code.CONTROL_PLANE_DISAGREES,
        facts.name,
        f"{'; '.join(reasons)} as vpc-verify reads them, yet connects to {', '.join(connected)} succeeded",
        evidence={**evidence, "connected": connected, "disagreements": disagreements},
        hint="The packets went through, so the endpoint works from here; tell vpc-verify where the agent "
        "stands (--subnet-id, --security-group-id) or look for a rule it cannot read (a group referenced "
        "across accounts or VPC peering).",
    )


def _add(reasons: list[str], disagreements: list[dict[str, Any]], text: str, detail: dict[str, Any]) -> None:
    if text not in reasons:
        reasons.append(text)
    disagreements.append(detail)
