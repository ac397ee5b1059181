"""The DNS pace: a token bucket on a fake clock (unit), and a real resolver counting the packets it receives."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections import Counter

import pytest

from vpc_verify.observe import pipeline
from vpc_verify.observe.pace import TokenBucket
from vpc_verify.topology import parse


class FakeClock:
    """A clock that only moves when the bucket sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def max_in_any_window(times: list[float], width: float) -> int:
    """The most events in any window [t, t + width) that starts at an event."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - width + 1e-9:
            j += 1
        best = max(best, i - j + 1)
    return best


async def test_a_bucket_holds_its_rate_in_every_second_and_lets_a_small_burst_through() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, clock=clock, sleep=clock.sleep)
    sent: list[float] = []
    for _ in range(1000):  # one caller after another, each sending when its turn comes
        await bucket.take()
        sent.append(clock())
    assert bucket.burst == 10  # a tenth of a second
    assert sent[:10] == [0.0] * 10  # the burst goes at once
    assert max_in_any_window(sent, 1.0) <= 100 + 10
    assert sent[-1] == pytest.approx((1000 - 10) / 100)  # then exactly the rate


async def test_concurrent_takers_are_served_in_turn_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(50, burst=1, clock=clock, sleep=lambda s: asyncio.sleep(0))
    waits = [bucket.reserve(2) for _ in range(10)]  # A and AAAA: two packets each
    assert waits == pytest.approx([(2 * i + 1) / 50 for i in range(10)])
    assert bucket.taken == 20


def test_a_bucket_refills_only_up_to_its_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, burst=2, clock=clock, sleep=clock.sleep)
    assert [bucket.reserve() for _ in range(2)] == [0.0, 0.0]
    clock.now = 100.0  # a long pause banks no more than the burst
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.1])


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)


class CountingResolver(asyncio.DatagramProtocol):
    """A DNS server on 127.0.0.1 that answers every A question with 127.0.0.1 and notes when each came."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.names: Counter[str] = Counter()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.arrivals.append(time.monotonic())
        qid, _, qd, _, _, _ = struct.unpack_from("!HHHHHH", data)
        offset, labels = 12, []
        while data[offset]:
            labels.append(data[offset + 1 : offset + 1 + data[offset]].decode())
            offset += 1 + data[offset]
        question = data[12 : offset + 5]
        self.names[".".join(labels)] += 1
        answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
        assert self.transport is not None
        self.transport.sendto(struct.pack("!HHHHHH", qid, 0x8180, qd, 1, 0, 0) + question + answer, addr)


async def test_a_sweep_sends_the_resolver_no_more_than_its_rate_and_each_question_once() -> None:
    loop = asyncio.get_running_loop()
    transport, resolver = await loop.create_datagram_endpoint(CountingResolver, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    try:
        # 60 endpoints on 45 names (every fourth shares its name with the one before): 45 questions.
        names = [f"n{i - 1 if i % 4 == 3 else i}.pace.example" for i in range(60)]
        topology = parse(
            {
                "version": 1,
                "resolver": {"nameservers": ["127.0.0.1"], "port": port, "queries_per_second": 20},
                "endpoints": [
                    {"name": f"e{i}", "type": "service", "dns_names": [n], "tls": False, "port": 9}
                    for i, n in enumerate(names)
                ],
            }
        )

        async def scope(endpoint: object) -> tuple[()]:
            return ()

        start = time.monotonic()
        observations = await pipeline.sweep(topology, concurrency=100, deadline=loop.time() + 30, scope=scope)
    finally:
        transport.close()
    unique = len(set(names))
    assert unique == 45
    assert all(o.dns[0].answers == ("127.0.0.1",) for o in observations)
    assert sum(resolver.names.values()) == unique and set(resolver.names.values()) == {1}  # asked once each
    assert max_in_any_window(resolver.arrivals, 1.0) <= 20 + 2  # the rate and its burst (a tenth of it)
    assert time.monotonic() - start >= (unique - 2) / 20 * 0.95
