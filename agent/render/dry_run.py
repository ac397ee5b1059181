"""`--dry-run`: what a publish would send, as text (each datum, their count, the PutMetricData calls)."""

from __future__ import annotations

from collections.abc import Sequence

from vpc_verify.pricing.prices import METRIC_MONTH_USD, METRIC_TIER_METRICS
from vpc_verify.publish.cloudwatch import plan
from vpc_verify.publish.metrics import Datum


def render(datums: Sequence[Datum], namespace: str) -> str:
    """Each datum, their count, the PutMetricData calls they would take, and what the metrics cost a month."""
    calls = plan(datums)
    distinct = len({(d.name, d.dimensions) for d in datums})
    lines = [
        f"dry run: namespace {namespace}: {len(datums)} datums in {len(calls)} PutMetricData call(s), "
        f"{distinct} distinct metrics",
        f"billed: {distinct} custom metrics, about ${distinct * METRIC_MONTH_USD:,.2f} a month at "
        f"${METRIC_MONTH_USD} each (CloudWatch's first {METRIC_TIER_METRICS:,} metrics, us-east-1; the same "
        "however often the checks run)",
    ]
    for d in datums:
        dims = ",".join(f"{k}={v}" for k, v in d.dimensions) or "-"
        lines.append(f"  {d.name:<20} {d.value:>12g} {d.unit:<13} {dims}")
    return "\n".join(lines) + "\n"
