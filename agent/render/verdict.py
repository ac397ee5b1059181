"""A gate's verdict in a few lines that fit where deployment tools show them.

CloudFormation shows a custom resource's Reason in the stack events (the whole response must stay within
4096 bytes); CodePipeline shows an action's summary (2048 characters) or failure message (5000). Each says
what failed first: the unhealthy endpoints by name, each with its error codes and its top finding, then where
the full report is. `fit` cuts the list, never the head or the pointer to the report, to the room there is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vpc_verify.findings import Finding
from vpc_verify.report import Report

ITEM_MAX_CHARS = 400  # one endpoint's line, before fitting: a long message must not crowd out the others


def headline(report: Report, *, attempts: int, waited_s: float, converged: bool, healthy_runs: int = 1) -> str:
    """One line: the verdict, how many runs, how long."""
    total = len(report.endpoints)
    runs = f"{attempts} run{'s' if attempts != 1 else ''} in {waited_s:.0f} s"
    if converged:
        streak = f", {healthy_runs} in a row" if healthy_runs > 1 else ""
        return f"vpc-verify: all {total} endpoints healthy ({runs}{streak})"
    if report.healthy:
        return (
            f"vpc-verify: all {total} endpoints healthy in the last run, but not {healthy_runs} runs in a row "
            f"within the wait ({runs})"
        )
    bad = sum(1 for e in report.endpoints if not e.healthy)
    if bad:
        return f"vpc-verify: {bad} of {total} endpoints unhealthy after {runs}"
    return f"vpc-verify: the run failed after {runs}"


def failing(report: Report) -> list[str]:
    """One line per failing part, run-level errors first: `name: CODE, CODE - the top finding's message`."""
    lines: list[str] = []
    run_errors = [f for f in report.run_findings if f.is_error]
    if run_errors:
        lines.append(_line("(run)", run_errors))
    for e in report.endpoints:
        errors = [f for f in e.findings if f.is_error]
        if errors:
            lines.append(_line(e.name, errors))
    return lines


def _line(name: str, errors: Sequence[Finding]) -> str:
    codes = ", ".join(dict.fromkeys(f.code.value for f in errors))
    top = _top(errors)
    text = f"{name}: {codes} - {' '.join(top.message.split())}"
    return text if len(text) <= ITEM_MAX_CHARS else text[: ITEM_MAX_CHARS - 1] + "…"


def _top(errors: Sequence[Finding]) -> Finding:
    # The finding about the endpoint as a whole (a control-plane cause) explains the per-address ones.
    whole = [f for f in errors if f.address is None]
    return whole[0] if whole else errors[0]


def fit(head: str, items: Sequence[str], tail: str, *, limit: int, size: Callable[[str], int] = len) -> str:
    """`head: item; item; ... tail`, with as many items as fit in `limit` as measured by `size`; the items left
    out are counted (`+3 more`). When even the head and tail alone do not fit, they are cut."""

    def compose(shown: int) -> str:
        parts = list(items[:shown])
        if shown < len(items):
            parts.append(f"+{len(items) - shown} more")
        body = f"{head}: {'; '.join(parts)}" if parts else head
        return f"{body}. {tail}" if tail else body

    for shown in range(len(items), -1, -1):
        text = compose(shown)
        if size(text) <= limit:
            return text
    text = compose(0)
    while text and size(text) > limit:
        text = text[: max(0, len(text) - max(1, len(text) // 10) - 1)] + "…"
        if len(text) <= 1:
            return ""
    return text
