"""TCP probe: connect to address:port with a timeout and time it.

Timeout (drops), refused (RST) and unreachable (no route, ICMP) are told apart and returned as data.
"""

from __future__ import annotations

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


async def connect(spec: TcpSpec) -> TcpResult:
    """Connect, close, and report; never raises."""
    raise NotImplementedError
