"""How an endpoint's check ended: a bug in the checker (CHECK_ERROR) or the run's deadline (DEADLINE_EXCEEDED).

`check_error` is also what the judge says when a rule itself fails: one place makes CHECK_ERROR.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator

from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import EndpointFacts
from vpc_verify.judge.rule import endpoint_rule
from vpc_verify.observe.pipeline import Ending


def check_error(endpoint: str, what: str, exc: BaseException) -> Finding:
    """vpc-verify failed in `what` (a bug): the finding carries the error and the end of its traceback."""
    return Finding.make(
        Code.CHECK_ERROR,
        endpoint,
        f"vpc-verify failed in {what}: {type(exc).__name__}: {exc}",
        evidence={
            "phase": what,
            "error": type(exc).__name__,
            "detail": str(exc),
            "traceback": traceback.format_exception(exc)[-3:],
        },
    )


@endpoint_rule(Code.CHECK_ERROR, Code.DEADLINE_EXCEEDED)
def ending(facts: EndpointFacts) -> Iterator[Finding]:
    """The observation ended in a bug or at the run's deadline (what it saw before stands)."""
    o = facts.observation
    if o.ending is Ending.ERROR and o.error is not None:
        yield check_error(facts.name, f"checking this endpoint ({o.phase})", o.error)
    elif o.ending is Ending.DEADLINE:
        yield Finding.make(
            Code.DEADLINE_EXCEEDED,
            facts.name,
            f"the run's deadline came during the {o.phase} phase of this endpoint",
            evidence={
                "phase": o.phase,
                "unfinished_addresses": list(o.unfinished),
                "names_resolved": [d.name for d in o.dns],
            },
        )
