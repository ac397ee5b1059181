"""`check --wait` logic (vpc_verify.wait) on a fake clock: attempts, per-run deadlines, pauses and progress.

One real-time run of `--wait` against a box stays in tests/publish/test_cli_wait.py.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.publish.helpers import synthetic_report
from vpc_verify.report import Report
from vpc_verify.wait import run_until_healthy

UNHEALTHY = synthetic_report()  # kms: TCP_TIMEOUT (an error) and LATENCY_OVER_BUDGET (a warning)
HEALTHY = replace(UNHEALTHY, endpoints=UNHEALTHY.endpoints[:1])


class FakeTime:
    """A clock that moves only when the code under test sleeps or a run takes time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Runs:
    """`run_once`: returns the scripted reports in turn, each run taking `run_s` of fake time."""

    def __init__(self, time: FakeTime, reports: list[Report], run_s: float = 2.0) -> None:
        self.time = time
        self.reports = reports
        self.run_s = run_s
        self.deadlines: list[float] = []

    def __call__(self, deadline_s: float) -> Report:
        self.deadlines.append(deadline_s)
        self.time.now += self.run_s
        return self.reports[min(len(self.deadlines), len(self.reports)) - 1]


def test_healthy_at_once_is_one_attempt_and_no_pause() -> None:
    t = FakeTime()
    progress: list[str] = []
    runs = Runs(t, [HEALTHY])
    result = run_until_healthy(
        runs, 60, run_deadline_s=30, healthy_runs=1, clock=t.clock, sleep=t.sleep, progress=progress.append
    )
    assert result.report is HEALTHY and result.attempts == 1 and result.converged
    assert result.waited_s == 2.0
    assert runs.deadlines == [30] and t.sleeps == []
    assert progress == ["attempt 1 (2 s): all 1 endpoints healthy"]


def test_waits_between_runs_until_healthy() -> None:
    t = FakeTime()
    progress: list[str] = []
    runs = Runs(t, [UNHEALTHY, UNHEALTHY, HEALTHY])
    result = run_until_healthy(
        runs,
        60,
        run_deadline_s=30,
        interval_s=5,
        healthy_runs=1,
        clock=t.clock,
        sleep=t.sleep,
        progress=progress.append,
    )
    assert result.attempts == 3 and result.converged
    assert t.sleeps == [5, 5]
    assert result.waited_s == 3 * 2.0 + 2 * 5
    assert runs.deadlines == [30, 30, 30]
    assert progress == [
        "attempt 1 (2 s): 1/2 healthy; waiting for kms (TCP_TIMEOUT); next run in 5 s, 58 s left",
        "attempt 2 (9 s): 1/2 healthy; waiting for kms (TCP_TIMEOUT); next run in 5 s, 51 s left",
        "attempt 3 (16 s): all 1 endpoints healthy",
    ]


def test_runs_out_of_time_with_the_last_report() -> None:
    t = FakeTime()
    progress: list[str] = []
    runs = Runs(t, [UNHEALTHY], run_s=3.0)
    result = run_until_healthy(
        runs, 20, run_deadline_s=30, interval_s=5, clock=t.clock, sleep=t.sleep, progress=progress.append
    )
    assert not result.converged and result.report is UNHEALTHY
    # Each run's deadline is the time left, at least 1 s; the last pause is cut to what is left, and the run
    # at the end gets its 1 s.
    assert runs.deadlines == [20, 12, 4, 1]
    assert t.sleeps == [5, 5, 1]
    assert result.attempts == 4 and result.waited_s == 23
    assert progress[-1] == "attempt 4 (23 s): 1/2 healthy; waiting for kms (TCP_TIMEOUT); out of time"


def test_each_run_gets_at_least_one_second() -> None:
    t = FakeTime()
    runs = Runs(t, [UNHEALTHY], run_s=0.5)
    run_until_healthy(runs, 1.2, run_deadline_s=30, interval_s=1, clock=t.clock, sleep=t.sleep)
    assert runs.deadlines[0] == pytest.approx(1.2)
    assert all(d >= 1.0 for d in runs.deadlines)


def test_progress_names_at_most_five_endpoints_and_the_run_findings() -> None:
    from vpc_verify.findings import Code, Finding

    kms = UNHEALTHY.endpoint("kms")
    many = tuple(replace(kms, name=f"svc{i}") for i in range(7))
    deadline = Finding.make(Code.DEADLINE_EXCEEDED, "*", "the run's deadline came first")
    report = replace(UNHEALTHY, endpoints=many, run_findings=(deadline,))
    t = FakeTime()
    progress: list[str] = []
    run_until_healthy(Runs(t, [report]), 0, run_deadline_s=30, clock=t.clock, sleep=t.sleep, progress=progress.append)
    assert progress == [
        "attempt 1 (2 s): 0/7 healthy; waiting for svc0 (TCP_TIMEOUT), svc1 (TCP_TIMEOUT), svc2 (TCP_TIMEOUT), "
        "svc3 (TCP_TIMEOUT), svc4 (TCP_TIMEOUT), +2 more, run (DEADLINE_EXCEEDED); out of time"
    ]
