"""The JSON report (docs/report.md)."""

from __future__ import annotations

import json

from vpc_verify.report import Report


def render(report: Report, *, indent: int | None = 2) -> str:
    """The report as JSON text."""
    return json.dumps(report.to_dict(), indent=indent, default=str) + "\n"
