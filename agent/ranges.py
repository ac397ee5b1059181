"""Numeric ranges: one check for a number from a topology file and for one from the command line.

A `NumberRange` says what it accepts in words (``an integer from 1 to 65535``), so the topology parser and the
argparse `type=` of a CLI flag reject the same values with the same explanation: NaN, infinities, booleans,
out-of-range values and, for integer ranges, fractions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


class OutOfRange(ValueError):
    """A value that is not in a NumberRange; `expected` says what would have been."""

    def __init__(self, expected: str, got: object) -> None:
        self.expected = expected
        self.got = got
        super().__init__(f"expected {expected}, got {got!r}")


@dataclass(frozen=True, slots=True)
class NumberRange:
    """Finite numbers from `low` to `high` (`low` itself excluded when `low_open`), integers only if `integer`."""

    low: float
    high: float
    integer: bool = False
    low_open: bool = False
    unit: str = ""

    @property
    def expected(self) -> str:
        """What the range accepts, in words."""
        unit = f" {self.unit}" if self.unit else ""
        if self.integer:
            low = int(self.low) + 1 if self.low_open else int(self.low)
            return f"an integer from {low} to {int(self.high)}{unit}"
        if self.low_open:
            return f"a number above {self.low:g} and at most {self.high:g}{unit}"
        return f"a number from {self.low:g} to {self.high:g}{unit}"

    def check(self, value: object) -> float:
        """`value` as a number in the range (an int stays an int), else OutOfRange."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OutOfRange(self.expected, value)
        if isinstance(value, float) and not math.isfinite(value):
            raise OutOfRange(self.expected, value)
        if self.integer and not isinstance(value, int):
            raise OutOfRange(self.expected, value)
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            raise OutOfRange(self.expected, value)
        return value

    def check_int(self, value: object) -> int:
        """`check` for an integer range, typed as int."""
        checked = self.check(value)
        if not isinstance(checked, int):  # a float range asked for an int
            raise OutOfRange(self.expected, value)
        return checked

    def parse(self, text: str) -> float:
        """A command-line argument as a number in the range, else OutOfRange."""
        cleaned = text.strip()
        value: float
        try:
            value = int(cleaned, 10) if self.integer else float(cleaned)
        except ValueError:
            raise OutOfRange(self.expected, text) from None
        return self.check(value)

    def cli_type(self) -> Callable[[str], float]:
        """An argparse `type=` that rejects what `parse` rejects, with the range's words."""

        def convert(text: str) -> float:
            try:
                return self.parse(text)
            except OutOfRange as exc:
                import argparse  # the command line's: a Lambda's cold start does not import it

                raise argparse.ArgumentTypeError(f"expected {exc.expected}, got {text!r}") from None

        convert.__name__ = "number"  # argparse names the type in its "invalid ... value" fallback
        return convert


# The command line's numbers (the topology's are in vpc_verify.topology.model).
SECONDS_RANGE = NumberRange(0, 86_400, low_open=True, unit="seconds")  # a deadline, an interval, a wait
JITTER_SECONDS_RANGE = NumberRange(0, 86_400, unit="seconds")
CONCURRENCY_RANGE = NumberRange(1, 10_000, integer=True)
BUFFER_RANGE = NumberRange(0, 10_000_000, integer=True)
