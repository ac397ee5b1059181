"""The HTTP probe: httpx dialing the IP with SNI and Host set to the service name, timed per phase."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import trustme

from tests.checks.conftest import NAME, http_answer, server_context
from vpc_verify.checks.http import HttpSpec, HttpStatus, request

Serve = Callable[..., Awaitable[int]]


async def test_status_and_phases_over_https(serve: Serve, ca: trustme.CA, ca_bundle: str) -> None:
    seen: dict[str, str] = {}

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        seen["host"] = next(
            line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("host:")
        )
        writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    ctx = server_context(ca, NAME)
    ctx.sni_callback = lambda _obj, name, _ctx: seen.__setitem__("sni", name or "")
    port = await serve(handler, ctx)
    result = await request(HttpSpec("127.0.0.1", port, NAME, path="/health", ca_bundle=ca_bundle))
    assert result.status is HttpStatus.OK, result.error
    assert result.status_code == 503
    assert seen == {"host": NAME, "sni": NAME}
    assert result.connect_ms is not None and result.tls_ms is not None and result.ttfb_ms is not None
    assert 0 < result.ms < 2000


async def test_plain_http(serve: Serve) -> None:
    port = await serve(await http_answer(204))
    result = await request(HttpSpec("127.0.0.1", port, NAME, scheme="http"))
    assert (result.status, result.status_code) == (HttpStatus.OK, 204)
    assert result.tls_ms is None


async def test_headers_trickled_past_the_timeout_time_out(serve: Serve, ca: trustme.CA, ca_bundle: str) -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.02)  # each read finishes quickly: only a whole-exchange bound catches it
        except (ConnectionError, OSError):
            pass
        writer.close()

    port = await serve(trickle, server_context(ca, NAME))
    result = await request(HttpSpec("127.0.0.1", port, NAME, timeout_s=0.5, ca_bundle=ca_bundle))
    assert result.status is HttpStatus.TIMEOUT
    assert result.status_code is None
    assert 450 < result.ms < 1500


async def test_refused_is_a_failure_result(closed_port: int) -> None:
    result = await request(HttpSpec("127.0.0.1", closed_port, NAME, timeout_s=1.0))
    assert result.status is HttpStatus.FAILED
    assert "Connect" in result.error


async def test_untrusted_certificate_fails_the_request(serve: Serve, ca_bundle: str) -> None:
    port = await serve(await http_answer(), server_context(trustme.CA(), NAME))
    result = await request(HttpSpec("127.0.0.1", port, NAME, ca_bundle=ca_bundle))
    assert result.status is HttpStatus.FAILED
    assert "certificate" in result.error.lower()
