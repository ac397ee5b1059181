"""TCP probe: connect to address:port with a timeout and time it.

Timeout (drops), refused (RST) and unreachable (no route, ICMP) are told apart and returned as data.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import time
from dataclasses import dataclass
from enum import StrEnum


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


_UNREACHABLE = frozenset(
    {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}
)


async def connect(spec: TcpSpec) -> TcpResult:
    """Connect, close, and report; never raises."""
    sock, result = await open_socket(spec)
    if sock is not None:
        sock.close()
    return result


async def open_socket(spec: TcpSpec) -> tuple[socket.socket | None, TcpResult]:
    """Connect a non-blocking socket; the caller owns the socket when the status is OK (TLS reuses it)."""
    start = time.perf_counter()
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(spec.address).version == 6 else socket.AF_INET
    except ValueError:
        return None, TcpResult(spec.address, spec.port, TcpStatus.ERROR, 0.0, f"not an IP address: {spec.address!r}")
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    status, error = TcpStatus.OK, ""
    try:
        async with asyncio.timeout(spec.timeout_s):
            await loop.sock_connect(sock, (spec.address, spec.port))
    except TimeoutError:
        status, error = TcpStatus.TIMEOUT, f"no answer to SYN within {spec.timeout_s * 1000:.0f} ms"
    except ConnectionRefusedError:
        status, error = TcpStatus.REFUSED, "connection refused (RST)"
    except ConnectionResetError:
        # Established, then reset before the connect was reported (a server that accepts and resets at once):
        # the port answered; the next phase meets the reset and says so.
        pass
    except OSError as exc:
        unreachable = exc.errno in _UNREACHABLE
        status = TcpStatus.UNREACHABLE if unreachable else TcpStatus.ERROR
        error = f"{exc.strerror or exc} (errno {exc.errno})" if exc.errno else str(exc)
    except BaseException:  # cancelled from outside: do not leak the socket
        sock.close()
        raise
    ms = (time.perf_counter() - start) * 1000.0
    try:
        local = sock.getsockname()
        here, port = (str(local[0]), int(local[1])) if local[1] else (None, None)
    except OSError:
        here, port = None, None
    if status is not TcpStatus.OK:
        sock.close()
        return None, TcpResult(spec.address, spec.port, status, ms, error, here, port)
    return sock, TcpResult(spec.address, spec.port, status, ms, "", here, port)
