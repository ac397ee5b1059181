"""A random start delay for scheduled runs, so that many VPCs scheduled on the same minute do not all call the
EC2 API in the same second (docs/guides/fleet.md, the EC2 API at fleet scale).

Pure: `delay_s` takes the configured bound, the time the invocation has left and a random source, and returns
how long to wait. The delay is uniform in [0, bound), where the bound is the configured one but never more
than MAX_SHARE of the time left, so a run that was delayed still has the larger part of its time.
"""

from __future__ import annotations

from collections.abc import Callable

from vpc_verify.ranges import NumberRange, OutOfRange

MAX_SHARE = 0.5  # of the time the invocation has left
BOUND_RANGE = NumberRange(0, 900)  # seconds; Lambda's longest timeout: no meaningful bound is larger


class JitterError(ValueError):
    """A configured bound that is not a number of seconds in BOUND_RANGE."""

    def __init__(self, value: str) -> None:
        super().__init__(
            "VPC_VERIFY_JITTER_SECONDS: expected a number of seconds from "
            f"{BOUND_RANGE.low:g} to {BOUND_RANGE.high:g}, got {value[:40]!r}"
        )
        self.value = value


def bound_s(value: str | None) -> float:
    """The configured bound in seconds ("" or None: 0, no delay); JitterError when it is not a valid number."""
    if value is None or not value.strip():
        return 0.0
    try:
        return float(BOUND_RANGE.parse(value))
    except OutOfRange:
        raise JitterError(value) from None


def delay_s(bound: float, remaining_s: float, random: Callable[[], float]) -> float:
    """How long to wait: `random()` (in [0, 1)) times the bound, the bound capped at MAX_SHARE of `remaining_s`."""
    cap = min(bound, max(0.0, remaining_s) * MAX_SHARE)
    if cap <= 0.0:
        return 0.0
    return min(cap, max(0.0, random()) * cap)
