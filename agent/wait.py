"""`check --wait`: re-run until every endpoint is healthy or the time is up (a post-deploy smoke test).

A freshly created endpoint takes minutes to converge (ENIs, private DNS propagation); CI wants one command
that waits for it, shows progress, and exits 0 as soon as the VPC is healthy or 1 with the last report.
While private DNS propagates, a name can answer privately once and publicly the next time: `healthy_runs`
asks for that many healthy runs in a row before the wait counts as converged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from vpc_verify.report import Report

DEFAULT_INTERVAL_S = 5.0


@dataclass(frozen=True, slots=True)
class WaitResult:
    """The last report, how many runs it took and how long the wait was."""

    report: Report
    attempts: int
    waited_s: float
    healthy_streak: int = 0  # healthy runs in a row at the end of the wait
    healthy_runs: int = 1  # how many in a row were asked for

    @property
    def converged(self) -> bool:
        """The last runs were healthy, as many in a row as asked for."""
        return self.report.healthy and self.healthy_streak >= self.healthy_runs


def run_until_healthy(
    run_once: Callable[[float], Report],
    timeout_s: float,
    *,
    run_deadline_s: float,
    interval_s: float = DEFAULT_INTERVAL_S,
    healthy_runs: int = 1,
    streak: int = 0,
    progress: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WaitResult:
    """Call `run_once(deadline_s)` until `healthy_runs` reports in a row are healthy or `timeout_s` has passed
    (at least one run). `streak` carries healthy runs already seen (a wait resumed in another invocation).

    Each run's deadline is the smaller of `run_deadline_s` and the time left, so the wait ends on time.
    """
    if healthy_runs < 1:
        raise ValueError("healthy_runs must be at least 1")
    start = clock()
    end = start + timeout_s
    attempt = 0
    while True:
        attempt += 1
        left = end - clock()
        report = run_once(max(1.0, min(run_deadline_s, left)))
        elapsed = clock() - start
        streak = streak + 1 if report.healthy else 0
        if streak >= healthy_runs:
            if progress:
                progress(f"attempt {attempt} ({elapsed:.0f} s): all {len(report.endpoints)} endpoints healthy")
            return WaitResult(report, attempt, elapsed, streak, healthy_runs)
        left = end - clock()
        pause = min(interval_s, left)
        if progress:
            if report.healthy:
                progress(
                    f"attempt {attempt} ({elapsed:.0f} s): healthy {streak} of {healthy_runs} runs in a row"
                    + ("; out of time" if left <= 0 or pause <= 0 else f"; next run in {pause:.0f} s")
                )
            else:
                progress(_progress_line(report, attempt, elapsed, pause, left))
        if left <= 0 or pause <= 0:
            return WaitResult(report, attempt, elapsed, streak, healthy_runs)
        sleep(pause)


def _progress_line(report: Report, attempt: int, elapsed: float, pause: float, left: float) -> str:
    bad = [e for e in report.endpoints if not e.healthy]
    waiting = ", ".join(f"{e.name} ({','.join(sorted({f.code for f in e.findings if f.is_error}))})" for e in bad[:5])
    if len(bad) > 5:
        waiting += f", +{len(bad) - 5} more"
    run_level = sorted({f.code for f in report.run_findings if f.is_error})
    if run_level:
        waiting = ", ".join(filter(None, [waiting, f"run ({','.join(run_level)})"]))
    head = (
        f"attempt {attempt} ({elapsed:.0f} s): {len(report.endpoints) - len(bad)}/{len(report.endpoints)} "
        f"healthy; waiting for {waiting}"
    )
    if left <= 0 or pause <= 0:
        return head + "; out of time"
    return head + f"; next run in {pause:.0f} s, {left:.0f} s left"
