"""`asyncio.run` for a coroutine whose result is large (a run's Report, a shard's Observations).

At its end `asyncio.run` puts the SIGINT handler back, and Python 3.11's `signal.signal` formats the handler it
replaces (`Handlers(handler)` fails, with the handler's repr in the message): that handler holds the main task,
whose repr includes its result. For a run of 1,000 endpoints, that repr of every record was 5 % of the run's
CPU. Here the main task's result is None and the value travels beside it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion in a new event loop (as `asyncio.run`) and return its result."""
    held: list[T] = []

    async def keep() -> None:
        held.append(await main)

    asyncio.run(keep())
    return held[0]
