"""The CloudWatch metrics of a Report (docs/metrics.md): a pure function from a Report to datums.

Per endpoint (dimensions `Endpoint`, plus `VpcId` when known): Healthy, DnsPrivate, Reachable, DnsLatency,
ConnectLatency, TlsLatency, HttpLatency and Findings. Per run (dimension `VpcId` when known, else none):
RunHealthy, EndpointsUnhealthy, RunDuration, and Heartbeat (1 every run, whatever it found: an alarm on its
missing data means "the monitor is down or cannot publish", apart from "the VPC is unhealthy"). Opt-in per
address (`Endpoint`, `Address`, `AZ` when known): ConnectLatency, TlsLatency, HttpLatency. Each distinct
dimension set is a billed custom metric, which is why the per-address ones are opt-in.

An endpoint's latency is the slowest of its addresses (the worst a client may see, and what a latency
alarm should watch); a latency with no measurement (a failed phase, no HTTP phase) is not published, so a
missing datum never reads as a fast zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from vpc_verify.report import EndpointReport, Report

COUNT, MILLISECONDS, NONE = "Count", "Milliseconds", "None"

ENDPOINT_METRICS = (
    "Healthy",
    "DnsPrivate",
    "Reachable",
    "DnsLatency",
    "ConnectLatency",
    "TlsLatency",
    "HttpLatency",
    "Findings",
)
RUN_METRICS = ("RunHealthy", "EndpointsUnhealthy", "RunDuration", "Heartbeat")
DROPPED_METRIC = "MetricsDropped"

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Datum:
    """One metric value: what one MetricData entry of PutMetricData (or one EMF member) carries."""

    name: str
    value: float
    unit: str
    dimensions: Dimensions
    timestamp: dt.datetime

    def to_dict(self) -> dict[str, object]:
        """JSON form (for --dry-run and logs)."""
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "dimensions": dict(self.dimensions),
            "timestamp": self.timestamp.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        }


def from_report(report: Report, *, per_address: bool = False) -> list[Datum]:
    """Every datum of docs/metrics.md for one run, endpoints first in topology order, then the run's."""
    ts = report.started_at
    vpc: Dimensions = (("VpcId", report.vpc_id),) if report.vpc_id else ()
    out: list[Datum] = []
    for e in report.endpoints:
        out.extend(endpoint_datums(e, vpc, ts))
        if per_address:
            out.extend(address_datums(e, vpc, ts))
    unhealthy = sum(1 for e in report.endpoints if not e.healthy)
    out.append(Datum("RunHealthy", 1.0 if report.healthy else 0.0, NONE, vpc, ts))
    out.append(Datum("EndpointsUnhealthy", float(unhealthy), COUNT, vpc, ts))
    out.append(Datum("RunDuration", round(report.duration_ms, 3), MILLISECONDS, vpc, ts))
    out.append(Datum("Heartbeat", 1.0, COUNT, vpc, ts))
    return out


def endpoint_datums(e: EndpointReport, vpc: Dimensions, ts: dt.datetime) -> list[Datum]:
    """The per-endpoint datums of one endpoint."""
    dims: Dimensions = (("Endpoint", e.name), *vpc)
    out = [
        Datum("Healthy", 1.0 if e.healthy else 0.0, NONE, dims, ts),
        Datum("DnsPrivate", 1.0 if e.dns_private else 0.0, NONE, dims, ts),
        Datum("Reachable", round(e.reachable, 4), NONE, dims, ts),
    ]
    latencies = (
        ("DnsLatency", [d.ms for d in e.dns if d.answers]),
        ("ConnectLatency", [a.tcp_ms for a in e.addresses]),
        ("TlsLatency", [a.tls_ms for a in e.addresses]),
        ("HttpLatency", [a.http_ms for a in e.addresses]),
    )
    for name, values in latencies:
        worst = _max(values)
        if worst is not None:
            out.append(Datum(name, worst, MILLISECONDS, dims, ts))
    out.append(Datum("Findings", float(len(e.findings)), COUNT, dims, ts))
    return out


def address_datums(e: EndpointReport, vpc: Dimensions, ts: dt.datetime) -> list[Datum]:
    """The opt-in per-address latency datums of one endpoint."""
    out: list[Datum] = []
    for a in e.addresses:
        if not a.probed:
            continue
        dims: Dimensions = (("Endpoint", e.name), ("Address", a.address), *((("AZ", a.az),) if a.az else ()), *vpc)
        for name, value in (("ConnectLatency", a.tcp_ms), ("TlsLatency", a.tls_ms), ("HttpLatency", a.http_ms)):
            if value is not None:
                out.append(Datum(name, round(value, 3), MILLISECONDS, dims, ts))
    return out


def dropped_datum(count: int, vpc_id: str | None, ts: dt.datetime | None = None) -> Datum:
    """The MetricsDropped datum: how many datums the agent threw away since it last reported it."""
    vpc: Dimensions = (("VpcId", vpc_id),) if vpc_id else ()
    return Datum(DROPPED_METRIC, float(count), COUNT, vpc, ts or dt.datetime.now(dt.UTC))


def _max(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(max(present), 3) if present else None
