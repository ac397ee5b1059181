"""Publishing a run's report, loudly: look at the agent's own telemetry path, publish, and judge both.

Every shell publishes through `publish`: before sending, the endpoints the sink depends on are observed
(vpc_verify.observe.telemetry: `monitoring` for PutMetricData; `logs` for EMF lines a log agent carries, except in
Lambda, whose logs leave through the Lambda service, not the VPC); then the sink sends; then the publish rules
(vpc_verify.judge.rules.telemetry) add TELEMETRY_PATH_* and PUBLISH_FAILED to the report's run-level findings.
The report always survives: a failed publish is a finding and an outcome, never an exception.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass

from vpc_verify import judge
from vpc_verify.judge.facts import Published, PublishFacts
from vpc_verify.logs import get_logger
from vpc_verify.observe import telemetry
from vpc_verify.observe.telemetry import Target, TelemetryPath
from vpc_verify.publish import sink as sinks
from vpc_verify.publish.config import SinkConfig
from vpc_verify.publish.sink import Outcome, Sink
from vpc_verify.report import Mode, Report
from vpc_verify.topology import IPNetwork, Resolver

TIMEOUT_S = 1.0  # per phase of the path check (connect, handshake): it runs on every publish


@dataclass(frozen=True, slots=True)
class Publication:
    """A published report (with the findings about publishing it) and what the sink did."""

    report: Report
    outcome: Outcome

    @property
    def failed(self) -> bool:
        """Something was to be published and not everything was."""
        return not self.outcome.ok


def targets(config: SinkConfig, region: str | None, mode: Mode) -> tuple[Target, ...]:
    """The endpoints a sink depends on inside the VPC (none when the region is unknown)."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region or config.name == "none":
        return ()
    from vpc_verify.aws import service_urls

    if config.name == "cloudwatch":
        return (Target("monitoring", service_urls.url("cloudwatch", region)),)
    if mode == "lambda":  # the Lambda service carries a function's log lines, outside the VPC
        return ()
    return (Target("logs", service_urls.url("logs", region)),)


def observe_paths(
    config: SinkConfig, region: str | None, mode: Mode, resolver: Resolver, cidrs: Sequence[IPNetwork]
) -> tuple[TelemetryPath, ...]:
    """The telemetry path check, from synchronous code (the shells publish after their run's loop has ended)."""
    try:
        wanted = targets(config, region, mode)
        return asyncio.run(telemetry.observe(wanted, resolver, cidrs, TIMEOUT_S)) if wanted else ()
    except Exception as exc:  # the check must never cost the publish (a bad AWS_ENDPOINT_URL, a bug)
        get_logger().error("telemetry_path_error", error=f"{type(exc).__name__}: {exc}")
        return ()


def publish(
    report: Report,
    sink: Sink,
    config: SinkConfig,
    *,
    resolver: Resolver,
    cidrs: Sequence[IPNetwork] = (),
    mode: Mode = "cli",
    budget_s: float | None = None,
) -> Publication:
    """Check the telemetry path, publish `report`'s metrics through `sink`, and judge both; never raises."""
    paths = observe_paths(config, report.region, mode, resolver, cidrs)
    outcome = sinks.publish(report, sink, per_address=config.per_address, budget_s=budget_s)
    published = None
    if config.name != "none":
        result = outcome.result
        published = Published(
            sink=config.name,
            ok=outcome.ok,
            datums=outcome.datums,
            sent=result.sent if result is not None else (outcome.datums if outcome.ok else 0),
            failed=result.failed if result is not None else (0 if outcome.ok else outcome.datums),
            emf_lines=outcome.emf_lines if outcome.fallback else 0,
            error=outcome.error,
        )
        if not outcome.ok:
            get_logger().error(
                "metrics_not_published", sink=config.name, error=outcome.error, fallback=outcome.fallback
            )
    return Publication(judge.published(report, PublishFacts(paths=paths, published=published)), outcome)
