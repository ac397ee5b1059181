"""The console table: per endpoint, its names and answers, per address its phases, then each finding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vpc_verify.findings import Finding
from vpc_verify.report import AddressReport, EndpointReport, Report

_MARK = {True: "OK  ", False: "FAIL"}


def render(report: Report, *, color: bool = False) -> str:
    """The whole report as text for a person."""
    paint = _Paint(color)
    lines: list[str] = []
    unhealthy = sum(1 for e in report.endpoints if not e.healthy)
    where = " ".join(x for x in (report.region, report.vpc_id) if x)
    verdict = paint.good("HEALTHY") if report.healthy else paint.bad("UNHEALTHY")
    lines.append(
        f"vpc-verify {where + '  ' if where else ''}{len(report.endpoints)} endpoints, "
        f"{len(report.endpoints) - unhealthy} healthy, {unhealthy} unhealthy, "
        f"{report.duration_ms / 1000:.2f} s  {verdict}"
    )
    if report.policy is not None:
        lines.append("  " + _policy_line(report.policy))
    for finding in report.run_findings:
        lines.extend(_finding_lines(finding, paint, indent="  "))
    for endpoint in report.endpoints:
        lines.append("")
        lines.extend(_endpoint_lines(endpoint, paint))
    return "\n".join(lines) + "\n"


def _policy_line(policy: Mapping[str, Any]) -> str:
    """How the topology was derived: the policy and class, what the class requires and the VPC lacks."""
    klass = policy.get("class")
    required = policy.get("required") or []
    missing = [r["endpoint"] for r in required if not r.get("present")]
    text = f"topology derived from {policy.get('source')}"
    text += f", class {klass['name']}" if klass else ""
    text += f": {len(required)} required, {len(missing)} missing" + (f" ({', '.join(missing)})" if missing else "")
    if policy.get("exempt"):
        text += f", exempt by tag: {', '.join(policy['exempt'])}"
    return text


def _endpoint_lines(e: EndpointReport, paint: _Paint) -> list[str]:
    mark = paint.good(_MARK[True]) if e.healthy else paint.bad(_MARK[False])
    head = f"{mark} {paint.bold(e.name)}  {e.type}"
    if e.service:
        head += f"  {e.service}"
    if e.aws is not None and e.aws.vpc_endpoint_id:
        head += f"  {e.aws.vpc_endpoint_id}"
    lines = [head]
    for d in e.dns:
        chain = " -> ".join([d.name, *d.cname_chain])
        answers = ", ".join(d.answers) if d.answers else f"{d.status.value.upper()} {d.error}".rstrip()
        lines.append(f"     dns  {chain} => {answers}  ({d.ms:.1f} ms)")
    if e.aws is not None and e.aws.policy_default is False:
        lines.append(f"     policy  {e.aws.vpc_endpoint_id}'s endpoint policy is not the default (full access)")
    if e.addresses:
        rows: list[tuple[str, ...]] = [("address", "az", "private", "in-vpc", "tcp ms", "tls ms", "http", "state")]
        rows += [_address_row(a, e) for a in e.addresses]
        if any(a.probe is not None and a.probe.signed is not None for a in e.addresses):
            rows = [
                (*row[:-1], cell, row[-1])
                for row, cell in zip(rows, ["signed", *map(_signed, e.addresses)], strict=True)
            ]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for n, row in enumerate(rows):
            text = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
            lines.append("     " + (paint.dim(text) if n == 0 else text))
    for finding in e.findings:
        lines.extend(_finding_lines(finding, paint, indent="     "))
    return lines


def _address_row(a: AddressReport, e: EndpointReport) -> tuple[str, ...]:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    http = "-"
    probe_http = a.probe.http if a.probe is not None else None
    if probe_http is not None:
        http = f"{a.http_status} {a.http_ms:.1f}ms" if a.http_status is not None else probe_http.status.value
    bad = {f.address for f in e.findings if f.is_error}
    if not a.probed:
        state = f"not probed: {a.skip_reason}" if a.skip_reason else "not probed"
    else:
        state = "fail" if a.address in bad else "ok"
    return (
        a.address,
        a.az or "-",
        "yes" if a.private else "NO",
        "-" if a.in_vpc is None else ("yes" if a.in_vpc else "NO"),
        ms(a.tcp_ms),
        ms(a.tls_ms),
        http,
        state,
    )


def _signed(a: AddressReport) -> str:
    signed = a.probe.signed if a.probe is not None else None
    if signed is None:
        return "-"
    if signed.denial is not None:
        return f"denied ({signed.denial.policy.value})"
    return signed.status.value


def _finding_lines(f: Finding, paint: _Paint, indent: str) -> list[str]:
    label = paint.bad("ERROR") if f.is_error else paint.warn("WARN ")
    where = f" [{f.address}]" if f.address else ""
    lines = [f"{indent}{label} {f.code}{where}: {f.message}"]
    if f.hint:
        lines.append(f"{indent}      fix: {f.hint}")
    return lines


class _Paint:
    """ANSI colours when writing to a terminal, nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def good(self, text: str) -> str:
        return self._wrap("32", text)

    def bad(self, text: str) -> str:
        return self._wrap("31;1", text)

    def warn(self, text: str) -> str:
        return self._wrap("33", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)
