"""The agent's HTTP port: GET/HEAD /report, /healthz and /metrics, for this machine and, opt-in, for a scraper.

Anything on the instance can connect to a loopback port, and a web page opened there can reach it through DNS
rebinding, so the port is built for hostile clients:

- **Who may ask.** A request is answered only when its Host (or absolute-form authority) is a loopback address,
  `localhost` or a name the operator added; any other gets 421 with no body. (A rebinding page always sends
  its own name; an HTTP/1.0 request without Host is no browser's and is let through.) A listener off loopback
  exists only with a web-config (vpc_verify.shells.web_config): TLS, and basic auth or verified client
  certificates on every request; there any IP literal is a fine Host, since a rebound name cannot be one.
- **Bounded.** The agent accepts itself, in batches (no asyncio accept loop); the kernel hands over a
  connection only once it carries data (TCP_DEFER_ACCEPT). At most `max_connections` are open; past the cap a
  newcomer whose first bytes are a whole request head evicts the oldest connection that waits on its client
  (a slowloris, an idle keep-alive, a TLS handshake stalled past a grace), never one whose request the port
  has yet to read; a newcomer with a partial head is closed at once (cheap, so a connection storm drains the
  listen queue rather than overflowing it). When none can go, newcomers wait in the kernel's queue (backlog
  2048) up to `ROOM_WAIT_S`, then get a 503 written without waiting and are closed. At most half the slots
  stream a /report or /metrics at once. A request head must arrive within `head_timeout_s`; every drain of
  a response waits at most `write_timeout_s` and a whole response `RESPONSE_BUDGET_S`; the read buffer holds
  at most one head (8 KiB), the write buffer one 64 KiB chunk: a report is encoded once per run by the loop
  and every client streams slices of the same bytes.
- **Quiet.** Running out of file descriptors while accepting, shedding, evictions and write timeouts are
  logged at most once per `LOG_INTERVAL_S` each, with a count; never a traceback per connection.
- **HTTP/1.1 by h11** (sans-I/O, the parser under httpx): 400 for a malformed request, 414 for a request line
  over 2 KiB, 431 for a head over 8 KiB, 408 for one that does not arrive in time, 505 for a version other
  than 1.0/1.1, 405 with Allow for a method other than GET and HEAD; HEAD answers GET's headers; keep-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import fcntl
import ipaddress
import json
import re
import resource
import socket
import ssl
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol, cast

import h11

from vpc_verify.logs import get_logger
from vpc_verify.shells.web_config import TooManyAuthAttempts, WebConfigSource

DEFAULT_MAX_CONNECTIONS = 256
# A wave of connects (2,000 at once) waits here while the port admits them, rather than losing SYNs (each lost
# one costs its client a 1 s retransmission). The kernel caps it at net.core.somaxconn (4096 by default).
DEFAULT_BACKLOG = 2048
DEFAULT_WRITE_TIMEOUT_S = 10.0
DEFAULT_HEAD_TIMEOUT_S = 5.0
RESPONSE_BUDGET_S = 60.0
MAX_HEAD_BYTES = 8192
MAX_REQUEST_LINE = 2048
MAX_REQUESTS_PER_CONNECTION = 100
CHUNK = 64 * 1024
SEND_BUFFER = 128 * 1024  # the kernel's buffer per connection (it doubles it): bounds what a stalled reader pins
ACCEPT_RETRY_S = 0.5  # after running out of descriptors, accept again after this long
ACCEPT_BATCH = 64
ROOM_WAIT_S = 0.1  # at the cap with nothing to evict, wait this long for a slot before shedding a newcomer
HANDSHAKE_GRACE_S = 1.0
LOG_INTERVAL_S = 60.0
FD_RESERVE = 256  # descriptors the port leaves to the checks, the state file and the AWS clients
MIN_CONNECTIONS = 8

JSON = b"application/json"
ALLOW = b"GET, HEAD"
_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    401: b"Unauthorized",
    404: b"Not Found",
    405: b"Method Not Allowed",
    408: b"Request Timeout",
    414: b"URI Too Long",
    421: b"Misdirected Request",
    429: b"Too Many Requests",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
    501: b"Not Implemented",
    503: b"Service Unavailable",
    505: b"HTTP Version Not Supported",
}
_HOST = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._-]+))(?::(?P<port>[0-9]{1,5}))?$")
_EXHAUSTED = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_SHED = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
    b"Retry-After: 1\r\nConnection: close\r\n\r\ntoo many conns"
)


class Routes(Protocol):
    """What the port serves; the agent loop implements it. Each call is cheap: bodies are built once per run."""

    def report_body(self) -> bytes | None:
        """The last report as JSON bytes, or None before the first run finished."""

    def health(self) -> tuple[int, dict[str, Any]]:
        """The agent's liveness: a status code and a small JSON document."""

    def metrics(self) -> tuple[int, bytes, bytes]:
        """The Prometheus exposition: status, body and content type (501 with a reason without the library)."""


@dataclass(frozen=True, slots=True)
class Listener:
    """One address to serve on: plain HTTP on loopback, or TLS with authentication (`web`) anywhere."""

    host: str
    port: int
    web: WebConfigSource | None = None

    @property
    def loopback(self) -> bool:
        """The address is loopback (`localhost` counts)."""
        return is_loopback(self.host)


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of the agent the port may take."""

    max_connections: int = DEFAULT_MAX_CONNECTIONS
    backlog: int = DEFAULT_BACKLOG
    write_timeout_s: float = DEFAULT_WRITE_TIMEOUT_S
    head_timeout_s: float = DEFAULT_HEAD_TIMEOUT_S


class Phase(Enum):
    """Where a connection is: only WAITING ones may be evicted for a newcomer."""

    WAITING = "waiting"  # handshake, request head, or idle between requests
    ANSWERING = "answering"


class _Conn:
    __slots__ = ("idle", "listener", "partial", "phase", "since", "task", "transport")

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.phase = Phase.WAITING
        self.idle = False  # everything the client sent is processed and the port waits for more
        self.partial = False  # part of a request head has arrived
        self.since = time.monotonic()
        self.task: asyncio.Task[None] | None = None
        self.transport: asyncio.BaseTransport | None = None

    def unread(self) -> int:
        """Bytes the client sent that the kernel holds for the port (FIONREAD): the port is behind, not it."""
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        if sock is None:
            return 0
        fd = sock.fileno()
        if fd < 0:
            return 0  # closed already
        buf = bytearray(4)
        try:
            fcntl.ioctl(fd, termios.FIONREAD, buf)
        except (OSError, ValueError):
            return 0
        return int.from_bytes(buf, sys.byteorder)

    def evictable(self, now: float) -> bool:
        """Waiting on the client: idle, or still in a TLS handshake after a grace (a request already sent but
        not yet read by the port is never evicted: the delay is ours, not the client's)."""
        return self.phase is Phase.WAITING and (self.idle or now - self.since > HANDSHAKE_GRACE_S)

    def drop(self) -> None:
        """Close at once, discarding whatever is buffered."""
        if self.transport is not None:
            abort = getattr(self.transport, "abort", None)
            (abort or self.transport.close)()
        elif self.task is not None:
            self.task.cancel()


class _Protocol(asyncio.StreamReaderProtocol):
    """Streams, and a connection that is no longer idle the moment bytes arrive (before its task resumes)."""

    def __init__(self, reader: asyncio.StreamReader, conn: _Conn) -> None:
        super().__init__(reader)
        self._conn = conn

    def data_received(self, data: bytes) -> None:
        self._conn.idle = False
        super().data_received(data)


class _Reject(Exception):
    """Answer with this status and close."""

    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class RateLog:
    """Log an event at most once per interval, with how many times it happened since it was last logged."""

    def __init__(self, log: Any, interval_s: float = LOG_INTERVAL_S, clock: Callable[[], float] = time.monotonic):
        self._log = log
        self._interval = interval_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._pending: dict[str, int] = {}
        self.totals: dict[str, int] = {}

    def note(self, event: str, level: str = "warning", **fields: Any) -> None:
        """Count one occurrence; log it when the event was last logged an interval ago (or never)."""
        self.totals[event] = self.totals.get(event, 0) + 1
        self._pending[event] = self._pending.get(event, 0) + 1
        now = self._clock()
        last = self._last.get(event)
        if last is None or now - last >= self._interval:
            count = self._pending.pop(event)
            self._last[event] = now
            getattr(self._log, level)(event, count=count, interval_s=self._interval, **fields)

    def flush(self) -> None:
        """Log what was counted but not yet logged (at shutdown)."""
        for event, count in list(self._pending.items()):
            self._log.warning(event, count=count, interval_s=self._interval)
        self._pending.clear()


def fit_to_fd_limit(limits: Limits, reserve: int = FD_RESERVE) -> Limits:
    """Limits whose connections take at most half the descriptors left after `reserve` (kept for the checks).

    With the unit's limit (65536) the configured cap stands; under a soft limit of 1024 the port still takes
    at most (1024 - 256) / 2 = 384 descriptors, so a flood never leaves a probe without a socket.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limits
    room = max(MIN_CONNECTIONS, (soft - reserve) // 2)
    if limits.max_connections <= room:
        return limits
    return dataclasses.replace(limits, max_connections=room)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`."""
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_allowed(authority: str, *, loopback_only: bool, names: frozenset[str]) -> bool | None:
    """Whether a Host value may be answered: True, False (foreign: 421), None (malformed: 400).

    On loopback: loopback addresses, `localhost` and the operator's `names`. Off loopback (always behind
    authentication): any IP literal as well, since a rebinding page can only send a name.
    """
    m = _HOST.match(authority)
    if m is None:
        return None
    port = m.group("port")
    if port is not None and int(port) > 65535:
        return None
    name = m.group("v6") or m.group("name")
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        if m.group("v6"):
            return None
        host = name.rstrip(".").lower()
        return host == "localhost" or host in names
    return ip.is_loopback if loopback_only else True


class StatusServer:
    """The port: `start()` binds every listener, `close()` stops accepting and drops every connection."""

    def __init__(
        self,
        routes: Routes,
        listeners: list[Listener],
        *,
        allow_hosts: tuple[str, ...] = (),
        limits: Limits | None = None,
    ) -> None:
        for listener in listeners:
            if not listener.loopback and (listener.web is None or not listener.web.config.authenticates):
                raise ValueError(
                    f"{listener.host}: off loopback the port needs TLS and credentials (a web-config with "
                    "basic_auth_users or RequireAndVerifyClientCert)"
                )
        self.routes = routes
        self.listeners = listeners
        self.limits = fit_to_fd_limit(limits or Limits())
        self.names = frozenset(h.rstrip(".").lower() for h in allow_hosts)
        self.addresses: list[tuple[str, int]] = []
        self._log = get_logger(component="http")
        self.events = RateLog(self._log)
        self._sockets: list[socket.socket] = []
        self._accepters: list[asyncio.Task[None]] = []
        self._conns: dict[_Conn, None] = {}  # insertion order: oldest first
        self._streaming = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._deferred: set[int] = set()  # listening sockets with TCP_DEFER_ACCEPT: data is there on accept

    # --- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and listen; `addresses` then holds each listener's (host, port)."""
        for listener in self.listeners:
            family = socket.AF_INET6 if ":" in listener.host else socket.AF_INET
            host = "127.0.0.1" if listener.host == "localhost" else listener.host
            sock = socket.create_server((host, listener.port), family=family, backlog=self.limits.backlog)
            sock.setblocking(False)
            try:
                # The kernel hands over a connection only once it carries data: a client that connects and
                # sends nothing never takes a descriptor or a slot (HTTP and TLS clients speak first).
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, max(1, int(self.limits.head_timeout_s)))
                self._deferred.add(sock.fileno())
            except (OSError, AttributeError):
                pass
            self._sockets.append(sock)
            self.addresses.append((listener.host, int(sock.getsockname()[1])))
            self._accepters.append(asyncio.create_task(self._accept_loop(sock, listener)))
            self._log.info(
                "http_listening",
                address=f"{listener.host}:{sock.getsockname()[1]}",
                tls=listener.web is not None,
                max_connections=self.limits.max_connections,
            )

    async def close(self) -> None:
        """Stop accepting, drop every connection, log what was counted."""
        for task in self._accepters:
            task.cancel()
        await asyncio.gather(*self._accepters, return_exceptions=True)
        for sock in self._sockets:
            sock.close()
        for conn in list(self._conns):
            conn.drop()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2.0)
        self.events.flush()

    def stats(self) -> dict[str, Any]:
        """Open connections and what the port refused since start (on /healthz)."""
        totals = self.events.totals
        return {
            "connections": len(self._conns),
            "max_connections": self.limits.max_connections,
            "evicted": totals.get("http_connection_evicted", 0),
            "shed": totals.get("http_connection_shed", 0),
            "incomplete_closed": totals.get("http_connection_incomplete", 0),
            "write_timeouts": totals.get("http_write_timeout", 0),
            "accept_exhausted": totals.get("http_accept_exhausted", 0),
        }

    # --- accepting -----------------------------------------------------------------------------------

    async def _accept_loop(self, sock: socket.socket, listener: Listener) -> None:
        """Accept until closed; a bug in one round is logged (rate-limited) and accepting goes on."""
        while True:
            try:
                await self._accept_round(sock, listener)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the port must never stop accepting
                self.events.note("http_accept_failed", level="error", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(ACCEPT_RETRY_S)

    async def _accept_round(self, sock: socket.socket, listener: Listener) -> None:
        """Wait until the socket is readable, then accept a batch (as asyncio's own loop does), each admitted."""
        loop = asyncio.get_running_loop()
        room = await self._room()
        await self._readable(loop, sock)
        for _ in range(ACCEPT_BATCH):
            full = len(self._conns) >= self.limits.max_connections and self._victim() is None
            if full and room:
                break  # back to _room: the rest wait in the kernel's queue
            room = room and not full  # waited long enough: this one is shed (503) by _admit
            try:
                client, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                if exc.errno in _EXHAUSTED:
                    # Out of descriptors: pending connections wait in the kernel's queue; try again shortly.
                    self.events.note("http_accept_exhausted", error=exc.strerror or str(exc))
                    await asyncio.sleep(ACCEPT_RETRY_S)
                    break
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                self.events.note("http_accept_failed", level="error", error=str(exc))
                await asyncio.sleep(ACCEPT_RETRY_S)
                break
            try:
                client.setblocking(False)
                self._admit(client, listener, deferred=sock.fileno() in self._deferred)
            except BaseException:
                client.close()
                raise
        await asyncio.sleep(0)  # let the admitted connections run before the next batch

    @staticmethod
    async def _readable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
        readable = loop.create_future()

        def ready() -> None:
            if not readable.done():
                readable.set_result(None)

        loop.add_reader(sock.fileno(), ready)
        try:
            await readable
        finally:
            loop.remove_reader(sock.fileno())

    def _victim(self) -> _Conn | None:
        """The oldest connection that waits on its client, with nothing of its unread."""
        now = time.monotonic()
        return next((c for c in self._conns if c.evictable(now) and not c.unread()), None)

    async def _room(self) -> bool:
        """At the cap, wait briefly for a slot or an evictable connection (newcomers wait in the kernel's
        queue); False when none came in time: the next newcomer is shed."""
        waited = 0.0
        while len(self._conns) >= self.limits.max_connections and self._victim() is None:
            if waited >= ROOM_WAIT_S:
                return False
            await asyncio.sleep(0.005)
            waited += 0.005
        return True

    def _admit(self, client: socket.socket, listener: Listener, *, deferred: bool = False) -> None:
        if len(self._conns) >= self.limits.max_connections:
            if deferred and listener.web is None and not _whole_head(client):
                # Full, and this client has not sent a whole request head in its first bytes, as every HTTP
                # client does: it may not push out one that waits. Closing costs a fraction of a connection,
                # so a storm of them drains the listen queue instead of overflowing it.
                self.events.note(
                    "http_connection_incomplete", level="info", max_connections=self.limits.max_connections
                )
                client.close()
                return
            victim = self._victim()
            if victim is None:
                self.events.note("http_connection_shed", max_connections=self.limits.max_connections)
                with contextlib.suppress(OSError):
                    client.recv(MAX_HEAD_BYTES)  # the request, read: closing on unread data would reset instead
                with contextlib.suppress(OSError):
                    client.send(_SHED)
                    client.shutdown(socket.SHUT_WR)
                client.close()
                return
            del self._conns[victim]
            victim.drop()
            self.events.note("http_connection_evicted", level="info", max_connections=self.limits.max_connections)
        with contextlib.suppress(OSError):
            client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            if client.family in (socket.AF_INET, socket.AF_INET6):
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Conn(listener)
        self._conns[conn] = None
        task = asyncio.create_task(self._serve(conn, client))
        conn.task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- one connection ------------------------------------------------------------------------------

    async def _serve(self, conn: _Conn, client: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        limits = self.limits
        writer: asyncio.StreamWriter | None = None
        try:
            reader = asyncio.StreamReader(limit=MAX_HEAD_BYTES, loop=loop)
            protocol = _Protocol(reader, conn)
            web = conn.listener.web
            context = None
            if web is not None:
                web.refresh()
                context = web.context
            transport, _ = await loop.connect_accepted_socket(
                lambda: protocol, client, ssl=context, ssl_handshake_timeout=limits.head_timeout_s if context else None
            )
            conn.transport = transport
            if conn not in self._conns:  # evicted during the handshake
                conn.drop()
                return
            assert isinstance(transport, asyncio.Transport)
            transport.set_write_buffer_limits(high=CHUNK)
            writer = asyncio.StreamWriter(transport, protocol, reader, loop)
            if web is not None and not web.config.san_allowed(transport.get_extra_info("peercert")):
                return
            await self._requests(conn, reader, writer)
            await self._close(writer)
        except (OSError, ssl.SSLError, TimeoutError, EOFError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # a bug must not take the agent down, nor flood its log
            self.events.note("http_handler_error", level="error", error=f"{type(exc).__name__}: {exc}")
        finally:
            self._conns.pop(conn, None)
            if writer is not None:
                writer.transport.abort()  # a no-op after a clean close
                # Consume how the stream ended (a reset, say): left unread, its future logs a traceback when
                # collected.
                with contextlib.suppress(BaseException):
                    await writer.wait_closed()
            elif conn.transport is not None:
                conn.drop()
            else:
                client.close()
            conn.transport = conn.task = None

    async def _close(self, writer: asyncio.StreamWriter) -> None:
        """Send what is still buffered (the end of a response), then FIN; within the write timeout."""
        transport = writer.transport
        if transport.is_closing():
            return
        with contextlib.suppress(OSError):
            if transport.can_write_eof():
                transport.write_eof()
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), self.limits.write_timeout_s)
        except TimeoutError:
            self.events.note("http_write_timeout", write_timeout_s=self.limits.write_timeout_s)

    async def _requests(self, conn: _Conn, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        h = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        for _ in range(MAX_REQUESTS_PER_CONNECTION):
            conn.phase = Phase.WAITING
            try:
                request = await self._read_request(conn, h, reader)
            except _Reject as reject:
                conn.phase = Phase.ANSWERING
                await self._send_error(writer, reject)
                return
            if request is None:
                return
            conn.phase = Phase.ANSWERING
            try:
                whole = isinstance(h.next_event(), h11.EndOfMessage)  # a request without a body ends at once
            except h11.RemoteProtocolError:
                whole = False
            if not await self._answer(conn, h, request, writer) or not whole:
                return  # a body we do not read: answered, then closed
            if h.our_state is not h11.DONE or h.their_state is not h11.DONE:
                return  # the client asked to close
            h.start_next_cycle()

    async def _read_request(self, conn: _Conn, h: h11.Connection, reader: asyncio.StreamReader) -> h11.Request | None:
        """The next request, None when the client left or stayed silent; raises _Reject for a bad one."""
        try:
            # One timer for the whole head (a timer per read costs more than the read under a flood).
            async with asyncio.timeout(self.limits.head_timeout_s):
                return await self._read_head(conn, h, reader)
        except TimeoutError:
            if conn.partial:  # the client sent part of a request, too slowly
                raise _Reject(408, "the request head did not arrive in time") from None
            return None

    async def _read_head(self, conn: _Conn, h: h11.Connection, reader: asyncio.StreamReader) -> h11.Request | None:
        line = 0  # bytes of the request line so far, until its end is seen
        conn.partial = False
        eof = False
        while True:
            try:
                event = h.next_event()
            except h11.RemoteProtocolError as exc:
                if eof:
                    return None  # the client left mid-request: nobody to answer
                status = exc.error_status_hint if exc.error_status_hint in _REASONS else 400
                raise _Reject(status, str(exc)) from None
            if isinstance(event, h11.Request):
                # h11 bounds what it buffers while a head is incomplete; a head that arrived whole in the
                # last read is measured here.
                size = len(event.method) + len(event.target) + 12 + sum(len(k) + len(v) + 4 for k, v in event.headers)
                if size > MAX_HEAD_BYTES:
                    raise _Reject(431, f"request head over {MAX_HEAD_BYTES} bytes")
                return event
            if event is not h11.NEED_DATA:
                return None  # ConnectionClosed
            # Idle only while suspended on the client: read() returns at once, without yielding, when the
            # stream holds data already.
            conn.idle = True
            try:
                data = await reader.read(MAX_HEAD_BYTES)
            finally:
                conn.idle = False
            eof = not data
            if data and line >= 0:
                end = data.find(b"\n")
                if end < 0:
                    line += len(data)
                    if line > MAX_REQUEST_LINE:
                        raise _Reject(414, f"request line over {MAX_REQUEST_LINE} bytes")
                else:
                    if line + end > MAX_REQUEST_LINE:
                        raise _Reject(414, f"request line over {MAX_REQUEST_LINE} bytes")
                    line = -1
            conn.partial = conn.partial or bool(data.strip())
            h.receive_data(data)

    async def _answer(self, conn: _Conn, h: h11.Connection, request: h11.Request, writer: asyncio.StreamWriter) -> bool:
        """Answer one parsed request; False when the connection must close."""
        web = conn.listener.web
        extra = [(k.encode(), v.encode()) for k, v in web.refresh().headers] if web is not None else []
        parsed = _parse_target(request)
        if isinstance(parsed, _Reject):
            await self._send_error(writer, parsed)
            return False
        host, path = parsed
        refused = await self._refuse(h, writer, request, web, host, extra)
        if refused is not None:
            return refused
        if request.method not in (b"GET", b"HEAD"):
            return await self._send(
                h, writer, request, 405, _json({"error": "only GET and HEAD"}), JSON, [*extra, (b"allow", ALLOW)]
            )
        return await self._route(h, writer, request, path, extra)

    async def _refuse(
        self,
        h: h11.Connection,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        web: WebConfigSource | None,
        host: bytes | None,
        extra: list[tuple[bytes, bytes]],
    ) -> bool | None:
        """The answer to a request that a foreign Host or missing credentials refuse; None when it may go on."""
        if host is not None:
            allowed = host_allowed(host.decode("ascii", "replace"), loopback_only=web is None, names=self.names)
            if allowed is None:
                await self._send_error(writer, _Reject(400, "a Host such as 127.0.0.1:9180"))
                return False
            if not allowed:
                return await self._send(h, writer, request, 421, b"", b"text/plain", extra)
        elif web is not None:
            await self._send_error(writer, _Reject(400, "a Host header"))
            return False
        if web is None:
            return None
        try:
            ok = await web.authorized(_header(request, b"authorization"))
        except TooManyAuthAttempts:
            return await self._send(h, writer, request, 429, b"", b"text/plain", [*extra, (b"retry-after", b"1")])
        if ok:
            return None
        challenge = (b"www-authenticate", b'Basic realm="vpc-verify"')
        return await self._send(h, writer, request, 401, b"", b"text/plain", [*extra, challenge])

    async def _route(
        self,
        h: h11.Connection,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        path: bytes,
        extra: list[tuple[bytes, bytes]],
    ) -> bool:
        """GET or HEAD of /healthz, /report or /metrics (at most half the slots stream the large ones)."""
        if path == b"/healthz":
            code, doc = self.routes.health()
            doc = {**doc, "http": self.stats()}
            return await self._send(h, writer, request, code, _json(doc), JSON, extra)
        if path not in (b"/report", b"/metrics"):
            body = _json({"error": "not found: GET /report, /healthz or /metrics"})
            return await self._send(h, writer, request, 404, body, JSON, extra)
        if self._streaming >= max(1, self.limits.max_connections // 2):
            self.events.note("http_connection_shed", max_connections=self.limits.max_connections)
            body = _json({"error": "busy: too many responses in flight, retry"})
            return await self._send(h, writer, request, 503, body, JSON, [*extra, (b"retry-after", b"1")])
        self._streaming += 1
        try:
            if path == b"/report":
                report = self.routes.report_body()
                if report is None:
                    return await self._send(
                        h, writer, request, 503, _json({"error": "no run has finished yet"}), JSON, extra
                    )
                return await self._send(h, writer, request, 200, report, JSON, extra)
            code, body, ctype = self.routes.metrics()
            return await self._send(h, writer, request, code, body, ctype, extra)
        finally:
            self._streaming -= 1

    async def _send(
        self,
        h: h11.Connection,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        status: int,
        body: bytes,
        ctype: bytes,
        extra: list[tuple[bytes, bytes]],
    ) -> bool:
        headers = [
            (b"content-type", ctype),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
            *extra,
        ]
        if status >= 400 and status != 404:
            headers.append((b"connection", b"close"))
        try:
            async with asyncio.timeout(RESPONSE_BUDGET_S):
                await self._write(
                    writer, h.send(h11.Response(status_code=status, headers=headers, reason=_REASONS[status]))
                )
                if request.method != b"HEAD":
                    view = memoryview(body)
                    for start in range(0, len(view), CHUNK):
                        # h11 frames a slice of the shared bytes without copying it (Content-Length framing).
                        chunk = cast(bytes, view[start : start + CHUNK])
                        for part in h.send_with_data_passthrough(h11.Data(data=chunk)) or ():
                            writer.write(part)
                        await self._drain(writer)
                await self._write(writer, h.send(h11.EndOfMessage()))
        except TimeoutError:
            self.events.note("http_write_timeout", info="whole response", budget_s=RESPONSE_BUDGET_S)
            writer.transport.abort()
            return False
        return status < 400 or status == 404

    async def _write(self, writer: asyncio.StreamWriter, data: bytes | None) -> None:
        if data:
            writer.write(data)
            await self._drain(writer)

    async def _drain(self, writer: asyncio.StreamWriter) -> None:
        if writer.transport.get_write_buffer_size() <= CHUNK:
            return  # below the high-water mark the protocol is not paused: nothing to wait for
        try:
            async with asyncio.timeout(self.limits.write_timeout_s):
                await writer.drain()
        except TimeoutError:
            # A client that does not read: drop it and what is buffered for it.
            self.events.note("http_write_timeout", write_timeout_s=self.limits.write_timeout_s)
            writer.transport.abort()
            raise ConnectionAbortedError("write timeout") from None

    async def _send_error(self, writer: asyncio.StreamWriter, reject: _Reject) -> None:
        if writer.transport.is_closing():
            return  # evicted or gone: nobody to answer
        body = (reject.detail or _REASONS[reject.status].decode()).encode("ascii", "replace")[:200] + b"\n"
        extra = b"Allow: GET, HEAD\r\n" if reject.status == 405 else b""
        head = b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%bConnection: close\r\n\r\n" % (
            reject.status,
            _REASONS[reject.status],
            len(body),
            extra,
        )
        with contextlib.suppress(OSError, ConnectionError):
            await self._write(writer, head + body)


def _whole_head(client: socket.socket) -> bool:
    """The client's first bytes hold a whole request head (peeked, not read)."""
    try:
        data = client.recv(MAX_HEAD_BYTES, socket.MSG_PEEK)
    except OSError:
        return False
    return b"\r\n\r\n" in data or b"\n\n" in data


def _header(request: h11.Request, name: bytes) -> bytes | None:
    for key, value in request.headers:
        if key == name:
            return bytes(value)
    return None


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, default=str).encode() + b"\n"


def _parse_target(request: h11.Request) -> tuple[bytes | None, bytes] | _Reject:
    """(Host, path) of a request, origin-form or absolute-form; or why it is refused."""
    if request.http_version not in (b"1.0", b"1.1"):
        return _Reject(505, "HTTP/1.0 or HTTP/1.1")
    host = _header(request, b"host")
    target = request.target
    if target.startswith(b"/"):
        path = target.split(b"?", 1)[0]
    elif target[:7].lower() == b"http://" or target[:8].lower() == b"https://":
        authority, slash, tail = target.split(b"://", 1)[1].partition(b"/")
        host = authority
        path = (slash + tail).split(b"?", 1)[0] or b"/"
    elif request.method in (b"GET", b"HEAD"):
        return _Reject(400, "a target such as /report")
    else:
        path = b""
    if len(target) > MAX_REQUEST_LINE:
        return _Reject(414, f"request target over {MAX_REQUEST_LINE} bytes")
    return host, path
