"""A testbed server's event loop in a background thread, so synchronous tests and the box can use it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")


class Closable(Protocol):
    """What a started server hands back to be closed: an asyncio server or transport."""

    def close(self) -> None: ...


@contextlib.contextmanager
def serving(start: Callable[[], Awaitable[tuple[Sequence[Closable], T]]], name: str) -> Iterator[T]:
    """Run `start()` on a new loop in a daemon thread named `name` and yield the value it returns beside its
    servers; after the block the servers are closed and the loop stopped. A failure to start is raised here."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    outcome: list[tuple[Sequence[Closable], T] | BaseException] = []

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            outcome.append(loop.run_until_complete(start()))
        except BaseException as exc:  # handed to the caller below
            outcome.append(exc)
        started.set()
        if not isinstance(outcome[0], BaseException):
            loop.run_forever()

    thread = threading.Thread(target=main, name=name, daemon=True)
    thread.start()
    if not started.wait(30):
        raise TimeoutError(f"{name}: the server did not start within 30 s")
    first = outcome[0]
    if isinstance(first, BaseException):
        raise first
    closables, value = first
    try:
        yield value
    finally:

        def stop() -> None:
            for closable in closables:
                closable.close()
            loop.stop()

        loop.call_soon_threadsafe(stop)
        thread.join(10)
