"""The agent's own telemetry: the path to the endpoints it publishes to, and whether publishing worked.

Judged after the run, before and after publishing (vpc_verify.publishing). Warnings, not errors: the VPC's
endpoints are what a report's health is about; a monitor that cannot publish says so here, on stderr, in the
CLI's exit code 4 and in the Lambda's result, and its Heartbeat metric goes missing (the template's alarm).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import RUN, PublishFacts
from vpc_verify.judge.rule import publish_rule
from vpc_verify.observe.telemetry import TelemetryPath

WHAT = {"monitoring": "metrics (PutMetricData)", "logs": "EMF lines (through the logs endpoint)"}


@publish_rule(Code.TELEMETRY_PATH_BROKEN, Code.TELEMETRY_PATH_PUBLIC)
def path(facts: PublishFacts) -> Iterator[Finding]:
    """A telemetry endpoint that does not resolve or answer, or that answers from public addresses."""
    for p in facts.paths:
        evidence = _evidence(p)
        what = WHAT.get(p.service, p.service)
        if not p.answers:
            message = f"{p.host} (the agent's {what}) does not resolve: {p.error or p.dns_status}"
            yield Finding.make(Code.TELEMETRY_PATH_BROKEN, RUN, message, evidence=evidence)
        elif not p.answered:
            message = f"{p.host} (the agent's {what}) resolves to {', '.join(p.answers)} but does not answer: {p.error}"
            yield Finding.make(Code.TELEMETRY_PATH_BROKEN, RUN, message, evidence=evidence)
        elif p.private is False:
            message = (
                f"{p.host} (the agent's {what}) resolves to public addresses ({', '.join(p.answers)}): the agent's "
                "telemetry leaves the VPC through a NAT or internet gateway"
            )
            yield Finding.make(Code.TELEMETRY_PATH_PUBLIC, RUN, message, evidence=evidence)


@publish_rule(Code.PUBLISH_FAILED)
def publishing(facts: PublishFacts) -> Iterator[Finding]:
    """Publishing the run's metrics failed, in part or in full."""
    p = facts.published
    if p is None or p.ok:
        return
    message = f"publishing the run's {p.datums} metric datums ({p.sink}) failed: {p.error or 'unknown error'}"
    if p.sent:
        message += f"; {p.sent} were sent"
    if p.emf_lines:
        message += f"; the rest went out as {p.emf_lines} EMF lines instead"
    yield Finding.make(
        Code.PUBLISH_FAILED,
        RUN,
        message,
        evidence={
            "sink": p.sink,
            "datums": p.datums,
            "sent": p.sent,
            "failed": p.failed,
            "fallback_emf_lines": p.emf_lines,
            "error": p.error,
        },
    )


def _evidence(p: TelemetryPath) -> dict[str, Any]:
    return {
        "service": p.service,
        "url": p.url,
        "host": p.host,
        "answers": list(p.answers),
        "private": p.private,
        "dns_status": p.dns_status,
        "connect": p.connect.status.value if p.connect is not None else None,
        "tls": p.tls.status.value if p.tls is not None else None,
        "error": p.error,
    }
