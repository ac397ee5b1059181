"""HTTP probe: one request to an IP with Host and SNI set to the service's name, timed per phase.

The body is read (and counted, not kept) up to `MAX_BODY_BYTES`, so a response whose status arrived but whose
body stalls is told apart from one that never answered: the result carries the status and the bytes received.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vpc_verify.checks import trust

MAX_BODY_BYTES = 1024 * 1024  # read this much of the body at most; the status is what is judged


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
    error: str = ""  # what happened, for people: the finding's message quotes it
    body_bytes: int | None = None  # body bytes received (also when the body stalled after the status)
    stalled_status: int | None = None  # a status that arrived before the body stalled (status_code is None then)


async def request(spec: HttpSpec) -> HttpResult:
    """Send the request and report; never raises.

    httpx dials the IP and sends SNI and Host = `server_name` (its `sni_hostname` extension); the whole
    exchange is bounded by `timeout_s`, so a server trickling its headers byte by byte still times out.
    """
    import asyncio

    import httpx  # imported on first use: most endpoints have no HTTP phase

    start = time.perf_counter()
    try:
        verify: ssl.SSLContext | bool = (
            trust.client_context(spec.verify, spec.ca_bundle) if spec.scheme == "https" else False
        )
    except (OSError, ssl.SSLError, ValueError) as exc:
        return HttpResult(HttpStatus.FAILED, None, 0.0, error=f"cannot load the trust store {spec.ca_bundle}: {exc}")
    marks: dict[str, float] = {}

    async def trace(event: str, info: dict[str, Any]) -> None:
        marks[event] = time.perf_counter()

    host = spec.address
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    url = f"{spec.scheme}://{host}:{spec.port}{spec.path}"
    extensions: dict[str, Any] = {"trace": trace}
    if spec.scheme == "https" and spec.server_name:
        extensions["sni_hostname"] = spec.server_name
    headers = {"Host": spec.server_name, "User-Agent": "vpc-verify", "Connection": "close"}
    timeout = httpx.Timeout(spec.timeout_s)
    status_code: int | None = None
    expected_length: str | None = None
    received = 0
    try:
        async with asyncio.timeout(spec.timeout_s):
            async with httpx.AsyncClient(
                verify=verify, timeout=timeout, trust_env=False, follow_redirects=False
            ) as client:
                request = client.build_request(spec.method, url, headers=headers, extensions=extensions)
                response = await client.send(request, stream=True)
                try:
                    status_code = response.status_code
                    expected_length = response.headers.get("content-length")
                    async for chunk in response.aiter_raw():
                        received += len(chunk)
                        if received >= MAX_BODY_BYTES:
                            break
                finally:
                    await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        limit = f"{spec.timeout_s * 1000:.0f} ms"
        if status_code is None:
            error = f"no response within {limit}"
        else:
            of = f" of {expected_length}" if expected_length and expected_length.isdigit() else ""
            error = f"status {status_code} arrived, then the body stalled: {received}{of} bytes within {limit}"
        return HttpResult(
            HttpStatus.TIMEOUT,
            None,
            _ms(start),
            *_phases(marks, start),
            error=error,
            body_bytes=received if status_code is not None else None,
            stalled_status=status_code,
        )
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if status_code is not None:
            error = f"status {status_code} arrived, then the body failed after {received} bytes: {error}"
        return HttpResult(
            HttpStatus.FAILED,
            None,
            _ms(start),
            *_phases(marks, start),
            error=error,
            body_bytes=received if status_code is not None else None,
            stalled_status=status_code,
        )
    except (OSError, ssl.SSLError, ValueError) as exc:
        return HttpResult(
            HttpStatus.FAILED, None, _ms(start), *_phases(marks, start), error=f"{type(exc).__name__}: {exc}"
        )
    return HttpResult(HttpStatus.OK, status_code, _ms(start), *_phases(marks, start), body_bytes=received)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _phases(marks: dict[str, float], start: float) -> tuple[float | None, float | None, float | None]:
    """connect, TLS and time-to-first-byte (ms) from httpcore's trace events."""

    def span(a: str, b: str) -> float | None:
        return (marks[b] - marks[a]) * 1000.0 if a in marks and b in marks else None

    connect = span("connection.connect_tcp.started", "connection.connect_tcp.complete")
    tls = span("connection.start_tls.started", "connection.start_tls.complete")
    sent = marks.get("http11.send_request_body.complete") or marks.get("http11.send_request_headers.complete")
    got = marks.get("http11.receive_response_headers.complete")
    ttfb = (got - sent) * 1000.0 if sent is not None and got is not None else None
    return connect, tls, ttfb
