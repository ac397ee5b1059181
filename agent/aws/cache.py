"""Static control-plane answers kept between runs: what a service offers and how the account names its zones.

DescribeVpcEndpointServices (one call per service) and DescribeAvailabilityZones answer the same thing run
after run, so `check --wait` (a run every few seconds), the EC2 agent's loop and a warm Lambda ask once per
hour rather than every run (EC2 throttles per account and API). Everything that can drift (endpoints,
groups, routes, ACLs, prefix-list entries) is read every run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

DEFAULT_TTL_S = 3600.0


class StaticCache:
    """A small thread-safe map with a time to live (the run reads the control plane in a worker thread)."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The value kept under `key`, or None when absent or expired."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            at, value = found
            if self._clock() - at > self.ttl_s:
                del self._items[key]
                return None
            return value

    def put(self, key: Hashable, value: Any) -> None:
        """Keep `value` under `key` from now on."""
        with self._lock:
            self._items[key] = (self._clock(), value)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()


SHARED = StaticCache()  # one per process: the CLI's --wait attempts, the agent's loop, a warm Lambda
