"""Publishing one Report the way a shell asked (cloudwatch | emf | none), never losing the run's result.

The CLI, the EC2 agent loop and the Lambda all go through `publish`: it turns the report into datums
(metrics.from_report), then either renders EMF lines to a stream or sends PutMetricData, optionally falling
back to EMF lines for what could not be sent (the Lambda). It never raises: a failure is in the outcome.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, TextIO

from vpc_verify.logs import get_logger
from vpc_verify.publish import emf
from vpc_verify.publish.cloudwatch import CloudWatchPublisher, PublishResult, plan
from vpc_verify.publish.metrics import DEFAULT_NAMESPACE, Datum, from_report
from vpc_verify.report import Report

MODES = ("cloudwatch", "emf", "none")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What publishing one report did."""

    mode: str
    datums: int
    ok: bool
    result: PublishResult | None = None
    emf_lines: int = 0
    fallback: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the Lambda's result, logs)."""
        out: dict[str, Any] = {
            "mode": self.mode,
            "datums": self.datums,
            "ok": self.ok,
            "emf_lines": self.emf_lines,
            "fallback": self.fallback,
            "error": self.error,
        }
        if self.result is not None:
            out["cloudwatch"] = self.result.to_dict()
        return out


def publish(
    report: Report,
    mode: str,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    per_address: bool = False,
    publisher: CloudWatchPublisher | None = None,
    stream: TextIO | None = None,
    budget_s: float | None = None,
    emf_fallback: bool = False,
) -> Outcome:
    """Publish `report`'s metrics by `mode`; with `emf_fallback`, datums PutMetricData could not take are
    written as EMF lines instead (CloudWatch Logs turns them into the same metrics)."""
    if mode == "none":
        return Outcome(mode=mode, datums=0, ok=True)
    out = stream or sys.stdout
    log = get_logger(publisher=mode)
    try:
        datums = from_report(report, per_address=per_address)
        if mode == "emf":
            n = emf.emit(emf.render(datums, namespace), out)
            return Outcome(mode=mode, datums=len(datums), ok=True, emf_lines=n)
        if mode != "cloudwatch":
            raise ValueError(f"unknown publish mode {mode!r}: expected one of {', '.join(MODES)}")
        cw = publisher or CloudWatchPublisher(namespace, region=report.region, buffer_cap=0)
        result = cw.publish(datums, budget_s=budget_s, vpc_id=report.vpc_id)
        lines = 0
        if emf_fallback and result.unsent:
            lines = emf.emit(emf.render(result.unsent, cw.namespace), out)
            log.warning("metrics_fallback_emf", datums=len(result.unsent), lines=lines, reason=result.error)
        return Outcome(
            mode=mode,
            datums=len(datums),
            ok=result.ok,
            result=result,
            emf_lines=lines,
            fallback=lines > 0,
            error=result.error,
        )
    except Exception as exc:
        log.error("metrics_publish_error", error=f"{type(exc).__name__}: {exc}")
        return Outcome(mode=mode, datums=0, ok=False, error=f"{type(exc).__name__}: {exc}")


def dry_run_text(datums: list[Datum], namespace: str) -> str:
    """What a publish would send: each datum, their count and the PutMetricData calls it would take."""
    calls = plan(datums)
    lines = [
        f"dry run: namespace {namespace}: {len(datums)} datums in {len(calls)} PutMetricData call(s), "
        f"{len({(d.name, d.dimensions) for d in datums})} distinct metrics"
    ]
    for d in datums:
        dims = ",".join(f"{k}={v}" for k, v in d.dimensions) or "-"
        lines.append(f"  {d.name:<20} {d.value:>12g} {d.unit:<13} {dims}")
    return "\n".join(lines) + "\n"
