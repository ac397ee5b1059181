"""The Prometheus exposition of a Report: a pure function from a Report to the text a scraper reads.

Names follow blackbox_exporter, so dashboards and alerts written for it read these too; labels are the
endpoint (the topology's name) and the AZ, never an address: an endpoint's ENIs change and per-address series
would grow without bound. Where an endpoint has several addresses in one AZ, a duration is the slowest of them
(the worst a client may see), success needs all of them, and a certificate expiry is the earliest.

    probe_success{endpoint,az}                     1 when every probed address of the endpoint in that AZ
                                                   passed its phases and the endpoint has no other error
    probe_duration_seconds{endpoint,az,phase}      phase = connect | tls | http; absent when not measured
    probe_dns_lookup_time_seconds{endpoint}        the slowest answered lookup of the endpoint's names
    probe_ssl_earliest_cert_expiry{endpoint,az}    unixtime of the earliest certificate expiry seen
    probe_http_status_code{endpoint,az}            the highest status code seen (0: no response)
    vpc_verify_endpoint_healthy{endpoint}          the endpoint's verdict (no error finding)
    vpc_verify_endpoint_dns_private{endpoint}      every name answered privately (docs/report.md)
    vpc_verify_endpoint_addresses{endpoint,az}     addresses seen in that AZ
    vpc_verify_findings{endpoint,code,severity}    findings of the last run (endpoint "" for the run's own)
    vpc_verify_run_healthy, vpc_verify_run_duration_seconds, vpc_verify_run_timestamp_seconds
    vpc_verify_info{vpc_id,region}                 1
    vpc_verify_runs_total, vpc_verify_run_failures_total   the agent's counters (when given)

A missing AZ is the empty label (Prometheus reads it as absent). `prometheus-client` is an optional extra:
`render` raises PrometheusUnavailable when it is not installed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from vpc_verify.report import AddressReport, EndpointReport, Report

PHASES = ("connect", "tls", "http")


class PrometheusUnavailable(RuntimeError):
    """The `prometheus-client` library is not installed (pip install 'vpc-verify[prometheus]')."""

    reason = "prometheus-client is not installed: pip install 'vpc-verify[prometheus]'"

    def __init__(self) -> None:
        super().__init__(self.reason)


@dataclass(frozen=True, slots=True)
class Counters:
    """The agent's own counters, exposed beside the last report."""

    runs: int
    failures: int


def content_type() -> str:
    """The Content-Type of `render`'s output."""
    exposition = _exposition()
    return str(exposition.CONTENT_TYPE_LATEST)


def render(report: Report | None, counters: Counters | None = None) -> bytes:
    """The text exposition format for `report` (and the agent's counters); no I/O."""
    exposition = _exposition()
    return bytes(exposition.generate_latest(_Collector(report, counters)))


def _exposition() -> Any:
    try:
        from prometheus_client import exposition
    except ImportError:
        raise PrometheusUnavailable() from None
    return exposition


class _Collector:
    """A one-shot collector: prometheus_client's `generate_latest` reads any object with `collect()`."""

    def __init__(self, report: Report | None, counters: Counters | None) -> None:
        self._report = report
        self._counters = counters

    def collect(self) -> Iterator[Any]:
        if self._counters is not None:
            yield from _counter_families(self._counters)
        report = self._report
        if report is None:
            return
        families = _Families.new()
        for e in report.endpoints:
            families.endpoint(e)
        families.findings_of(report)
        yield from families.with_samples()
        yield from _run_families(report)


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Any:
    from prometheus_client.core import GaugeMetricFamily

    return GaugeMetricFamily(name, doc, labels=list(labels))


def _counter_families(counters: Counters) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily

    runs = CounterMetricFamily("vpc_verify_runs", "Runs the agent started since it began.")
    runs.add_metric([], float(counters.runs))
    failures = CounterMetricFamily(
        "vpc_verify_run_failures", "Runs that raised or missed their deadline since the agent began."
    )
    failures.add_metric([], float(counters.failures))
    yield runs
    yield failures


@dataclass(frozen=True, slots=True)
class _Families:
    """The per-endpoint metric families of one report, filled endpoint by endpoint."""

    success: Any
    duration: Any
    lookup: Any
    expiry: Any
    status: Any
    healthy: Any
    dns_private: Any
    addresses: Any
    findings: Any

    @classmethod
    def new(cls) -> _Families:
        return cls(
            success=_gauge("probe_success", "Whether the endpoint's probes in this AZ succeeded.", ("endpoint", "az")),
            duration=_gauge(
                "probe_duration_seconds",
                "Duration of a probe phase, the slowest address of the endpoint in this AZ.",
                ("endpoint", "az", "phase"),
            ),
            lookup=_gauge(
                "probe_dns_lookup_time_seconds",
                "The slowest answered DNS lookup of the endpoint's names.",
                ("endpoint",),
            ),
            expiry=_gauge(
                "probe_ssl_earliest_cert_expiry",
                "Returns earliest SSL cert expiry in unixtime, over the endpoint's addresses in this AZ.",
                ("endpoint", "az"),
            ),
            status=_gauge(
                "probe_http_status_code",
                "The highest HTTP status code in this AZ (0: no response).",
                ("endpoint", "az"),
            ),
            healthy=_gauge("vpc_verify_endpoint_healthy", "The endpoint has no error finding.", ("endpoint",)),
            dns_private=_gauge(
                "vpc_verify_endpoint_dns_private", "Every name of the endpoint answered privately.", ("endpoint",)
            ),
            addresses=_gauge(
                "vpc_verify_endpoint_addresses", "Addresses of the endpoint seen in this AZ.", ("endpoint", "az")
            ),
            findings=_gauge(
                "vpc_verify_findings", "Findings of the last run, by code.", ("endpoint", "code", "severity")
            ),
        )

    def endpoint(self, e: EndpointReport) -> None:
        """One endpoint's samples: its health, its DNS, and each AZ's addresses."""
        self.healthy.add_metric([e.name], 1.0 if e.healthy else 0.0)
        self.dns_private.add_metric([e.name], 1.0 if e.dns_private else 0.0)
        answered = [d.ms for d in e.dns if d.answers]
        if answered:
            self.lookup.add_metric([e.name], max(answered) / 1000.0)
        by_az = _by_az(e)
        if not by_az:
            self.success.add_metric([e.name, ""], 0.0)
        for az, members in by_az.items():
            self.zone(e, az, members)

    def zone(self, e: EndpointReport, az: str, members: list[AddressReport]) -> None:
        """One AZ of an endpoint: success, phase durations, certificate expiry, HTTP status."""
        endpoint_errors = any(f.is_error and f.address is None for f in e.findings)
        bad_addresses = {f.address for f in e.findings if f.is_error and f.address is not None}
        self.addresses.add_metric([e.name, az], float(len(members)))
        probed = [a for a in members if a.probed]
        ok = not endpoint_errors and bool(probed) and all(a.address not in bad_addresses and a.passed for a in probed)
        self.success.add_metric([e.name, az], 1.0 if ok else 0.0)
        for phase, values in (
            ("connect", [a.tcp_ms for a in probed]),
            ("tls", [a.tls_ms for a in probed]),
            ("http", [a.http_ms for a in probed]),
        ):
            present = [v for v in values if v is not None]
            if present:
                self.duration.add_metric([e.name, az, phase], max(present) / 1000.0)
        expiries = [_epoch(a.probe.tls.cert_not_after) for a in probed if a.probe and a.probe.tls]
        known = [x for x in expiries if x is not None]
        if known:
            self.expiry.add_metric([e.name, az], min(known))
        codes = [a.http_status or 0 for a in probed if a.probe and a.probe.http is not None]
        if codes:
            self.status.add_metric([e.name, az], float(max(codes)))

    def findings_of(self, report: Report) -> None:
        """The findings of the run, counted by endpoint, code and severity."""
        counts: Counter[tuple[str, str, str]] = Counter()
        for f in report.run_findings:
            counts[("", str(f.code), str(f.severity))] += 1
        for e in report.endpoints:
            for f in e.findings:
                counts[(e.name, str(f.code), str(f.severity))] += 1
        for (endpoint, code, severity), n in counts.items():
            self.findings.add_metric([endpoint, code, severity], float(n))

    def with_samples(self) -> Iterator[Any]:
        """The families that hold a sample (an empty family is left out of the exposition)."""
        families = (
            self.success,
            self.duration,
            self.lookup,
            self.expiry,
            self.status,
            self.healthy,
            self.dns_private,
            self.addresses,
            self.findings,
        )
        return (f for f in families if f.samples)


def _run_families(report: Report) -> Iterator[Any]:
    run_healthy = _gauge("vpc_verify_run_healthy", "Every endpoint of the last run was healthy.")
    run_healthy.add_metric([], 1.0 if report.healthy else 0.0)
    run_duration = _gauge("vpc_verify_run_duration_seconds", "How long the last run took.")
    run_duration.add_metric([], report.duration_ms / 1000.0)
    run_time = _gauge("vpc_verify_run_timestamp_seconds", "When the last run started, in unixtime.")
    run_time.add_metric([], report.started_at.timestamp())
    yield from (run_healthy, run_duration, run_time)
    if report.vpc_id or report.region:
        info = _gauge("vpc_verify_info", "The VPC and region the agent checks.", ("vpc_id", "region"))
        info.add_metric([report.vpc_id or "", report.region or ""], 1.0)
        yield info


def _by_az(e: EndpointReport) -> dict[str, list[AddressReport]]:
    out: dict[str, list[AddressReport]] = {}
    for a in e.addresses:
        out.setdefault(a.az or "", []).append(a)
    return out


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        when = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()
