"""`--dry-run`: what a publish would send, as text (each datum, their count, the PutMetricData calls, the bill)."""

from __future__ import annotations

from collections.abc import Sequence

from vpc_verify.pricing.prices import METRIC_MONTH_USD, METRIC_TIER_METRICS
from vpc_verify.publish.cloudwatch import plan
from vpc_verify.publish.config import DEFAULT_METRIC_SET, MetricSet
from vpc_verify.publish.metrics import Datum, billed


def render(datums: Sequence[Datum], namespace: str, *, metrics: MetricSet = DEFAULT_METRIC_SET) -> str:
    """Each billed datum, their count, the PutMetricData calls they would take, what the metrics cost a month, and
    the values the `metrics` set keeps as EMF properties (not billed)."""
    sent = billed(datums)
    properties = [d for d in datums if not d.billed]
    calls = plan(sent)
    distinct = len({(d.name, d.dimensions) for d in sent})
    lines = [
        f"dry run: namespace {namespace}, --metrics {metrics}: {len(sent)} datums in {len(calls)} PutMetricData "
        f"call(s), {distinct} distinct metrics",
        f"billed: {distinct} custom metrics, about ${distinct * METRIC_MONTH_USD:,.2f} a month at "
        f"${METRIC_MONTH_USD} each (CloudWatch's first {METRIC_TIER_METRICS:,} metrics, us-east-1; the same "
        "however often the checks run)",
    ]
    lines.extend(_line(d) for d in sent)
    if properties:
        names = ", ".join(dict.fromkeys(d.name for d in properties))
        lines.append(
            f"not billed: {len(properties)} values kept as EMF properties (Logs Insights; --metrics full bills "
            f"them): {names}"
        )
    return "\n".join(lines) + "\n"


def _line(d: Datum) -> str:
    dims = ",".join(f"{k}={v}" for k, v in d.dimensions) or "-"
    return f"  {d.name:<20} {d.value:>12g} {d.unit:<13} {dims}"
