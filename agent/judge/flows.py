"""What a failed probe's flow-log records prove about where its packets were dropped (pure).

A security group is stateful: it may drop a probe's packet on the way in, never the reply. A network ACL is
not: it may drop either. So a REJECT of the probe's packet at the endpoint ENI points at the endpoint's
security group or its subnet's ACL inbound; a REJECT of the reply leaving the ENI at that subnet's ACL
outbound; records on the agent's own interface point at the agent's side.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from vpc_verify.aws.flowlogs import FlowFacts, FlowRecord, Probe
from vpc_verify.aws.model import Eni
from vpc_verify.checks.tcp import TcpResult


def probe_of(address: str, tcp: TcpResult) -> Probe | None:
    """The probe's 5-tuple, when its source port is known."""
    if tcp.local_port is None:
        return None
    src = tcp.local_address
    if src is not None and ipaddress.ip_address(src.split("%")[0]).is_unspecified:
        src = None
    return Probe(src=src, sport=tcp.local_port, dst=address, dport=tcp.port)


def evidence(flows: FlowFacts, address: str, tcp: TcpResult, eni: Eni | None) -> tuple[str, dict[str, Any]] | None:
    """(what to add to the message, the `flow_logs` evidence) for a probe that timed out or was reset."""
    probe = probe_of(address, tcp)
    if probe is None:
        return None
    out, back = flows.of(probe)
    covering = flows.covering(eni.id, eni.subnet_id) if eni is not None else ()
    verdict, text = _verdict(flows, probe, eni, out, back, covering)
    if flows.calls:
        text += (
            f" (read: {flows.calls} FilterLogEvents call{'s' if flows.calls > 1 else ''}, "
            f"{flows.events_scanned} events scanned, no per-query charge)"
        )
    return (
        f"; flow logs: {text}",
        {
            "flow_logs": {
                "verdict": verdict,
                "source_address": probe.src,
                "source_port": probe.sport,
                "eni_id": eni.id if eni is not None else None,
                "covered_by": [f.to_dict() for f in covering],
                "records": [r.to_dict() for r in (*out, *back)],
                "query": flows.query(),
                "error": flows.error or None,
            }
        },
    )


def _verdict(
    flows: FlowFacts,
    probe: Probe,
    eni: Eni | None,
    out: tuple[FlowRecord, ...],
    back: tuple[FlowRecord, ...],
    covering: tuple[Any, ...],
) -> tuple[str, str]:
    if flows.error:
        return "unread", f"not read ({flows.error})"
    here = eni.id if eni is not None else None

    def at_eni(r: FlowRecord) -> bool:
        return here is not None and r.interface_id == here

    rejected_in = [r for r in out if r.action == "REJECT" and at_eni(r)]
    rejected_reply = [r for r in back if r.action == "REJECT" and at_eni(r)]
    rejected_leaving = [r for r in out if r.action == "REJECT" and not at_eni(r)]
    rejected_arriving = [r for r in back if r.action == "REJECT" and not at_eni(r)]
    port = f"source port {probe.sport}"
    if rejected_in and eni is not None:
        r = rejected_in[0]
        return (
            "reject-inbound",
            f"REJECT of the probe's packets ({port}) inbound at {eni.id}, the endpoint's ENI: its security group "
            f"or the network ACL of {eni.subnet_id} dropped them [{r.raw}]",
        )
    if rejected_reply and eni is not None:
        r = rejected_reply[0]
        return (
            "reject-reply",
            f"the endpoint's reply ({port}) was rejected leaving {eni.id}: the network ACL of {eni.subnet_id} "
            f"outbound (a security group never drops a reply) [{r.raw}]",
        )
    if rejected_leaving:
        r = rejected_leaving[0]
        return (
            "reject-agent-outbound",
            f"REJECT of the probe's packets ({port}) leaving {r.interface_id}: the agent's security group egress "
            f"or its subnet's network ACL outbound [{r.raw}]",
        )
    if rejected_arriving:
        r = rejected_arriving[0]
        return (
            "reject-agent-inbound",
            f"the reply ({port}) was rejected arriving at {r.interface_id}: the agent subnet's network ACL inbound "
            f"(ephemeral ports 1024-65535) [{r.raw}]",
        )
    accepted = [r for r in out if r.action == "ACCEPT"]
    if accepted and not back:
        return (
            "accepted-no-reply",
            f"ACCEPT of the probe's packets ({port}) at {accepted[0].interface_id} and nothing back",
        )
    if accepted and back:
        return (
            "accepted-both-ways",
            f"accepted both ways ({port}): the endpoint answered; a reset comes from the service",
        )
    if not any(f.readable for f in covering):
        where = f"{eni.id} and its subnet" if eni is not None else "the address"
        return "not-covered", f"no CloudWatch Logs flow log covers {where}"
    span = f"{flows.query()['start']} .. {flows.query()['end']}"
    return (
        "no-record",
        f"no record of the probe ({port}) in {span}: flow logs arrive within about 10 minutes, so run again later, "
        "or the packets never reached a logged interface",
    )
