"""`vpc-verify diagnose` as text for a person who does not know the tool: what AWS says, what DNS answered,
per AZ, the findings with their evidence, and the next steps."""

from __future__ import annotations

from typing import Any

from vpc_verify.diagnose import Diagnosis, describe_probe
from vpc_verify.report import AwsEndpointFacts

_SAID = {"admits": "admitted", "blocks": "BLOCKED", "unknown": "maybe"}


def render(d: Diagnosis) -> str:
    """The diagnosis as plain text."""
    lines = _head(d) + _aws(d) + _dns(d) + _zones(d) + _others(d) + _findings(d) + _steps(d)
    return "\n".join(lines) + "\n"


def _head(d: Diagnosis) -> list[str]:
    e = d.endpoint
    errors = sum(1 for f in (*d.run_findings, *d.report.findings) if f.is_error)
    verdict = "HEALTHY" if d.healthy else f"UNHEALTHY ({errors} errors)"
    lines = [
        f"{e.name}: {e.type} endpoint" + (f" for {e.service}" if e.service else "") + f", port {e.port} — {verdict}"
    ]
    place = d.origin.place.to_dict() if d.origin is not None and d.origin.place is not None else {}
    where = ", ".join(f"{k.replace('_', ' ')} {' '.join(v) if isinstance(v, list) else v}" for k, v in place.items())
    if where:
        lines.append(f"agent: {where}")
    return lines


def _aws(d: Diagnosis) -> list[str]:
    aws, e = d.report.aws, d.endpoint
    lines = ["", "What AWS says"]
    if aws is None:
        return [*lines, "  (not read: the topology has no vpc.id, or --no-aws)"]
    if not aws.vpc_endpoint_id:
        return [*lines, f"  {aws.vpc_id} has no endpoint for {e.service}"]
    head = f"  endpoint  {aws.vpc_endpoint_id}  {aws.type}  state {aws.state}"
    if aws.type != "gateway":
        head += f"  private DNS {'on' if aws.private_dns_enabled else 'OFF'}"
    lines.append(head)
    place = d.origin.place if d.origin is not None else None
    lines += _security(aws, e.port, place.describe_missing() if place is not None else "")
    if aws.route_table_ids:
        lines.append(f"  routes    {' '.join(aws.route_table_ids)}")
    if aws.prefix_list is not None:
        pl = aws.prefix_list
        lines.append(f"  prefixes  {pl.id} {pl.name}: {', '.join(pl.cidrs)}")
    return lines


def _security(aws: AwsEndpointFacts, port: int, missing: str) -> list[str]:
    if not aws.security_group_ids:
        return []
    sg = aws.security_groups
    admitting = ", ".join(f"{r.group_id} {r.to_dict()['ports']} from {r.source()}" for r in sg.admitting) if sg else ""
    said = _SAID.get(sg.verdict, "?") if sg is not None else "?"
    if sg is not None and sg.verdict == "unknown":
        said += f" ({missing or 'a rule covers only part of where the agent may be'})"
    line = f"  security  {' '.join(aws.security_group_ids)}: tcp/{port} from the agent {said}"
    return [line + (f" by {admitting}" if admitting else "")]


def _dns(d: Diagnosis) -> list[str]:
    lines = ["", "DNS (through the configured resolver)"]
    for res in d.report.dns:
        chain = " -> ".join([res.name, *res.cname_chain])
        answers = ", ".join(res.answers) or f"{res.status.value.upper()} {res.error}".rstrip()
        lines.append(f"  {chain} => {answers}  ({res.rcode or 'no response'}, {res.ms:.1f} ms)")
    if d.regional is not None:
        r = d.regional
        lines.append(f"  {r.name} => {', '.join(r.answers) or r.status.value.upper()}  (regional name)")
    return lines


def _zones(d: Diagnosis) -> list[str]:
    if not d.zones:
        return []
    lines = ["", "Per AZ (the endpoint's network interfaces)"]
    for z in d.zones:
        e = z.eni
        lines.append(f"  {e.az} ({e.zone})  {e.eni_id}  {e.subnet_id}  {e.address}")
        if z.zonal_name:
            verdict = "ok" if z.zonal_ok else f"MISMATCH (expected {e.address})"
            answers = ", ".join(z.zonal_answers) or z.zonal_status.upper()
            lines.append(f"      zonal name  {z.zonal_name} => {answers}  {verdict}")
        lines.append(f"      probe       {describe_probe(z.probe)}")
    return lines


def _others(d: Diagnosis) -> list[str]:
    eni_addresses = {z.eni.address for z in d.zones}
    others = [a for a in d.report.addresses if a.address not in eni_addresses]
    if not others:
        return []
    lines = ["", "Addresses answered" + (" that are not the endpoint's ENIs" if d.zones else "")]
    for a in others:
        probe = describe_probe(a.probe) if a.probe is not None else f"not probed: {a.skip_reason}"
        lines.append(f"  {a.address}  az {a.az or '-'}  private {'yes' if a.private else 'NO'}  {probe}")
    return lines


def _findings(d: Diagnosis) -> list[str]:
    findings = (*d.run_findings, *d.report.findings)
    lines = ["", "Findings" if findings else "Findings: none"]
    for f in findings:
        where = f" [{f.address}]" if f.address else ""
        lines.append(f"  {'ERROR' if f.is_error else 'WARN '} {f.code}{where}: {f.message}")
        evidence = "; ".join(f"{k}={_short(v)}" for k, v in f.evidence.items() if v not in (None, "", [], {}))
        if evidence:
            lines.append(f"        evidence: {evidence}")
    return lines


def _steps(d: Diagnosis) -> list[str]:
    steps = d.next_steps()
    lines = ["", "Next step" + ("s" if len(steps) > 1 else "")]
    return lines + ([f"  {i}. {s}" for i, s in enumerate(steps, 1)] or ["  none: the endpoint works from here"])


def _short(value: Any) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    return text if len(text) <= 160 else text[:157] + "..."
