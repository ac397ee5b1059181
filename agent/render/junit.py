"""JUnit XML for CI: one testcase per endpoint; error findings fail it, warnings go to its system-out.

Run-level findings (the control plane could not be read, the deadline came) become one more testcase named
`(run)` so that a CI dashboard shows them too.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from vpc_verify.findings import Finding
from vpc_verify.report import Report

SUITE = "vpc-verify"


def render(report: Report, *, suite: str = SUITE) -> str:
    """The report as a JUnit XML document."""
    cases: list[ET.Element] = []
    failures = 0
    if report.run_findings:
        case, failed = _case("(run)", "vpc-verify.run", 0.0, report.run_findings)
        cases.append(case)
        failures += failed
    for e in report.endpoints:
        case, failed = _case(e.name, f"vpc-verify.{e.type}", e.ms / 1000.0, e.findings)
        cases.append(case)
        failures += failed
    root = ET.Element(
        "testsuites",
        name=suite,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        time=_secs(report.duration_ms / 1000.0),
    )
    attrs = {
        "name": suite,
        "tests": str(len(cases)),
        "failures": str(failures),
        "errors": "0",
        "skipped": "0",
        "time": _secs(report.duration_ms / 1000.0),
        "timestamp": report.started_at.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    ts = ET.SubElement(root, "testsuite", attrs)
    props = ET.SubElement(ts, "properties")
    for key, value in (("region", report.region), ("vpc_id", report.vpc_id), ("healthy", str(report.healthy))):
        if value:
            ET.SubElement(props, "property", name=key, value=value)
    ts.extend(cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(name: str, classname: str, seconds: float, findings: Sequence[Finding]) -> tuple[ET.Element, int]:
    case = ET.Element("testcase", name=name, classname=classname, time=_secs(seconds))
    errors = [f for f in findings if f.is_error]
    warnings = [f for f in findings if not f.is_error]
    if errors:
        codes = ", ".join(dict.fromkeys(f.code for f in errors))
        failure = ET.SubElement(case, "failure", message=f"{codes}: {errors[0].message}", type=errors[0].code)
        failure.text = "\n\n".join(_describe(f) for f in errors)
    if warnings:
        out = ET.SubElement(case, "system-out")
        out.text = "\n\n".join(_describe(f) for f in warnings)
    return case, 1 if errors else 0


def _describe(f: Finding) -> str:
    lines = [f"{f.severity.upper()} {f.code}{f' [{f.address}]' if f.address else ''}: {f.message}"]
    if f.hint:
        lines.append(f"fix: {f.hint}")
    if f.evidence:
        lines.append("evidence: " + json.dumps(f.evidence, default=str, sort_keys=True))
    return "\n".join(lines)


def _secs(value: float) -> str:
    return f"{max(0.0, value):.3f}"
