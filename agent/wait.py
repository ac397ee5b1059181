"""`check --wait`: re-run until every endpoint is healthy or the time is up (a post-deploy smoke test).

A freshly created endpoint takes minutes to converge (ENIs, private DNS propagation); CI wants one command
that waits for it, shows progress, and ends as soon as the answer is known:

- healthy `healthy_runs` times in a row (default 2): resolvers cache (a stub on 127.0.0.53, the Route 53
  Resolver's own cache), so one lucky answer is not convergence;
- at once, unhealthy, on what no waiting fixes: an endpoint whose state cannot change by itself (rejected,
  failed, expired, deleted, pendingAcceptance: a person must act) and findings about configuration
  (`SETTLED`: private DNS off, a blocking security group, egress rule or network ACL, a missing route or
  endpoint, denied credentials);
- unhealthy when the time runs out.

The control plane's static answers (what each endpoint service offers, the account's AZ names) are kept
between attempts by the control plane's cache, so a run every few seconds does not ask them again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `check` imports this module before its run; the findings and the report come after it
    from vpc_verify.findings import Code, Finding
    from vpc_verify.report import Report

DEFAULT_INTERVAL_S = 5.0
DEFAULT_HEALTHY_RUNS = 2
# Endpoint states that need a person (the service owner, or a delete and re-create), never time.
STUCK_STATES = frozenset({"rejected", "failed", "expired", "deleted", "deleting", "pendingacceptance"})
# AWS errors that are about the agent's credentials, not a moment of AWS: waiting does not grant a permission.
SETTLED_AWS_ERRORS = frozenset({"AwsAccessDenied", "AwsNoCredentials", "AwsConfigError", "AwsNotFound"})


@dataclass(frozen=True, slots=True)
class WaitResult:
    """The last report, how many runs it took, how long the wait was, and why it ended."""

    report: Report
    attempts: int
    waited_s: float
    healthy_streak: int = 0  # healthy runs in a row at the end of the wait
    healthy_runs: int = 1  # how many in a row were asked for
    hopeless: tuple[Finding, ...] = ()  # the findings no waiting fixes, when the wait ended on them

    @property
    def converged(self) -> bool:
        """The last runs were healthy, as many in a row as asked for."""
        return self.report.healthy and self.healthy_streak >= self.healthy_runs


def hopeless(report: Report) -> tuple[Finding, ...]:
    """The error findings of a report that no waiting fixes."""
    return tuple(f for f in report.findings if f.is_error and _settled(f))


@functools.cache
def settled() -> frozenset[Code]:
    """Findings about configuration that does not change while one waits (unlike DNS propagation, ENIs coming
    up)."""
    from vpc_verify.findings import Code

    return frozenset(
        {
            Code.ENDPOINT_MISSING,
            Code.PRIVATE_DNS_DISABLED,
            Code.VPC_DNS_SUPPORT_DISABLED,
            Code.VPC_DNS_HOSTNAMES_DISABLED,
            Code.ENDPOINT_AZ_MISSING,
            Code.SECURITY_GROUP_BLOCKS,
            Code.AGENT_EGRESS_BLOCKS,
            Code.NACL_BLOCKS,
            Code.GATEWAY_ROUTE_MISSING,
            Code.GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST,
            Code.CHECK_ERROR,
        }
    )


def _settled(f: Finding) -> bool:
    from vpc_verify.findings import Code

    if f.code is Code.ENDPOINT_NOT_AVAILABLE:
        return str(f.evidence.get("state", "")).lower() in STUCK_STATES
    if f.code is Code.AWS_API_ERROR:
        return f.evidence.get("error") in SETTLED_AWS_ERRORS
    return f.code in settled()


def run_until_healthy(
    run_once: Callable[[float], Report],
    timeout_s: float,
    *,
    run_deadline_s: float,
    interval_s: float = DEFAULT_INTERVAL_S,
    healthy_runs: int = DEFAULT_HEALTHY_RUNS,
    streak: int = 0,
    progress: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WaitResult:
    """Call `run_once(deadline_s)` until its report is healthy `healthy_runs` times in a row, a finding no
    waiting fixes appears, or `timeout_s` has passed (at least once). `streak` carries healthy runs already
    seen (a wait resumed in another invocation).

    Each run's deadline is the smaller of `run_deadline_s` and the time left, so the wait ends on time.
    """
    if healthy_runs < 1:
        raise ValueError("healthy_runs must be at least 1")
    needed = healthy_runs
    start = clock()
    end = start + timeout_s
    attempt = 0
    in_a_row = streak
    while True:
        attempt += 1
        left = end - clock()
        report = run_once(max(1.0, min(run_deadline_s, left)))
        elapsed = clock() - start
        in_a_row = in_a_row + 1 if report.healthy else 0
        if in_a_row >= needed:
            if progress:
                progress(
                    f"attempt {attempt} ({elapsed:.0f} s): all {len(report.endpoints)} endpoints healthy"
                    + (f", {in_a_row} runs in a row" if needed > 1 else "")
                )
            return WaitResult(report, attempt, elapsed, in_a_row, needed)
        stuck = hopeless(report)
        if stuck:
            if progress:
                progress(_stuck_line(report, attempt, elapsed, stuck))
            return WaitResult(report, attempt, elapsed, in_a_row, needed, stuck)
        left = end - clock()
        pause = min(interval_s, left)
        if progress:
            progress(_progress_line(report, attempt, elapsed, pause, left, in_a_row, needed))
        if left <= 0 or pause <= 0:
            return WaitResult(report, attempt, elapsed, in_a_row, needed)
        sleep(pause)


def _stuck_line(report: Report, attempt: int, elapsed: float, stuck: tuple[Finding, ...]) -> str:
    shown = "; ".join(f"{f.endpoint}: {f.code} ({f.message})" for f in stuck[:3])
    if len(stuck) > 3:
        shown += f"; +{len(stuck) - 3} more"
    return f"attempt {attempt} ({elapsed:.0f} s): not waiting, no waiting fixes this: {shown}"


def _progress_line(
    report: Report, attempt: int, elapsed: float, pause: float, left: float, in_a_row: int, needed: int
) -> str:
    bad = [e for e in report.endpoints if not e.healthy]
    waiting = ", ".join(f"{e.name} ({','.join(sorted({f.code for f in e.findings if f.is_error}))})" for e in bad[:5])
    if len(bad) > 5:
        waiting += f", +{len(bad) - 5} more"
    run_level = sorted({f.code for f in report.run_findings if f.is_error})
    if run_level:
        waiting = ", ".join(filter(None, [waiting, f"run ({','.join(run_level)})"]))
    fresh = sorted({f.evidence["created_s_ago"] for f in report.findings if "created_s_ago" in f.evidence})
    if fresh:
        waiting += f"; an endpoint was created {fresh[0]:.0f} s ago: private DNS may still be propagating"
    if in_a_row:
        head = (
            f"attempt {attempt} ({elapsed:.0f} s): all {len(report.endpoints)} endpoints healthy, "
            f"{in_a_row} of {needed} runs in a row"
        )
    else:
        head = (
            f"attempt {attempt} ({elapsed:.0f} s): {len(report.endpoints) - len(bad)}/{len(report.endpoints)} "
            f"healthy; waiting for {waiting}"
        )
    if left <= 0 or pause <= 0:
        return head + "; out of time"
    return head + f"; next run in {pause:.0f} s, {left:.0f} s left"
