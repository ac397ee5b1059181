"""The scheduled run's random start delay (VPC_VERIFY_JITTER_SECONDS), with an injected random source and sleep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vpc_verify import jitter
from vpc_verify.lambda_entry import handle

TOPOLOGY = (
    "version: 1\nregion: us-east-1\nresolver: {nameservers: [127.0.0.1], port: 1, timeout_ms: 200}\n"
    "endpoints:\n  - {name: a, type: service, dns_names: [a.example.com]}\n"
)


class Clock:
    """The invocation's remaining time, which the injected sleep spends."""

    def __init__(self, ms: int) -> None:
        self.ms = ms
        self.slept: list[float] = []
        self.aws_request_id = "req-j"

    def get_remaining_time_in_millis(self) -> int:
        return self.ms

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.ms -= int(seconds * 1000)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "topology.yaml").write_text(TOPOLOGY)
    return {"LAMBDA_TASK_ROOT": str(tmp_path), "VPC_VERIFY_PUBLISH": "none"}


@pytest.mark.parametrize(("value", "seconds"), [(None, 0.0), ("", 0.0), ("0", 0.0), ("12.5", 12.5), ("900", 900.0)])
def test_the_bound_parses(value: str | None, seconds: float) -> None:
    assert jitter.bound_s(value) == seconds


@pytest.mark.parametrize("value", ["-1", "ten", "nan", "inf", "901"])
def test_a_bad_bound_is_a_clear_error(value: str) -> None:
    with pytest.raises(jitter.JitterError, match="VPC_VERIFY_JITTER_SECONDS: expected a number of seconds"):
        jitter.bound_s(value)


@pytest.mark.parametrize(
    ("bound", "remaining", "draw", "delay"),
    [
        (10.0, 60.0, 0.5, 5.0),  # uniform in [0, bound)
        (10.0, 60.0, 0.0, 0.0),
        (10.0, 8.0, 0.5, 2.0),  # capped at half the time left
        (10.0, 0.0, 0.9, 0.0),
        (0.0, 60.0, 0.9, 0.0),
    ],
)
def test_the_delay_is_a_share_of_the_bound_capped_by_the_time_left(
    bound: float, remaining: float, draw: float, delay: float
) -> None:
    assert jitter.delay_s(bound, remaining, lambda: draw) == pytest.approx(delay)


def test_a_scheduled_run_waits_then_runs_with_the_time_left(env: dict[str, str]) -> None:
    clock = Clock(ms=20_000)
    result = handle({}, clock, {**env, "VPC_VERIFY_JITTER_SECONDS": "10"}, random=lambda: 0.25, sleep=clock.sleep)
    assert result["ok"], result
    assert clock.slept == [pytest.approx(2.5)]
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    clock = Clock(ms=6_000)  # half the time left is the cap: 3 s, of which the draw takes 0.9
    handle(scheduled, clock, {**env, "VPC_VERIFY_JITTER_SECONDS": "10"}, random=lambda: 0.9, sleep=clock.sleep)
    assert clock.slept == [pytest.approx(2.7)]


@pytest.mark.parametrize(
    ("event", "extra"),
    [
        ({"only": ["a"]}, {"VPC_VERIFY_JITTER_SECONDS": "10"}),  # asked for: starts at once
        ({"publish": "none"}, {"VPC_VERIFY_JITTER_SECONDS": "10"}),
        ({}, {}),  # the default: no delay
        ({}, {"VPC_VERIFY_JITTER_SECONDS": "soon"}),  # invalid: no delay, a warning, the run stands
    ],
)
def test_no_delay_when_asked_for_unset_or_invalid(env: dict[str, str], event: Any, extra: dict[str, str]) -> None:
    clock = Clock(ms=20_000)
    result = handle(event, clock, {**env, **extra}, random=lambda: 0.99, sleep=clock.sleep)
    assert result["ok"], result
    assert clock.slept == []
