"""HTTP probe: one request to an IP with Host and SNI set to the service's name, timed per phase."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class HttpSpec:
    """One request: `scheme://address:port/path` with Host/SNI `server_name`."""

    address: str
    port: int
    server_name: str
    path: str = "/"
    method: str = "GET"
    scheme: str = "https"
    timeout_s: float = 2.0
    verify: bool = True
    ca_bundle: str | None = None


class HttpStatus(StrEnum):
    """Whether a response came back (its status code is judged elsewhere)."""

    OK = "ok"
    TIMEOUT = "timeout"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class HttpResult:
    """The response status code and the time to it, with the phases httpx's trace reported."""

    status: HttpStatus
    status_code: int | None
    ms: float
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    error: str = ""


async def request(spec: HttpSpec) -> HttpResult:
    """Send the request and report; never raises."""
    raise NotImplementedError
