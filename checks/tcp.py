"""TCP probe: connect to address:port with a timeout and time it.

Timeout (drops), refused (RST) and unreachable (no route, ICMP) are told apart and returned as data.
"""

from __future__ import annotations

import asyncio
import errno
import operator
import os
import socket
import sys
import time
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class TcpSpec:
    """Where to connect and how long to wait for the connection."""

    address: str
    port: int
    timeout_s: float = 2.0


class TcpStatus(StrEnum):
    """The outcome of one connect."""

    OK = "ok"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class TcpResult:
    """How the connect went and how long it took (ms until established or until it failed)."""

    address: str
    port: int
    status: TcpStatus
    ms: float
    error: str = ""
    local_address: str | None = None  # the probe's own source address and port (flow-log evidence matches
    local_port: int | None = None  # on them, so no other traffic is taken for this probe's)

    def __reduce__(self) -> tuple[type[TcpResult], tuple[Any, ...]]:
        # Pickled as its fields in order: a worker sends thousands, and the dataclass's own state methods cost
        # three times as much.
        return (TcpResult, _TCPRESULT_FIELDS(self))


_TCPRESULT_FIELDS = operator.attrgetter(*(f.name for f in fields(TcpResult)))


_UNREACHABLE = frozenset(
    {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}
)


_NONBLOCK = getattr(socket, "SOCK_NONBLOCK", 0)


def nonblocking_socket(family: socket.AddressFamily, kind: socket.SocketKind) -> socket.socket:
    """A non-blocking socket, made so by the socket call itself where the system can (Linux: two fcntl calls
    fewer per probe)."""
    sock = socket.socket(family, kind | _NONBLOCK)
    if not _NONBLOCK:
        sock.setblocking(False)
    return sock


def address_family(address: str) -> socket.AddressFamily:
    """AF_INET or AF_INET6 for an IP address; ValueError when it is not one (inet_pton: a tenth of the cost of
    parsing it with ipaddress, once per probe)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        socket.inet_pton(family, address)
    except OSError:
        raise ValueError(f"not an IP address: {address!r}") from None
    return family


async def connect(spec: TcpSpec) -> TcpResult:
    """Connect, close, and report; never raises."""
    sock, result = await open_socket(spec)
    if sock is not None:
        sock.close()
    return result


async def _connect(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, address: tuple[str, int], timeout_s: float
) -> None:
    """loop.sock_connect for an address that is already an IP: no resolution step, one writer callback, and
    a timer for the deadline (TimeoutError) where asyncio.timeout would cost a context manager per connect."""
    err = sock.connect_ex(address)
    if err in (errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY):
        done: asyncio.Future[None] = loop.create_future()
        fd = sock.fileno()

        def writable() -> None:
            if not done.done():
                done.set_result(None)

        def expired() -> None:
            if not done.done():
                done.set_exception(TimeoutError())

        loop.add_writer(fd, writable)
        timer = loop.call_at(loop.time() + timeout_s, expired)
        try:
            await done
        finally:
            timer.cancel()
            loop.remove_writer(fd)
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if err:
        raise OSError(err, os.strerror(err))


async def open_socket(spec: TcpSpec) -> tuple[socket.socket | None, TcpResult]:
    """Connect a non-blocking socket; the caller owns the socket when the status is OK (TLS reuses it)."""
    start = time.perf_counter()
    try:
        family = address_family(spec.address)
    except ValueError:
        return None, not_an_address(spec.address, spec.port)
    sock = nonblocking_socket(family, socket.SOCK_STREAM)
    loop = asyncio.get_running_loop()
    status, error = TcpStatus.OK, ""
    try:
        await _connect(loop, sock, (spec.address, spec.port), spec.timeout_s)
    except TimeoutError:
        status, error = TcpStatus.TIMEOUT, timed_out(spec.timeout_s)
    except OSError as exc:
        status, error = failure(exc)
    except BaseException:  # cancelled from outside: do not leak the socket
        sock.close()
        raise
    result = outcome(sock, spec.address, spec.port, status, (time.perf_counter() - start) * 1000.0, error)
    if status is not TcpStatus.OK:
        sock.close()
        return None, result
    return sock, result


def not_an_address(address: str, port: int) -> TcpResult:
    """The result for an address that is not an IP address (nothing was sent)."""
    return TcpResult(address, port, TcpStatus.ERROR, 0.0, f"not an IP address: {address!r}")


def timed_out(timeout_s: float) -> str:
    """What a connect that saw no answer within `timeout_s` says."""
    return f"no answer to SYN within {timeout_s * 1000:.0f} ms"


def failure(exc: OSError) -> tuple[TcpStatus, str]:
    """The status and message of a connect that failed with `exc` (OK for a reset: see below)."""
    if isinstance(exc, ConnectionRefusedError):
        return TcpStatus.REFUSED, "connection refused (RST)"
    if isinstance(exc, ConnectionResetError):
        # Established, then reset before the connect was reported (a server that accepts and resets at once):
        # the port answered; the next phase meets the reset and says so.
        return TcpStatus.OK, ""
    status = TcpStatus.UNREACHABLE if exc.errno in _UNREACHABLE else TcpStatus.ERROR
    return status, f"{exc.strerror or exc} (errno {exc.errno})" if exc.errno else str(exc)


def outcome(sock: socket.socket, address: str, port: int, status: TcpStatus, ms: float, error: str) -> TcpResult:
    """The connect's result, with the socket's own end (when it has one)."""
    try:
        local = sock.getsockname()
        # One string for the agent's own address, not one per probe: a run holds every result until it reports.
        here, local_port = (sys.intern(str(local[0])), int(local[1])) if local[1] else (None, None)
    except OSError:
        here, local_port = None, None
    return TcpResult(address, port, status, ms, error, here, local_port)
