"""The endpoint's security groups against the agent, and against what the packets showed.

A control-plane verdict never outranks the packets: "the rules block the agent" is an error only when a
connect to the endpoint actually timed out; when the rules say "blocks" and connects went through, the two
views disagree (the agent's place or a rule is not what vpc-verify read), which is a warning with both.
"""

from __future__ import annotations

from collections.abc import Iterator

from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.findings import Code, Finding
from vpc_verify.judge import hints
from vpc_verify.judge.facts import EndpointFacts
from vpc_verify.judge.rule import endpoint_rule


@endpoint_rule(Code.SECURITY_GROUP_BLOCKS, Code.CONTROL_PLANE_DISAGREES)
def endpoint_groups(facts: EndpointFacts) -> Iterator[Finding]:
    """No inbound rule admits the agent: an error when a connect timed out, a warning when connects worked."""
    side = facts.aws
    if side is None or side.vpce is None or side.sg is None or side.sg.verdict != "blocks":
        return
    vpce, verdict = side.vpce, side.sg
    probes = [a.probe for a in facts.probed() if a.probe is not None]
    timed_out = [p.tcp.address for p in probes if p.tcp.status is TcpStatus.TIMEOUT]
    connected = [p.tcp.address for p in probes if p.connected]
    source = verdict.source
    groups = ", ".join(verdict.group_ids)
    evidence = {"vpc_endpoint_id": vpce.id, **verdict.to_dict()}
    if timed_out:
        first = verdict.group_ids[0]
        origin = (
            f"--source-group {source.group_ids[0]}"
            if source.group_ids
            else f"--cidr {source.networks[0] if source.networks else '<agent CIDR>'}"
        )
        yield Finding.make(
            Code.SECURITY_GROUP_BLOCKS,
            facts.name,
            f"no inbound rule of {groups} (on {vpce.id}) admits tcp/{verdict.port} from {source.describe()}",
            evidence={**evidence, "timed_out": timed_out},
            hint=hints.authorize_ingress(first, verdict.port, origin),
        )
    elif connected:
        yield Finding.make(
            Code.CONTROL_PLANE_DISAGREES,
            facts.name,
            f"no inbound rule of {groups} (on {vpce.id}) admits tcp/{verdict.port} from {source.describe()} as "
            f"vpc-verify reads them, yet connects to {', '.join(connected)} succeeded",
            evidence={**evidence, "connected": connected},
            hint="The packets went through, so the endpoint works from here; tell vpc-verify where the agent "
            "stands (--subnet-id, --security-group-id) or look for a rule it cannot read (a group referenced "
            "across accounts or VPC peering).",
        )
