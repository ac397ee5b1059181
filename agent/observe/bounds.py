"""A bound on work in flight that both coroutines and callbacks can hold: `async with bound` for a coroutine,
`bound.when_free(callback)` for a probe driven by the loop's callbacks (checks/tls.Dial), which would otherwise
need a task of its own just to wait on an asyncio.Semaphore.

Waiters are served first come, first served, whichever kind they are; a slot freed while some wait goes
straight to the next of them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from types import TracebackType


class Waiting:
    """A callback's place in a bound's queue; `cancel` gives it up (the callback is then never called)."""

    __slots__ = ("_bound", "callback")

    def __init__(self, callback: Callable[[], None], bound: Bound) -> None:
        self.callback: Callable[[], None] | None = callback
        self._bound = bound

    def cancel(self) -> None:
        """Leave the queue (or give back the slot it was handed, before its callback ran)."""
        self.callback = None

    def _run(self) -> None:
        callback, self.callback = self.callback, None
        if callback is None:  # given up after the slot was handed over: it goes to the next
            self._bound.release()
        else:
            callback()


class Bound:
    """At most `size` holders at once."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a bound holds at least 1, got {size}")
        self.size = size
        self._free = size
        self._queue: deque[asyncio.Future[None] | Waiting] = deque()

    def locked(self) -> bool:
        """Whether a new holder would wait."""
        return self._free == 0

    async def acquire(self) -> None:
        """Wait for a slot and hold it."""
        if self._free > 0 and not self._queue:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # the slot was handed over as we were cancelled
                self.release()
            raise

    def when_free(self, callback: Callable[[], None]) -> Waiting | None:
        """Hold a slot and call `callback` now when one is free (None returned), else queue it: it is called,
        holding a slot, when one is freed (unless the returned Waiting is cancelled first)."""
        if self._free > 0 and not self._queue:
            self._free -= 1
            callback()
            return None
        waiting = Waiting(callback, self)
        self._queue.append(waiting)
        return waiting

    def release(self) -> None:
        """Give a slot back: to the first waiter still waiting, else to the bound."""
        queue = self._queue
        while queue:
            waiter = queue.popleft()
            if isinstance(waiter, Waiting):
                if waiter.callback is not None:
                    # Called from the loop, not from here: a callback that ends at once releases in turn.
                    asyncio.get_running_loop().call_soon(waiter._run)
                    return
            elif not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
