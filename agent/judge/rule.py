"""What a judgment rule is: a small pure function over joined facts, declaring the finding codes it makes.

Every code is made by exactly one rule (a test holds it so), which is how a judgment is found and changed in
one place. A rule reads what it needs of both planes at once and writes the final message, evidence and
hint; nothing rewrites a finding afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vpc_verify.findings import Code, Finding

if TYPE_CHECKING:
    from vpc_verify.judge.facts import EndpointFacts, PublishFacts, RunFacts


@dataclass(frozen=True, slots=True)
class EndpointRule:
    """A rule over one endpoint's facts."""

    name: str
    codes: tuple[Code, ...]
    judge: Callable[[EndpointFacts], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class RunRule:
    """A rule over the run's facts (the VPC as a whole, the control plane's outcome)."""

    name: str
    codes: tuple[Code, ...]
    judge: Callable[[RunFacts], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class PublishRule:
    """A rule over what publishing a run's metrics did (after the run: the report is already judged)."""

    name: str
    codes: tuple[Code, ...]
    judge: Callable[[PublishFacts], Iterable[Finding]]


def endpoint_rule(*codes: Code) -> Callable[[Callable[[EndpointFacts], Iterable[Finding]]], EndpointRule]:
    """Register a function as the rule that makes `codes` for an endpoint."""

    def wrap(fn: Callable[[EndpointFacts], Iterable[Finding]]) -> EndpointRule:
        return EndpointRule(f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}", codes, fn)

    return wrap


def run_rule(*codes: Code) -> Callable[[Callable[[RunFacts], Iterable[Finding]]], RunRule]:
    """Register a function as the rule that makes `codes` for the run."""

    def wrap(fn: Callable[[RunFacts], Iterable[Finding]]) -> RunRule:
        return RunRule(f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}", codes, fn)

    return wrap


def publish_rule(*codes: Code) -> Callable[[Callable[[PublishFacts], Iterable[Finding]]], PublishRule]:
    """Register a function as the rule that makes `codes` about publishing."""

    def wrap(fn: Callable[[PublishFacts], Iterable[Finding]]) -> PublishRule:
        return PublishRule(f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}", codes, fn)

    return wrap
