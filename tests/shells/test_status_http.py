"""The HTTP port against hostile clients, in this process, on 127.0.0.1: Host checks, the parser, the bounds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time

import pytest

from tests.shells.helpers import Routes, body_of, exchange, headers_of, hold, serve, status_of
from vpc_verify.shells.status_http import Limits, Listener, RateLog, StatusServer, fit_to_fd_limit, host_allowed

pytestmark = pytest.mark.unit


# --- who may ask ------------------------------------------------------------------------------------------


def test_host_allowed_on_loopback_only_loopback_localhost_and_added_names() -> None:
    names = frozenset({"agent.internal"})
    ok = ("127.0.0.1", "127.0.0.1:9180", "127.1.2.3", "[::1]:9180", "[::1]", "localhost", "LOCALHOST.:9180")
    for host in ok:
        assert host_allowed(host, loopback_only=True, names=names) is True, host
    assert host_allowed("agent.internal:9180", loopback_only=True, names=names) is True
    for host in ("attacker.example", "attacker.example:9180", "10.0.0.5", "[fe80::1]", "127.0.0.1.nip.io"):
        assert host_allowed(host, loopback_only=True, names=names) is False, host
    for host in ("", "a b", "user@127.0.0.1", "127.0.0.1:99999", "[not-v6]", "127.0.0.1:x"):
        assert host_allowed(host, loopback_only=True, names=names) is None, host
    # Off loopback (always behind authentication) an IP literal cannot be a rebound name.
    assert host_allowed("10.0.1.5:9443", loopback_only=False, names=frozenset()) is True
    assert host_allowed("attacker.example", loopback_only=False, names=frozenset()) is False


async def test_dns_rebinding_gets_no_report() -> None:
    server = await serve()
    port = server.addresses[0][1]
    try:
        # What a page on attacker.example, whose name now resolves to 127.0.0.1, makes the browser send.
        rebound = await exchange(port, b"GET /report HTTP/1.1\r\nHost: attacker.example:%d\r\n\r\n" % port)
        assert status_of(rebound) == 421 and body_of(rebound) == b""
        absolute = await exchange(port, b"GET http://attacker.example/report HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status_of(absolute) == 421 and body_of(absolute) == b""
        ok = await exchange(port, b"GET /report HTTP/1.1\r\nHost: localhost:%d\r\nConnection: close\r\n\r\n" % port)
        assert status_of(ok) == 200 and body_of(ok) == Routes().body
        absolute_ok = await exchange(
            port, b"GET http://127.0.0.1:%d/report?x=1 HTTP/1.1\r\nHost: evil\r\nConnection: close\r\n\r\n" % port
        )
        assert status_of(absolute_ok) == 200  # absolute-form: its authority is the host (RFC 9112 3.2.2)
    finally:
        await server.close()


async def test_an_added_name_is_answered() -> None:
    server = await serve(allow_hosts=("Agent.Internal",))
    port = server.addresses[0][1]
    try:
        got = await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: agent.internal\r\nConnection: close\r\n\r\n")
        assert status_of(got) == 200 and json.loads(body_of(got))["status"] == "ok"
    finally:
        await server.close()


def test_off_loopback_without_authentication_is_refused() -> None:
    with pytest.raises(ValueError, match="TLS and credentials"):
        StatusServer(Routes(), [Listener("0.0.0.0", 0)])


# --- the parser -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /report HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 without Host
        (b"GET /report HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n", 400),
        (b"GET report HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
        (b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
        (b"GET /report HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505),
        (b"GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    ],
)
async def test_malformed_requests_get_their_status(request_bytes: bytes, status: int) -> None:
    server = await serve()
    try:
        got = await exchange(server.addresses[0][1], request_bytes)
        assert status_of(got) == status, got[:200]
        assert headers_of(got).get("connection") == "close"
    finally:
        await server.close()


async def test_methods_head_and_paths() -> None:
    server = await serve()
    port = server.addresses[0][1]
    try:
        for method in (b"POST", b"PUT", b"DELETE", b"OPTIONS", b"TRACE", b"PATCH", b"PROPFIND"):
            got = await exchange(port, method + b" /report HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
            assert status_of(got) == 405 and headers_of(got)["allow"] == "GET, HEAD", method
        get = await exchange(port, b"GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        head = await exchange(port, b"HEAD /report HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert status_of(head) == 200 and body_of(head) == b""
        assert headers_of(head)["content-length"] == headers_of(get)["content-length"] == str(len(body_of(get)))
        for path in (b"/../report", b"/report/", b"/%72eport", b"//report", b"/report/../etc/passwd", b"/"):
            got = await exchange(port, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert status_of(got) == 404, path
        old = await exchange(port, b"GET /healthz HTTP/1.0\r\n\r\n")  # HTTP/1.0 without Host: no browser's
        assert status_of(old) == 200
        metrics = await exchange(port, b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert status_of(metrics) == 200 and body_of(metrics) == b"# TYPE up gauge\nup 1\n"
    finally:
        await server.close()


async def test_keep_alive_answers_several_requests_on_one_connection() -> None:
    server = await serve()
    try:
        two = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + (
            b"GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        got = await exchange(server.addresses[0][1], two)
        assert got.count(b"HTTP/1.1 200 OK") == 2
    finally:
        await server.close()


async def test_slowloris_gets_408_within_the_head_timeout() -> None:
    server = await serve(head_timeout_s=0.5)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.addresses[0][1])
        t0 = time.monotonic()
        writer.write(b"GET /report HTTP/1.1\r\n")
        for _ in range(8):  # one header byte at a time: the head is never whole
            await asyncio.sleep(0.05)
            writer.write(b"X")
        got = await asyncio.wait_for(reader.read(), 3)
        assert status_of(got) == 408 and time.monotonic() - t0 < 2
        writer.close()
    finally:
        await server.close()


# --- the bounds -------------------------------------------------------------------------------------------


async def test_idle_connections_past_the_cap_are_evicted_and_health_stays_fast() -> None:
    server = await serve(max_connections=8)
    port = server.addresses[0][1]
    socks = await asyncio.to_thread(hold, port, 40)
    try:
        for _ in range(5):
            t0 = time.monotonic()
            got = await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert status_of(got) == 200 and time.monotonic() - t0 < 1.0
        stats = server.stats()
        # Past the cap a partial head is closed at once; each whole /healthz request evicted an idle one.
        assert stats["connections"] <= 8 and stats["incomplete_closed"] >= 30 and stats["evicted"] >= 1, stats
    finally:
        for s in socks:
            s.close()
        await server.close()


def _stalled(port: int, request: bytes) -> socket.socket:
    """A client that sends `request` and never reads the answer."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.send(request)
    return s


async def test_report_readers_take_at_most_half_the_slots_and_health_stays_fast() -> None:
    server = await serve(Routes(size=8 * 1024 * 1024), max_connections=4, write_timeout_s=5.0)
    port = server.addresses[0][1]
    stalled = [_stalled(port, b"GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") for _ in range(4)]
    try:
        await asyncio.sleep(0.5)
        assert server.stats()["connections"] == 2  # two stream; two were answered 503 and closed
        t0 = time.monotonic()
        got = await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert status_of(got) == 200 and time.monotonic() - t0 < 1.0
    finally:
        for s in stalled:
            s.close()
        await server.close()


async def test_past_the_cap_with_every_slot_answering_a_newcomer_gets_503_at_once() -> None:
    class BigHealth(Routes):
        def health(self) -> tuple[int, dict[str, object]]:
            return 200, {"status": "ok", "padding": "x" * (4 * 1024 * 1024)}

    server = await serve(BigHealth(), max_connections=4, write_timeout_s=5.0)
    port = server.addresses[0][1]
    stalled = [_stalled(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") for _ in range(4)]
    try:
        await asyncio.sleep(0.5)
        assert server.stats()["connections"] == 4
        t0 = time.monotonic()
        got = await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=2)
        assert status_of(got) == 503 and headers_of(got)["retry-after"] == "1"
        assert time.monotonic() - t0 < 0.5 and server.stats()["shed"] == 1
    finally:
        for s in stalled:
            s.close()
        await server.close()


async def test_clients_that_never_read_are_dropped_after_the_write_timeout() -> None:
    routes = Routes(size=6 * 1024 * 1024)
    server = await serve(routes, write_timeout_s=0.5)
    port = server.addresses[0][1]
    socks = []
    try:
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.send(b"GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            socks.append(s)
        await asyncio.sleep(0.3)
        assert server.stats()["connections"] == 10
        for _ in range(40):
            await asyncio.sleep(0.1)
            if server.stats()["connections"] == 0:
                break
        stats = server.stats()
        assert stats["connections"] == 0 and stats["write_timeouts"] == 10, stats
        # /healthz answered all along.
        got = await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert status_of(got) == 200
    finally:
        for s in socks:
            s.close()
        await server.close()


def test_the_cap_leaves_descriptors_to_the_checks() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))
        assert fit_to_fd_limit(Limits(max_connections=1000)).max_connections == (512 - 256) // 2
        assert fit_to_fd_limit(Limits(max_connections=16)).max_connections == 16
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_rate_log_logs_once_per_interval_with_a_count() -> None:
    lines: list[tuple[str, dict[str, object]]] = []

    class Log:
        def warning(self, event: str, **fields: object) -> None:
            lines.append((event, fields))

    now = [0.0]
    log = RateLog(Log(), interval_s=60.0, clock=lambda: now[0])
    for _ in range(1000):
        log.note("http_accept_exhausted", error="Too many open files")
        now[0] += 0.01  # 10 s in all
    assert len(lines) == 1 and lines[0][1]["count"] == 1
    now[0] += 60
    log.note("http_accept_exhausted", error="Too many open files")
    assert len(lines) == 2 and lines[1][1]["count"] == 1000
    assert log.totals["http_accept_exhausted"] == 1001


async def test_a_slow_reader_gets_the_whole_report() -> None:
    routes = Routes(size=2 * 1024 * 1024)
    server = await serve(routes, write_timeout_s=5.0)

    def slow_get(port: int) -> bytes:
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        chunks = []
        while chunk := s.recv(16384):
            chunks.append(chunk)
            time.sleep(0.001)  # slower than the port writes: its buffers stay full to the end
        s.close()
        return b"".join(chunks)

    try:
        got = await asyncio.to_thread(slow_get, server.addresses[0][1])
        assert status_of(got) == 200 and body_of(got) == routes.body
        assert server.stats()["write_timeouts"] == 0
    finally:
        await server.close()


def test_a_closed_socket_has_nothing_unread() -> None:
    """Regression: FIONREAD on a socket closed meanwhile (fileno -1) raised ValueError and killed accepting."""
    from vpc_verify.shells.status_http import _Conn

    closed = socket.socket()
    closed.close()

    class Transport:
        def get_extra_info(self, name: str) -> socket.socket:
            return closed

    conn = _Conn(Listener("127.0.0.1", 0))
    conn.transport = Transport()  # type: ignore[assignment]
    assert conn.unread() == 0


async def test_accepting_survives_a_failure_in_one_round(monkeypatch: pytest.MonkeyPatch) -> None:
    server = await serve()
    port = server.addresses[0][1]
    real = server._admit
    calls = 0

    def flaky(client: socket.socket, listener: Listener, **kw: bool) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ValueError("injected")
        real(client, listener, **kw)

    monkeypatch.setattr(server, "_admit", flaky)
    try:
        with contextlib.suppress(ConnectionResetError):  # that one is dropped (closed unread: a reset)
            assert await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=3) == b""
        await asyncio.sleep(0.6)
        got = await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert status_of(got) == 200 and server.events.totals["http_accept_failed"] == 1
    finally:
        await server.close()
