"""The sweep's epoll set of probe sockets: what it reports for real sockets, and that a socket it forgot (and
whose number a new socket may already have) gets no stale event."""

from __future__ import annotations

import asyncio
import socket

from vpc_verify.checks import readiness


async def _next_event(events: list[int], count: int = 1) -> None:
    for _ in range(200):
        if len(events) >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"no readiness reported: {events}")


async def test_epoll_reports_writable_then_readable_and_forgets_on_close() -> None:
    loop = asyncio.get_running_loop()
    io = readiness.Epoll(loop)
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    try:
        events: list[int] = []
        io.watch(ours.fileno(), readiness.WRITE, events.append)
        await _next_event(events)
        assert events[0] & readiness.WRITE
        events.clear()
        io.watch(ours.fileno(), readiness.READ, events.append)  # a modify: no second registration
        await asyncio.sleep(0.02)
        assert events == []  # nothing to read yet
        theirs.send(b"x")
        await _next_event(events)
        assert events[0] & readiness.READ
        io.forget(ours.fileno())
        ours.close()
        before = len(events)  # level-triggered: unread data was reported on every pass until now
        await asyncio.sleep(0.02)
        assert len(events) == before  # forgotten and closed: nothing more, though its data was never read
    finally:
        io.close()
        ours.close()
        theirs.close()


async def test_a_socket_forgotten_during_a_pass_gets_none_of_its_events() -> None:
    loop = asyncio.get_running_loop()
    io = readiness.Epoll(loop)
    a, a_peer = socket.socketpair()
    b, b_peer = socket.socketpair()
    try:
        seen: list[str] = []

        def on_a(events: int) -> None:
            seen.append("a")
            a.recv(16)
            io.forget(b.fileno())  # as a handler that ends another probe in the same pass

        io.watch(a.fileno(), readiness.READ, on_a)
        io.watch(b.fileno(), readiness.READ, lambda events: seen.append("b"))
        a_peer.send(b"x")
        b_peer.send(b"x")
        await asyncio.sleep(0.05)
        assert seen.count("a") == 1
        # b's event came before a's handler forgot it (same pass or not), or never
        assert seen in (["a"], ["b", "a"])
    finally:
        io.close()
        for s in (a, a_peer, b, b_peer):
            s.close()


async def test_the_loops_own_registrations_serve_the_same_interface() -> None:
    io = readiness.LoopReadiness(asyncio.get_running_loop())
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    try:
        events: list[int] = []
        io.watch(ours.fileno(), readiness.WRITE, events.append)
        await _next_event(events)
        assert events[0] == readiness.WRITE
        events.clear()
        io.watch(ours.fileno(), readiness.READ, events.append)
        theirs.send(b"x")
        await _next_event(events)
        assert events[0] == readiness.READ
        io.forget(ours.fileno())
    finally:
        ours.close()
        theirs.close()
