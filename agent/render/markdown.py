"""Markdown for a person reading a pull request or a CI job summary ($GITHUB_STEP_SUMMARY, a GitLab note).

Compact and in the order that person needs: the verdict, run-level errors, then each failing endpoint with each
error finding and its fix, the healthy endpoints on one line, and the warnings folded away. The JSON and JUnit
reports keep the evidence; this keeps what tells someone what broke and what to run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from vpc_verify.findings import Finding
from vpc_verify.report import EndpointReport, Report

DEFAULT_MAX_ENDPOINTS = 50  # failing endpoints shown in full; the rest are named only
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#~])")
_COMMAND = re.compile(r"^(aws|vpc-verify)\s")


def render(report: Report, *, title: str = "vpc-verify", max_endpoints: int = DEFAULT_MAX_ENDPOINTS) -> str:
    """The report as GitHub-flavoured Markdown (also rendered by GitLab)."""
    bad = [e for e in report.endpoints if not e.healthy]
    good = [e for e in report.endpoints if e.healthy]
    run_errors = [f for f in report.run_findings if f.is_error]
    where = " · ".join(f"`{x}`" for x in (report.region, report.vpc_id) if x)
    if report.healthy:
        verdict = f"✅ all {len(report.endpoints)} endpoints healthy"
    elif bad:
        verdict = f"❌ {len(bad)} of {len(report.endpoints)} endpoints unhealthy"
    else:
        verdict = "❌ the run itself failed"
    lines = [f"### {_text(title)}: {verdict}", ""]
    facts = [where, f"{report.duration_ms / 1000:.1f} s", report.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")]
    lines += [" · ".join(x for x in facts if x), ""]
    if run_errors:
        lines.append("**The run**")
        lines.extend(_finding_lines(run_errors))
        lines.append("")
    for e in bad[:max_endpoints]:
        lines.append(f"#### ❌ {_text(e.name)}{_about(e)}")
        lines.extend(_finding_lines([f for f in e.findings if f.is_error]))
        lines.append("")
    if len(bad) > max_endpoints:
        rest = ", ".join(_text(e.name) for e in bad[max_endpoints:])
        lines += [f"…and {len(bad) - max_endpoints} more unhealthy: {rest} (the JSON and JUnit reports have all).", ""]
    if good:
        lines += [f"✅ healthy: {', '.join(_text(e.name) for e in good)}", ""]
    warnings = [f for f in report.findings if not f.is_error]
    if warnings:
        lines += [f"<details><summary>{len(warnings)} warning{'s' if len(warnings) != 1 else ''}</summary>", ""]
        lines.extend(_finding_lines(warnings, name_endpoint=True))
        lines += ["", "</details>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _about(e: EndpointReport) -> str:
    parts: list[str] = [e.type]
    if e.service:
        parts.append(f"`{e.service}`")
    if e.aws is not None and e.aws.vpc_endpoint_id:
        parts.append(f"`{e.aws.vpc_endpoint_id}`")
    return f" ({', '.join(parts)})"


def _finding_lines(findings: Iterable[Finding], *, name_endpoint: bool = False) -> list[str]:
    lines: list[str] = []
    for f in findings:
        where = f" {_text(f.endpoint)}:" if name_endpoint and f.endpoint != "*" else ""
        at = f" `{f.address}`" if f.address else ""
        lines.append(f"-{where} **{f.code.value}**{at}: {_text(f.message)}")
        if f.hint:
            lines.append(f"  - fix: {_fix(f.hint)}")
    return lines


def _fix(hint: str) -> str:
    """A hint that is a command becomes a code span a person can copy; prose stays prose."""
    if _COMMAND.match(hint) and "`" not in hint and "\n" not in hint:
        return f"`{hint}`"
    return _text(hint)


def _text(value: str) -> str:
    """Text from the report, escaped so that it cannot open a table, a link, a tag or a heading."""
    return _SPECIAL.sub(r"\\\1", " ".join(value.split()))
