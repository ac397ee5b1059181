"""CloudWatch Embedded Metric Format: metrics as structured log lines, no API call (the Lambda's cheap path).

`render` is pure: datums in, JSON lines out. EMF puts dimension values at the root of each object, so one
object carries one dimension set (one endpoint, or the run); an object holds at most 100 metrics, as the
format requires. A datum that is not billed (the budget metric set's latencies and details) is a property of
its object, not declared in `_aws.CloudWatchMetrics`: Logs Insights can query it, CloudWatch makes no metric of
it. An object with no billed datum has no `_aws` at all, a plain JSON log line. `emit` writes the lines to a
stream (stdout in Lambda, whence CloudWatch Logs extracts them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from vpc_verify.publish.metrics import Datum, Dimensions

MAX_METRICS_PER_OBJECT = 100


def render(datums: Iterable[Datum], namespace: str) -> list[str]:
    """EMF JSON lines for `datums`: one object per dimension set and timestamp, ≤100 metrics each."""
    groups: dict[tuple[Dimensions, int], list[Datum]] = {}
    for d in datums:
        groups.setdefault((d.dimensions, int(d.timestamp.timestamp() * 1000)), []).append(d)
    lines: list[str] = []
    for (dims, ts_ms), members in groups.items():
        for chunk in _chunks(members):
            lines.append(json.dumps(_object(namespace, dims, ts_ms, chunk), separators=(",", ":")))
    return lines


def _chunks(members: Sequence[Datum]) -> list[list[Datum]]:
    """Split into objects of ≤100 metrics with each metric name once per object."""
    out: list[list[Datum]] = []
    for d in members:
        for chunk in out:
            if len(chunk) < MAX_METRICS_PER_OBJECT and all(c.name != d.name for c in chunk):
                chunk.append(d)
                break
        else:
            out.append([d])
    return out


def _object(namespace: str, dims: Dimensions, ts_ms: int, chunk: Sequence[Datum]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    declared = [{"Name": d.name, "Unit": d.unit} for d in chunk if d.billed]
    if declared:
        obj["_aws"] = {
            "Timestamp": ts_ms,
            "CloudWatchMetrics": [
                {"Namespace": namespace, "Dimensions": [[k for k, _ in dims]], "Metrics": declared},
            ],
        }
    obj.update(dict(dims))
    for d in chunk:
        obj[d.name] = d.value
    return obj


def emit(lines: Iterable[str], stream: TextIO) -> int:
    """Write EMF lines to `stream`, one per line, and flush; returns how many were written."""
    n = 0
    for line in lines:
        stream.write(line + "\n")
        n += 1
    stream.flush()
    return n
