"""The pace of DNS questions: a token bucket in front of the resolver.

The VPC resolver drops what an ENI sends it above 1024 packets a second (Lambda included, and a Lambda's
Hyperplane ENI may be shared), silently: a run that asks too fast sees timeouts that are its own doing. Every
UDP or TCP question the DNS probe sends takes one token first (A and AAAA for one name are two), so the run
stays under `rate` packets a second on average and never sends more than `rate * T + burst` in any T seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

BURST_SECONDS = 0.1  # the bucket holds a tenth of a second of questions: bursts stay small


class TokenBucket:
    """At most `rate` tokens a second on average and `burst` at once; `take` waits its turn (first come,
    first served: a reservation is made at once and its wait computed from the debt before it)."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = float(rate)
        self.burst = float(burst) if burst is not None else max(1.0, self.rate * BURST_SECONDS)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._last = clock()
        self.taken = 0

    def reserve(self, count: int = 1) -> float:
        """Take `count` tokens now, going into debt if need be; return how long to wait before using them."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= count
        self.taken += count
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    async def take(self, count: int = 1) -> None:
        """Wait until `count` packets may be sent."""
        wait = self.reserve(count)
        if wait > 0:
            await self._sleep(wait)
