"""`--dry-run`: what a publish would send, as text (each datum, their count, the PutMetricData calls)."""

from __future__ import annotations

from collections.abc import Sequence

from vpc_verify.publish.cloudwatch import plan
from vpc_verify.publish.metrics import Datum


def render(datums: Sequence[Datum], namespace: str) -> str:
    """Each datum, their count and the PutMetricData calls they would take."""
    calls = plan(datums)
    lines = [
        f"dry run: namespace {namespace}: {len(datums)} datums in {len(calls)} PutMetricData call(s), "
        f"{len({(d.name, d.dimensions) for d in datums})} distinct metrics"
    ]
    for d in datums:
        dims = ",".join(f"{k}={v}" for k, v in d.dimensions) or "-"
        lines.append(f"  {d.name:<20} {d.value:>12g} {d.unit:<13} {dims}")
    return "\n".join(lines) + "\n"
