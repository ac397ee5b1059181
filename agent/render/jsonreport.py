"""The JSON report (docs/report.md): compact for machines, indented for people (on a terminal or --pretty).

Compact text is streamed an endpoint at a time, so a large report is never held as one tree of dicts and one
string besides the Report itself; the content is the same either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, TextIO

from vpc_verify.report import Report

_ENDPOINTS, _FINDINGS = "\x00endpoints", "\x00findings"  # placeholders, split out of the report's frame
_COMPACT = json.JSONEncoder(separators=(",", ":"), default=str)


def render(report: Report, *, pretty: bool = False) -> str:
    """The report as JSON text (compact unless `pretty`), ending in a newline."""
    return "".join(chunks(report, pretty=pretty))


def write(report: Report, stream: TextIO, *, pretty: bool = False) -> None:
    """Write the report as JSON to `stream`, piece by piece."""
    for chunk in chunks(report, pretty=pretty):
        stream.write(chunk)


def chunks(report: Report, *, pretty: bool = False) -> Iterator[str]:
    """The JSON text in pieces: the report's frame, then each endpoint, then the findings."""
    if pretty:
        yield json.dumps(report.to_dict(), indent=2, default=str) + "\n"
        return
    frame: dict[str, Any] = replace(report, endpoints=()).to_dict()
    frame.update(healthy=report.healthy, endpoints=_ENDPOINTS, findings=_FINDINGS)
    text = _COMPACT.encode(frame)
    before, rest = text.split(_COMPACT.encode(_ENDPOINTS))
    middle, after = rest.split(_COMPACT.encode(_FINDINGS))
    yield before + "["
    for i, endpoint in enumerate(report.endpoints):
        yield ("," if i else "") + _COMPACT.encode(endpoint.to_dict())
    yield "]" + middle + _COMPACT.encode([f.to_dict() for f in report.findings]) + after + "\n"
