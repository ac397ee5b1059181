"""`check --wait` on synthetic reports and a fake clock: N healthy runs in a row end it, what no waiting fixes
ends it at once, and a freshly created endpoint is said to be propagating."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.judge.builders import EP, NOW, aws, dns, facts, observation, report, state, vpce
from vpc_verify.findings import Code, Finding
from vpc_verify.report import EndpointReport, Report
from vpc_verify.wait import run_until_healthy


def _report(*findings: Finding) -> Report:
    e = EndpointReport("sqs", "interface", EP.service, tuple(findings), (), ())
    return Report(started_at=NOW, duration_ms=1.0, endpoints=(e,))


HEALTHY = _report()
DNS_LATE = _report(Finding.make(Code.DNS_PUBLIC_ADDRESS, "sqs", "public"))


def _wait(reports: list[Report], timeout_s: float = 100.0, **kwargs: object) -> tuple[object, list[str], int]:
    now = [0.0]
    lines: list[str] = []
    runs = iter(reports)

    def run_once(deadline: float) -> Report:
        now[0] += 1.0
        return next(runs)

    def sleep(s: float) -> None:
        now[0] += s

    result = run_until_healthy(
        run_once,
        timeout_s,
        run_deadline_s=10.0,
        progress=lines.append,
        clock=lambda: now[0],
        sleep=sleep,
        **kwargs,  # type: ignore[arg-type]
    )
    return result, lines, len(reports) - sum(1 for _ in runs)


def test_two_healthy_runs_in_a_row_end_the_wait_not_one_lucky_answer() -> None:
    result, lines, used = _wait([DNS_LATE, HEALTHY, DNS_LATE, HEALTHY, HEALTHY, HEALTHY])
    assert used == 5 and result.converged and result.attempts == 5  # type: ignore[attr-defined]
    assert "1 of 2 runs in a row" in lines[1] and "2 runs in a row" in lines[-1]
    one, _, used = _wait([DNS_LATE, HEALTHY], healthy_runs=1)
    assert used == 2 and one.converged  # type: ignore[attr-defined]


def test_a_healthy_run_when_time_runs_out_is_not_convergence() -> None:
    result, lines, _ = _wait([DNS_LATE, HEALTHY, HEALTHY], timeout_s=6.5)
    assert not result.converged and result.report.healthy  # type: ignore[attr-defined]
    assert lines[-1].endswith("out of time")


@pytest.mark.parametrize("state_name", ["rejected", "failed", "expired", "deleted", "pendingAcceptance"])
def test_states_that_cannot_fix_themselves_end_the_wait_at_once(state_name: str) -> None:
    stuck = _report(Finding.make(Code.ENDPOINT_NOT_AVAILABLE, "sqs", "not available", evidence={"state": state_name}))
    result, lines, used = _wait([stuck, HEALTHY, HEALTHY])
    assert used == 1 and not result.converged and result.hopeless  # type: ignore[attr-defined]
    assert "no waiting fixes this" in lines[-1] and "ENDPOINT_NOT_AVAILABLE" in lines[-1]


def test_a_pending_endpoint_is_waited_for() -> None:
    pending = _report(Finding.make(Code.ENDPOINT_NOT_AVAILABLE, "sqs", "pending", evidence={"state": "pending"}))
    result, _, used = _wait([pending, HEALTHY, HEALTHY])
    assert used == 3 and result.converged  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "code", [Code.PRIVATE_DNS_DISABLED, Code.SECURITY_GROUP_BLOCKS, Code.NACL_BLOCKS, Code.GATEWAY_ROUTE_MISSING]
)
def test_findings_no_waiting_fixes_end_the_wait_at_once(code: Code) -> None:
    result, _, used = _wait([_report(Finding.make(code, "sqs", "configuration")), HEALTHY, HEALTHY])
    assert used == 1 and [f.code for f in result.hopeless] == [code]  # type: ignore[attr-defined]


def test_denied_credentials_end_the_wait_but_a_late_control_plane_does_not() -> None:
    denied = Finding.make(Code.AWS_API_ERROR, "*", "denied", evidence={"error": "AwsAccessDenied"})
    late = Finding.make(Code.AWS_API_ERROR, "*", "late", evidence={"error": "TimeoutError"})
    assert _wait([replace(HEALTHY, run_findings=(denied,))])[2] == 1
    assert _wait([replace(HEALTHY, run_findings=(late,)), HEALTHY, HEALTHY])[2] == 3


def _fresh() -> Iterator[Report]:
    created = (NOW - dt.timedelta(seconds=40)).isoformat()
    vpc = state(endpoints=[replace(vpce(), created=created)])
    out = report(facts(observation(EP, [dns("52.94.0.10")]), aws=aws(vpc)))
    yield Report(started_at=NOW, duration_ms=1.0, endpoints=(out,))


def test_an_endpoint_created_seconds_ago_is_said_to_be_propagating() -> None:
    (fresh,) = list(_fresh())
    f = fresh.endpoints[0].findings[0]
    assert f.code is Code.DNS_PUBLIC_ADDRESS and "created 40 s ago" in f.message and "propagating" in f.message
    assert "--wait" in f.hint and f.evidence["created_s_ago"] == 40
    _, lines, _ = _wait([fresh, HEALTHY, HEALTHY])
    assert "created 40 s ago: private DNS may still be propagating" in lines[0]
    old = state(endpoints=[replace(vpce(), created=(NOW - dt.timedelta(days=3)).isoformat())])
    stale = report(facts(observation(EP, [dns("52.94.0.10")]), aws=aws(old))).findings[0]
    assert "created" not in stale.message and "VPC resolver" in stale.hint
