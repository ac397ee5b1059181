"""One endpoint in depth for on-call (`vpc-verify diagnose`): per AZ and per address, with evidence and next step.

`gather` adds to a normal run's endpoint report what an engineer would check by hand next: the endpoint's
zonal DNS names (`vpce-…-<az>.<service>.vpce.amazonaws.com`) resolved and compared with the ENI of that AZ,
and a probe of every ENI address the service's name did not lead to. `render` prints it for a person who does
not know the tool; `to_dict` is the same for machines.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from vpc_verify.checks import dns, tcp, tls
from vpc_verify.findings import Finding
from vpc_verify.report import EndpointReport
from vpc_verify.topology import Endpoint, Topology


@dataclass(frozen=True, slots=True)
class ZoneCheck:
    """One AZ of an interface endpoint: its ENI, its zonal name and what the name and the address did."""

    az: str
    relation: str  # az-local | cross-az | unknown
    eni_id: str
    subnet_id: str
    address: str
    zonal_name: str | None
    zonal_answers: tuple[str, ...] = ()
    zonal_status: str = ""
    probe: str = ""  # "ok tcp 0.3 ms, tls 2.1 ms" or the failure

    @property
    def zonal_ok(self) -> bool:
        """The zonal name answered exactly this AZ's ENI address."""
        return self.zonal_answers == (self.address,)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "az": self.az,
            "relation": self.relation,
            "eni_id": self.eni_id,
            "subnet_id": self.subnet_id,
            "address": self.address,
            "zonal_name": self.zonal_name,
            "zonal_answers": list(self.zonal_answers),
            "zonal_status": self.zonal_status,
            "zonal_ok": self.zonal_ok,
            "probe": self.probe,
        }


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Everything `diagnose` shows about one endpoint."""

    endpoint: Endpoint
    report: EndpointReport
    run_findings: tuple[Finding, ...] = ()
    agent: dict[str, Any] = field(default_factory=dict)
    zones: tuple[ZoneCheck, ...] = ()
    regional: tuple[str, tuple[str, ...], str] | None = None  # name, answers, status

    @property
    def healthy(self) -> bool:
        """No error finding on the endpoint or the VPC, and every zonal name answered its ENI."""
        return (
            self.report.healthy
            and not any(f.is_error for f in self.run_findings)
            and all(z.zonal_ok for z in self.zones if z.zonal_name)
        )

    def next_steps(self) -> list[str]:
        """The fixes to try, most fundamental first (VPC, then endpoint, then per address)."""
        steps: list[str] = []
        for f in (
            *[f for f in self.run_findings if f.is_error],
            *sorted((f for f in self.report.findings if f.is_error), key=lambda f: f.address is not None),
        ):
            text = f"{f.code}: {f.hint}"
            if f.hint and text not in steps:
                steps.append(text)
        for z in self.zones:
            if z.zonal_name and not z.zonal_ok:
                steps.append(
                    f"ZONAL_DNS: {z.zonal_name} answered {', '.join(z.zonal_answers) or z.zonal_status}, "
                    f"not {z.address} ({z.eni_id}): check the resolver and any private hosted zone for "
                    "vpce.amazonaws.com"
                )
        return steps

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the endpoint's report plus the per-AZ view and the next steps."""
        return {
            "endpoint": self.report.to_dict(),
            "healthy": self.healthy,
            "agent": self.agent,
            "run_findings": [f.to_dict() for f in self.run_findings],
            "zones": [z.to_dict() for z in self.zones],
            "regional_dns": None
            if self.regional is None
            else {"name": self.regional[0], "answers": list(self.regional[1]), "status": self.regional[2]},
            "next_steps": self.next_steps(),
        }


def gather(
    topology: Topology,
    endpoint: Endpoint,
    report: EndpointReport,
    run_findings: tuple[Finding, ...],
    agent: dict[str, Any],
) -> Diagnosis:
    """Resolve the zonal and regional names and probe the ENIs the run did not reach (blocking)."""
    return asyncio.run(_gather(topology, endpoint, report, run_findings, agent))


async def _gather(
    topology: Topology,
    endpoint: Endpoint,
    report: EndpointReport,
    run_findings: tuple[Finding, ...],
    agent: dict[str, Any],
) -> Diagnosis:
    aws = report.aws or {}
    zonal_names: dict[str, str] = aws.get("zonal_dns_names") or {}
    probed = {a.address: a for a in report.addresses if a.probed}
    resolver = topology.resolver

    async def resolve(name: str) -> dns.DnsResult:
        return await dns.resolve(
            dns.DnsSpec(
                name=name, nameservers=resolver.nameservers, port=resolver.port, timeout_s=resolver.timeout_ms / 1000.0
            )
        )

    async def zone(eni: dict[str, Any]) -> ZoneCheck:
        name = zonal_names.get(eni.get("az", ""))
        answers: tuple[str, ...] = ()
        status = ""
        if name:
            result = await resolve(name)
            answers, status = result.answers, result.status.value
        address = eni.get("address", "")
        seen = probed.get(address)
        probe = _describe_probe(seen.tcp_result, seen.tls) if seen is not None else await _probe(endpoint, address)
        return ZoneCheck(
            az=eni.get("az", ""),
            relation=eni.get("zone", "unknown"),
            eni_id=eni.get("eni_id", ""),
            subnet_id=eni.get("subnet_id", ""),
            address=address,
            zonal_name=name,
            zonal_answers=answers,
            zonal_status=status,
            probe=probe,
        )

    zones = tuple(await asyncio.gather(*(zone(e) for e in aws.get("network_interfaces") or [])))
    regional = None
    if aws.get("regional_dns_name"):
        result = await resolve(aws["regional_dns_name"])
        regional = (result.name, result.answers, result.status.value)
    return Diagnosis(
        endpoint=endpoint, report=report, run_findings=run_findings, agent=agent, zones=zones, regional=regional
    )


async def _probe(endpoint: Endpoint, address: str) -> str:
    if not address:
        return "no address"
    if endpoint.tls is not None:
        result = await tls.handshake(
            tls.TlsSpec(
                address=address,
                port=endpoint.port,
                server_name=endpoint.server_name,
                timeout_s=endpoint.timeout_s,
                verify=endpoint.tls.verify,
                ca_bundle=endpoint.tls.ca_bundle,
            )
        )
        return _describe_probe(result.tcp, result)
    return _describe_probe(await tcp.connect(tcp.TcpSpec(address, endpoint.port, endpoint.timeout_s)), None)


def _describe_probe(tcp_result: tcp.TcpResult | None, tls_result: tls.TlsResult | None) -> str:
    if tcp_result is None:
        return "not probed"
    if tcp_result.status is not tcp.TcpStatus.OK:
        failed = f"tcp/{tcp_result.port} {tcp_result.status.value} after {tcp_result.ms:.0f} ms"
        return f"{failed} {tcp_result.error}".rstrip()
    text = f"tcp {tcp_result.ms:.1f} ms"
    if tls_result is None:
        return "ok " + text
    if tls_result.status is not tls.TlsStatus.OK:
        return f"{text}, tls {tls_result.status.value}: {tls_result.error}".rstrip(": ")
    return f"ok {text}, tls {tls_result.handshake_ms or 0:.1f} ms"


# -------------------------------------------------------------------------------------------------- text


def render(d: Diagnosis) -> str:
    """The diagnosis as plain text."""
    e, r = d.endpoint, d.report
    errors = sum(1 for f in (*d.run_findings, *r.findings) if f.is_error)
    lines = [
        f"{e.name}: {e.type} endpoint"
        + (f" for {e.service}" if e.service else "")
        + f", port {e.port} — {'HEALTHY' if d.healthy else f'UNHEALTHY ({errors} errors)'}"
    ]
    where = ", ".join(
        f"{k.replace('_', ' ')} {v if not isinstance(v, list) else ' '.join(v)}"
        for k, v in d.agent.items()
        if k not in ("mode", "hostname")
    )
    if where:
        lines.append(f"agent: {where}")

    aws = r.aws
    lines += ["", "What AWS says"]
    if aws is None:
        lines.append("  (not read: the topology has no vpc.id, or --no-aws)")
    elif not aws.get("vpc_endpoint_id"):
        lines.append(f"  {aws.get('vpc_id')} has no endpoint for {e.service}")
    else:
        lines.append(
            f"  endpoint  {aws['vpc_endpoint_id']}  {aws['type']}  state {aws['state']}"
            + (f"  private DNS {'on' if aws['private_dns_enabled'] else 'OFF'}" if aws["type"] != "gateway" else "")
        )
        if aws.get("security_group_ids"):
            sg = aws.get("security_groups") or {}
            admitting = ", ".join(
                f"{x['group_id']} {x['ports']} from {x['source']}" for x in sg.get("admitting_rules", [])
            )
            said = {"admits": "admitted", "blocks": "BLOCKED", "unknown": "maybe (agent's place unknown)"}
            lines.append(
                f"  security  {' '.join(aws['security_group_ids'])}: tcp/{e.port} from the agent "
                f"{said.get(sg.get('verdict', ''), '?')}" + (f" by {admitting}" if admitting else "")
            )
        if aws.get("route_table_ids"):
            lines.append(f"  routes    {' '.join(aws['route_table_ids'])}")
        if aws.get("prefix_list"):
            pl = aws["prefix_list"]
            lines.append(f"  prefixes  {pl['id']} {pl['name']}: {', '.join(pl['cidrs'])}")

    lines += ["", "DNS (through the configured resolver)"]
    for res in r.dns:
        chain = " -> ".join([res.name, *res.cname_chain])
        answers = ", ".join(res.answers) or f"{res.status.value.upper()} {res.error}".rstrip()
        lines.append(f"  {chain} => {answers}  ({res.rcode or 'no response'}, {res.ms:.1f} ms)")
    if d.regional is not None:
        lines.append(f"  {d.regional[0]} => {', '.join(d.regional[1]) or d.regional[2].upper()}  (regional name)")

    if d.zones:
        lines += ["", "Per AZ (the endpoint's network interfaces)"]
        for z in d.zones:
            lines.append(f"  {z.az} ({z.relation})  {z.eni_id}  {z.subnet_id}  {z.address}")
            if z.zonal_name:
                verdict = "ok" if z.zonal_ok else f"MISMATCH (expected {z.address})"
                lines.append(
                    f"      zonal name  {z.zonal_name} => "
                    f"{', '.join(z.zonal_answers) or z.zonal_status.upper()}  {verdict}"
                )
            lines.append(f"      probe       {z.probe}")
    eni_addresses = {z.address for z in d.zones}
    others = [a for a in r.addresses if a.address not in eni_addresses]
    if others:
        lines += ["", "Addresses answered" + (" that are not the endpoint's ENIs" if d.zones else "")]
        for a in others:
            probe = _describe_probe(a.tcp_result, a.tls) if a.probed else f"not probed: {a.skip_reason}"
            lines.append(f"  {a.address}  az {a.az or '-'}  private {'yes' if a.private else 'NO'}  {probe}")

    findings = (*d.run_findings, *r.findings)
    lines += ["", "Findings" if findings else "Findings: none"]
    for f in findings:
        lines.append(
            f"  {'ERROR' if f.is_error else 'WARN '} {f.code}{f' [{f.address}]' if f.address else ''}: {f.message}"
        )
        evidence = "; ".join(f"{k}={_short(v)}" for k, v in f.evidence.items() if v not in (None, "", [], {}))
        if evidence:
            lines.append(f"        evidence: {evidence}")
    steps = d.next_steps()
    lines += ["", "Next step" + ("s" if len(steps) > 1 else "")]
    lines += [f"  {i}. {s}" for i, s in enumerate(steps, 1)] or ["  none: the endpoint works from here"]
    return "\n".join(lines) + "\n"


def _short(value: Any) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    return text if len(text) <= 160 else text[:157] + "..."
