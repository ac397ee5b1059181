"""Latency confirmation: connect+TLS measured again, unhurried, on every address that looked over its budget.

During the sweep a hundred handshakes share one event loop (and the servers share their CPUs): a queue can
look like a slow endpoint. A warning should describe the network, so the second measurement stands when it
is faster; a really slow endpoint is slow both times.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import replace

from vpc_verify.checks import tcp, tls
from vpc_verify.observe import specs
from vpc_verify.observe.probe import AddressProbe
from vpc_verify.topology import Endpoint

CONFIRMING = 4  # second measurements in flight: few, so that the loop itself adds no latency

Candidate = tuple[Endpoint, str, AddressProbe]


async def confirm_slow(candidates: Sequence[Candidate], deadline: float) -> list[Candidate]:
    """The probes measured again and found faster (same endpoint and address), by the loop-time `deadline`."""
    slow = [(e, a, p) for e, a, p in candidates if p.completed and p.connect_tls_ms > e.latency_budget_ms]
    loop = asyncio.get_running_loop()
    left = deadline - loop.time()
    if not slow or left <= 0:
        return []
    gate = asyncio.Semaphore(CONFIRMING)
    better: list[Candidate] = []

    async def confirm(endpoint: Endpoint, address: str, first: AddressProbe) -> None:
        async with gate:
            again = await _measure(endpoint, address, first)
        if again.completed and again.connect_tls_ms < first.connect_tls_ms:
            better.append((endpoint, address, again))

    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(left):
            await asyncio.gather(*(confirm(e, a, p) for e, a, p in slow))
    return better


async def _measure(endpoint: Endpoint, address: str, first: AddressProbe) -> AddressProbe:
    tls_spec = specs.tls_spec(endpoint, address)
    if tls_spec is None:
        return replace(first, tcp=await tcp.connect(specs.tcp_spec(endpoint, address)))
    tcp_result, tls_result = await tls.handshake(tls_spec)
    return replace(first, tcp=tcp_result, tls=tls_result)
