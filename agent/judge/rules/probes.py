"""What the probes of each address showed: the connect, the handshake, the HTTP exchange.

A ladder per address: a failed connect has no TLS phase, a failed handshake no HTTP phase, so each address
gets at most one connect-or-handshake finding. A connect that timed out is explained with what AWS says when
the control plane was read (vpc_verify.evaluate.path): the endpoint's security group, the agent's own egress,
a network ACL (interface endpoints); or the route, the agent's egress to the prefix list and its subnet's ACL
(gateway endpoints, which have no security group: never "the endpoint's security group").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from vpc_verify import redact
from vpc_verify.checks.http import HttpStatus
from vpc_verify.checks.tcp import TcpResult, TcpStatus
from vpc_verify.checks.tls import TlsStatus
from vpc_verify.findings import Code, Finding
from vpc_verify.judge import hints
from vpc_verify.judge.facts import AwsSide, EndpointFacts
from vpc_verify.judge.rule import endpoint_rule
from vpc_verify.report import AddressReport

if TYPE_CHECKING:
    from vpc_verify.evaluate.path import PathVerdict

EXPIRY_WARNING = dt.timedelta(days=14)

TCP = {
    TcpStatus.TIMEOUT: (Code.TCP_TIMEOUT, "connect to {target} timed out after {ms:.0f} ms (packets dropped)"),
    TcpStatus.REFUSED: (Code.TCP_REFUSED, "connect to {target} was refused: nothing listens on port {port}"),
    TcpStatus.UNREACHABLE: (Code.TCP_UNREACHABLE, "no route to {target}: {error}"),
    TcpStatus.ERROR: (Code.TCP_UNREACHABLE, "connect to {target} failed: {error}"),
}


# A gateway endpoint has no security group or ENI: never blame "the endpoint's security group".
GATEWAY_TIMEOUT_HINT = (
    "A gateway endpoint has no security group: check the route table of the agent's subnet (the service's "
    "prefix list via the endpoint), the agent's security group egress to that prefix list, and its subnet's "
    "network ACL (outbound to the list's CIDRs, inbound ephemeral ports)."
)


@endpoint_rule(Code.TCP_TIMEOUT, Code.TCP_REFUSED, Code.TCP_UNREACHABLE)
def connect(facts: EndpointFacts) -> Iterator[Finding]:
    """A connect that failed; a timeout joined with the security group or route that explains it."""
    for a in facts.probed():
        assert a.probe is not None
        tcp = a.probe.tcp
        if tcp.status is TcpStatus.OK:
            continue
        code, template = TCP[tcp.status]
        message = template.format(target=f"{a.address}:{tcp.port}", ms=tcp.ms, port=tcp.port, error=tcp.error)
        evidence: dict[str, Any] = {
            "port": tcp.port,
            "status": tcp.status.value,
            "ms": round(tcp.ms, 3),
            "error": tcp.error,
            "names": list(a.names),
        }
        hint = GATEWAY_TIMEOUT_HINT if code is Code.TCP_TIMEOUT and facts.endpoint.type == "gateway" else None
        side = facts.aws
        if code is Code.TCP_TIMEOUT and side is not None and side.vpce is not None:
            explain = _gateway_timeout if side.vpce.type == "gateway" else _interface_timeout
            explained = explain(facts, side, a.address, tcp)
            if explained is not None:
                why, more, hint = explained
                message += why
                evidence |= more
        if facts.flows is not None and code in (Code.TCP_TIMEOUT, Code.TCP_REFUSED):  # --evidence flowlogs
            from vpc_verify.judge import flows

            shown = flows.evidence(facts.flows, a.address, tcp, side.eni_of(a.address) if side else None)
            if shown is not None:
                message += shown[0]
                evidence |= shown[1]
        yield Finding.make(code, facts.name, message, address=a.address, evidence=evidence, hint=hint)


def _interface_timeout(
    facts: EndpointFacts, side: AwsSide, address: str, tcp: TcpResult
) -> tuple[str, dict[str, Any], str] | None:
    path, vpce = side.paths.get(address), side.vpce
    if path is None or vpce is None or path.inbound is None:
        return None
    verdict = path.inbound
    more = {"vpc_endpoint_id": vpce.id, **verdict.to_dict(), "path": path.to_dict()}
    source = verdict.source
    groups = ", ".join(verdict.group_ids) or "(none)"
    if verdict.verdict == "blocks":
        first = verdict.group_ids[0]
        origin = f"--cidr {source.networks[0] if source.networks else '<agent CIDR>'}"
        return (
            f": no inbound rule of {groups} admits tcp/{verdict.port} from {source.describe()}",
            more,
            f"Add an inbound rule to {first}: {hints.authorize_ingress(first, verdict.port, origin)}",
        )
    blocked = _blocked_elsewhere(side, path)
    if blocked is not None:
        return blocked[0], more, blocked[1]
    eni = side.eni_of(address)
    where = f"the network ACL of subnet {eni.subnet_id}" if eni is not None else "the endpoint subnets' network ACLs"
    if side.place.subnet_id:
        where += f" and of the agent's subnet {side.place.subnet_id}"
    table = side.agent_table
    route = f", and route table {table.id}" if table is not None else ""
    if verdict.verdict == "admits":
        rule = verdict.admitting[0]
        message = (
            f"; security group {rule.group_id} admits tcp/{verdict.port} from {rule.source()}, so the drop is elsewhere"
        )
        if path.nacl_verdict() == "admits":
            acls = sorted({v.acl_id for v in path.nacls if v.acl_id})
            also = (
                f"; the network ACLs ({', '.join(acls)}) admit it both ways too"
                if acls
                else "; no network ACL is on the way (the agent and "
                f"{address} share subnet {eni.subnet_id if eni else '?'})"
            )
            return (
                message + also,
                more,
                f"Check route table {table.id if table else 'of the agent subnet'}, any firewall or appliance on "
                "the path, and that the service behind the endpoint answers.",
            )
        return (
            message,
            more,
            f"Check {where} (inbound tcp/{verdict.port}, outbound ephemeral ports 1024-65535){route}.",
        )
    why = side.place.describe_missing() or "a rule covers only part of where the agent may be"
    return (
        f"; the rules of {groups} may or may not admit the agent ({why})",
        more,
        f"Check that {groups} admits tcp/{verdict.port} from this agent, then {where}{route}.",
    )


def _blocked_elsewhere(side: AwsSide, path: PathVerdict) -> tuple[str, str] | None:
    """The agent's own egress or a network ACL that drops the flow: (message, hint)."""
    egress = path.egress
    if egress is not None and egress.verdict == "blocks":
        peer = (
            f"PrefixListIds=[{{PrefixListId={side.prefix_list.id}}}]"
            if side.vpce is not None and side.vpce.type == "gateway" and side.prefix_list is not None
            else (
                f"Ipv6Ranges=[{{CidrIpv6={path.address}/128}}]"
                if path.version == 6
                else f"IpRanges=[{{CidrIp={path.address}/32}}]"
            )
        )
        return (
            f": no outbound rule of the agent's security groups {', '.join(egress.group_ids)} lets tcp/{path.port} "
            f"out to {path.address}",
            f"Add an outbound rule: {hints.authorize_egress(egress.group_ids[0], path.port, peer)}",
        )
    for v in path.blocked_nacls():
        peer = str(v.peer[0]) if v.peer else "<peer CIDR>"
        return (
            f": {v.describe()}",
            "Add an allow entry before it: "
            + hints.allow_nacl_entry(
                v.acl_id or "<acl>", v.direction == "outbound", v.entry.rule_number if v.entry else None, v.ports, peer
            ),
        )
    return None


def _gateway_timeout(
    facts: EndpointFacts, side: AwsSide, address: str, tcp: TcpResult
) -> tuple[str, dict[str, Any], str] | None:
    # A gateway endpoint has no security group of its own: the route decides first, then the agent's side
    # (its egress rules to the prefix list, its subnet's ACL to the list's CIDRs).
    vpce, pl, table = side.vpce, side.prefix_list, side.agent_table
    if vpce is None:
        return None
    from vpc_verify.evaluate import routes  # AWS's model: only for a run with a control plane

    target = pl.id if pl is not None else vpce.service
    routed = routes.routes_via(table, vpce, pl) if table is not None else None
    path = side.paths.get(address)
    more: dict[str, Any] = {
        "vpc_endpoint_id": vpce.id,
        "prefix_list_id": pl.id if pl else None,
        "agent_subnet_id": side.place.subnet_id,
        "route_table_id": table.id if table else None,
        "route_via_endpoint": routed,
    }
    if path is not None:
        more["path"] = path.to_dict()
    if table is not None and not routed:
        return (
            f": route table {table.id} of the agent's subnet has no route to {target} via {vpce.id}",
            more,
            f"Add the route: {hints.add_route_table(vpce.id, table.id)}",
        )
    blocked = _blocked_elsewhere(side, path) if path is not None else None
    if blocked is not None:
        return f"; {vpce.id} is a gateway endpoint, with no security group of its own" + blocked[0], more, blocked[1]
    if table is not None:
        route = f"Route table {table.id} routes {target} via {vpce.id}, so check"
    else:
        route = f"Check that the agent subnet's route table routes {target} via {vpce.id}, then"
    subnet = f"subnet {side.place.subnet_id}" if side.place.subnet_id else "the agent's subnet"
    return (
        f"; {vpce.id} is a gateway endpoint, with no security group of its own",
        more,
        f"{route} the agent's security group egress to {target} on tcp/{tcp.port}, and the network ACL of "
        f"{subnet} (outbound tcp/{tcp.port}, inbound ephemeral ports 1024-65535; an ACL cannot name a prefix "
        f"list: it needs the list's CIDRs), and the endpoint's policy.",
    )


@endpoint_rule(Code.TLS_CERT_UNTRUSTED, Code.TLS_CERT_NAME_MISMATCH, Code.TLS_HANDSHAKE_FAILED, Code.TLS_CERT_EXPIRING)
def handshake(facts: EndpointFacts) -> Iterator[Finding]:
    """A handshake that failed (by why), or a certificate about to expire."""
    server_name = facts.endpoint.server_name
    for a in facts.probed():
        assert a.probe is not None
        tls = a.probe.tls
        if tls is None:
            continue
        target = f"{a.address}:{a.probe.tcp.port}"
        evidence = {
            "server_name": server_name,
            "status": tls.status.value,
            "verify_code": tls.verify_code,
            "error": tls.error,
            "cert_subject": tls.cert_subject,
            "cert_names": list(tls.cert_names),
            "cert_not_after": tls.cert_not_after,
            "handshake_ms": None if tls.handshake_ms is None else round(tls.handshake_ms, 3),
            "peer_chain_length": tls.peer_chain_length,
            "peer_issuer": tls.peer_issuer,
            "first_bytes": tls.first_bytes,
            "protocol_offered": tls.protocol_offered,
            "bytes_received": tls.bytes_received,
        }
        if tls.status is TlsStatus.UNTRUSTED:
            code = Code.TLS_CERT_UNTRUSTED
            message = f"the certificate from {target} does not verify: {tls.error or 'untrusted chain'}"
        elif tls.status is TlsStatus.NAME_MISMATCH:
            shown = ", ".join(tls.cert_names) or tls.cert_subject or "other names"
            code, message = (
                Code.TLS_CERT_NAME_MISMATCH,
                f"the certificate from {target} is for {shown}, not {server_name}",
            )
        elif tls.status is not TlsStatus.OK:
            verb = "timed out" if tls.status is TlsStatus.TIMEOUT else "failed"
            code = Code.TLS_HANDSHAKE_FAILED
            message = f"TLS handshake with {target} (SNI {server_name}) {verb}: {tls.error}"
        else:
            left = _expires_within(tls.cert_not_after, facts.now)
            if left is None:
                continue
            code = Code.TLS_CERT_EXPIRING
            message = f"the certificate from {target} expires on {tls.cert_not_after} (in {left.days} days)"
        yield Finding.make(code, facts.name, message, address=a.address, evidence=evidence)


@endpoint_rule(Code.HTTP_FAILED, Code.HTTP_UNEXPECTED_STATUS)
def http_exchange(facts: EndpointFacts) -> Iterator[Finding]:
    """An HTTP request that failed, or answered a status the topology does not expect."""
    settings = facts.endpoint.http
    if settings is None:
        return
    shown = redact.path(settings.path)
    for a in facts.probed():
        assert a.probe is not None
        http = a.probe.http
        if http is None:
            continue
        target = f"{a.address}:{a.probe.tcp.port}"
        evidence = {
            "status": http.status.value,
            "status_code": http.status_code,
            "ms": round(http.ms, 3),
            "path": shown,
            "expected": list(settings.status),
            "error": redact.text(http.error),
            "stalled_status": http.stalled_status,
            "body_bytes": http.body_bytes,
        }
        if http.status is not HttpStatus.OK or http.status_code is None:
            verb = "timed out" if http.status is HttpStatus.TIMEOUT else "failed"
            yield Finding.make(
                Code.HTTP_FAILED,
                facts.name,
                f"{settings.method} {shown} on {target} {verb}: {redact.text(http.error)}",
                address=a.address,
                evidence=evidence,
            )
        elif http.status_code not in settings.status:
            yield Finding.make(
                Code.HTTP_UNEXPECTED_STATUS,
                facts.name,
                f"{settings.method} {shown} on {target} answered {http.status_code}, "
                f"expected {'/'.join(map(str, settings.status))}",
                address=a.address,
                evidence=evidence,
            )


@endpoint_rule(Code.LATENCY_OVER_BUDGET)
def latency(facts: EndpointFacts) -> Iterator[Finding]:
    """Connect+TLS over the endpoint's budget (already confirmed by a second, unhurried measurement)."""
    budget = facts.endpoint.latency_budget_ms
    for a in facts.probed():
        assert a.probe is not None
        spent = a.probe.connect_tls_ms
        if a.probe.completed and spent > budget:
            yield Finding.make(
                Code.LATENCY_OVER_BUDGET,
                facts.name,
                f"connect+TLS to {a.address}:{a.probe.tcp.port} took {spent:.1f} ms, over the {budget:g} ms budget",
                address=a.address,
                evidence={"tcp_ms": a.tcp_ms, "tls_ms": a.tls_ms, "budget_ms": budget, "az": a.az},
            )


def connected(a: AddressReport) -> bool:
    """The address was probed and its connect succeeded."""
    return a.probe is not None and a.probe.connected


def _expires_within(not_after: str | None, now: dt.datetime) -> dt.timedelta | None:
    if not not_after:
        return None
    try:
        when = dt.datetime.fromisoformat(not_after.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    left = when - now
    return left if left < EXPIRY_WARNING else None
