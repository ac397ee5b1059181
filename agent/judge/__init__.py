"""Judgment: joined facts in, findings out, by small rules in a registry (vpc_verify.judge.rules).

Pure: no I/O, no clock but the `now` in the facts. A rule that fails is a bug in vpc-verify: it becomes
CHECK_ERROR on that endpoint (or on the run), and every other rule's findings stand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Protocol, TypeVar

from vpc_verify.findings import Finding
from vpc_verify.judge.facts import RUN, EndpointFacts, PublishFacts, RunFacts
from vpc_verify.judge.rules import ENDPOINT_RULES, PUBLISH_RULES, RUN_RULES, USAGE_RULES
from vpc_verify.judge.rules.run_state import check_error
from vpc_verify.report import EndpointReport, Report

F = TypeVar("F", contravariant=True)


class _Rule(Protocol[F]):
    @property
    def name(self) -> str: ...

    @property
    def judge(self) -> Callable[[F], Iterable[Finding]]: ...


def _apply(rules: Iterable[_Rule[F]], facts: F, subject: str) -> list[Finding]:
    """Every rule's findings over `facts`; a rule that raises is a bug in it: CHECK_ERROR on `subject`, and the
    other rules' findings stand."""
    findings: list[Finding] = []
    for rule in rules:
        try:
            findings.extend(rule.judge(facts))
        except Exception as exc:
            findings.append(check_error(subject, f"the rule {rule.name}", exc))
    return findings


def endpoint(facts: EndpointFacts) -> EndpointReport:
    """The endpoint's report: its observations, AWS's facts, and every rule's findings."""
    findings = _apply(ENDPOINT_RULES, facts, facts.name)
    aws = None
    if facts.aws is not None:
        try:
            aws = facts.aws.to_report()
        except Exception as exc:
            findings.append(check_error(facts.name, "describing the endpoint's AWS facts", exc))
    e = facts.endpoint
    return EndpointReport(
        name=e.name,
        type=e.type,
        service=e.service,
        findings=tuple(findings),
        dns=facts.observation.dns,
        addresses=facts.addresses,
        ms=facts.observation.ms,
        aws=aws,
    )


def run(facts: RunFacts) -> tuple[Finding, ...]:
    """The findings about the run and the VPC as a whole."""
    return tuple(_apply(RUN_RULES, facts, RUN))


def usage_findings(facts: RunFacts) -> tuple[Finding, ...]:
    """The findings about what the VPC's endpoints carry and cost (`vpc-verify usage`)."""
    return tuple(_apply(USAGE_RULES, facts, RUN))


def published(report: Report, facts: PublishFacts) -> Report:
    """The report with the findings about publishing it (the agent's telemetry path, a failed publish) added to
    its run-level findings; nothing else changes."""
    findings = _apply(PUBLISH_RULES, facts, RUN)
    return replace(report, run_findings=report.run_findings + tuple(findings)) if findings else report
