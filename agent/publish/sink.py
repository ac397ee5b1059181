"""Where a run's metrics go: one Sink per kind, a registry from the configured name to a sink, a fallback chain.

The CLI, the EC2 agent loop and the Lambda all publish through `publish`: the report becomes datums
(metrics.from_report), the sink sends them. A sink never raises: its Outcome says what happened. The
CloudWatch sink can fall back to EMF lines for what PutMetricData could not take (the Lambda), since
CloudWatch Logs turns those lines into the same metrics.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from vpc_verify.logs import get_logger
from vpc_verify.publish.config import DEFAULT_NAMESPACE, SinkConfig, SinkName
from vpc_verify.report import Report

if TYPE_CHECKING:  # the CloudWatch client, EMF and the datums are imported when a report is published
    from vpc_verify.publish.cloudwatch import CloudWatchPublisher, PublishResult
    from vpc_verify.publish.metrics import Datum


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
        """JSON form (the Lambda's result, logs, the agent's state file)."""
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


class Sink(Protocol):
    """Sends datums somewhere; never raises."""

    def send(self, datums: Sequence[Datum], *, vpc_id: str | None, budget_s: float | None) -> Outcome:
        """Send `datums` within `budget_s` seconds (None: no bound)."""
        ...


@dataclass(frozen=True, slots=True)
class NullSink:
    """Publishes nothing."""

    def send(self, datums: Sequence[Datum], *, vpc_id: str | None, budget_s: float | None) -> Outcome:
        """Nothing to do."""
        return Outcome(mode="none", datums=0, ok=True)


@dataclass(frozen=True, slots=True)
class EmfSink:
    """Embedded Metric Format lines on a stream (stdout in Lambda, whence CloudWatch Logs extracts them)."""

    namespace: str = DEFAULT_NAMESPACE
    stream: TextIO = field(default_factory=lambda: sys.stdout)

    def send(self, datums: Sequence[Datum], *, vpc_id: str | None, budget_s: float | None) -> Outcome:
        """Write the lines."""
        from vpc_verify.publish import emf

        n = emf.emit(emf.render(datums, self.namespace), self.stream)
        return Outcome(mode="emf", datums=len(datums), ok=True, emf_lines=n)


@dataclass(frozen=True, slots=True)
class CloudWatchSink:
    """PutMetricData through a publisher (batching, retries, a bounded buffer), with an optional fallback."""

    publisher: CloudWatchPublisher
    fallback: EmfSink | None = None

    def send(self, datums: Sequence[Datum], *, vpc_id: str | None, budget_s: float | None) -> Outcome:
        """Send; hand what could not be sent to the fallback, if any."""
        result = self.publisher.publish(datums, budget_s=budget_s, vpc_id=vpc_id)
        lines = 0
        if self.fallback is not None and result.unsent:
            lines = self.fallback.send(result.unsent, vpc_id=vpc_id, budget_s=None).emf_lines
            get_logger(publisher="cloudwatch").warning(
                "metrics_fallback_emf", datums=len(result.unsent), lines=lines, reason=result.error
            )
        return Outcome(
            mode="cloudwatch",
            datums=len(datums),
            ok=result.ok,
            result=result,
            emf_lines=lines,
            fallback=lines > 0,
            error=result.error,
        )


def _cloudwatch(config: SinkConfig, region: str | None, stream: TextIO) -> Sink:
    from vpc_verify.publish.cloudwatch import CloudWatchPublisher

    publisher = CloudWatchPublisher(config.namespace, region=region, buffer_cap=config.buffer_cap)
    return CloudWatchSink(publisher, EmfSink(config.namespace, stream) if config.emf_fallback else None)


SINKS: Mapping[SinkName, Callable[[SinkConfig, str | None, TextIO], Sink]] = {
    "none": lambda config, region, stream: NullSink(),
    "emf": lambda config, region, stream: EmfSink(config.namespace, stream),
    "cloudwatch": _cloudwatch,
}


def make(config: SinkConfig, *, region: str | None = None, stream: TextIO | None = None) -> Sink:
    """The sink a configuration names (EMF and fallback lines go to `stream`, default stdout)."""
    return SINKS[config.name](config, region, stream or sys.stdout)


def publish(report: Report, sink: Sink, *, per_address: bool = False, budget_s: float | None = None) -> Outcome:
    """Publish `report`'s metrics through `sink`; never raises (a failure is in the outcome)."""
    from vpc_verify.publish.metrics import from_report

    try:
        datums = from_report(report, per_address=per_address)
        return sink.send(datums, vpc_id=report.vpc_id, budget_s=budget_s)
    except Exception as exc:
        get_logger().error("metrics_publish_error", error=f"{type(exc).__name__}: {exc}")
        return Outcome(mode=type(sink).__name__, datums=0, ok=False, error=f"{type(exc).__name__}: {exc}")
