"""Real servers on 127.0.0.1:0 for the probe tests: TLS with trustme certificates, plain TCP behaviours."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import trustme

from tests.testbed.ports import refusing_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
NAME = "svc.example.com"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """The CA the probes trust (through a CA bundle file)."""
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_bundle(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The trusted CA's PEM file."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(ca: trustme.CA, *names: str, not_after: dt.datetime | None = None) -> ssl.SSLContext:
    """A server context with a leaf certificate for `names` issued by `ca`."""
    if not_after is None:
        cert = ca.issue_cert(*names)
    else:
        cert = ca.issue_cert(*names, not_before=not_after - dt.timedelta(days=30), not_after=not_after)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    return ctx


async def http_answer(status: int = 200) -> Handler:
    """A handler that answers one HTTP/1.1 request with `status`."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    return handle


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[int]]]:
    """Start a server on 127.0.0.1:0 with a handler and optional TLS context; returns its port."""
    servers: list[asyncio.base_events.Server] = []

    async def start(handler: Handler, ctx: ssl.SSLContext | None = None) -> int:
        server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ctx)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback TCP port that refuses every connection for the whole test (tests/testbed/ports.py)."""
    with refusing_port("tcp") as port:
        yield port
