"""Shared by the HTTP port's tests: routes with a body of a chosen size, and raw HTTP exchanges on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from pathlib import Path
from typing import Any

from vpc_verify.shells.status_http import Limits, Listener, StatusServer


class Routes:
    """What a loop would serve: a report of `size` bytes (shared), a health document, a small exposition."""

    def __init__(self, size: int = 2048) -> None:
        self.body: bytes | None = b"{" + b" " * max(0, size - 3) + b"}\n"

    def report_body(self) -> bytes | None:
        return self.body

    def health(self) -> tuple[int, dict[str, Any]]:
        return 200, {"status": "ok"}

    def metrics(self) -> tuple[int, bytes, bytes]:
        return 200, b"# TYPE up gauge\nup 1\n", b"text/plain; version=0.0.4; charset=utf-8"


async def serve(routes: Any = None, *, allow_hosts: tuple[str, ...] = (), **limits: Any) -> StatusServer:
    """A started port on 127.0.0.1:0."""
    server = StatusServer(
        routes or Routes(), [Listener("127.0.0.1", 0)], allow_hosts=allow_hosts, limits=Limits(**limits)
    )
    await server.start()
    return server


async def exchange(port: int, data: bytes, *, timeout: float = 5.0, host: str = "127.0.0.1") -> bytes:
    """Send `data`, read until the server closes (or `timeout`); the raw response bytes."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(data)
        await writer.drain()
        chunks = []
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(65536):
                chunks.append(chunk)
        return b"".join(chunks)
    finally:
        writer.close()


def status_of(response: bytes) -> int:
    """The status code of a raw response (0 when there is none)."""
    parts = response.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def headers_of(response: bytes) -> dict[str, str]:
    """The header fields of a raw response, lower-cased names."""
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head)}


def body_of(response: bytes) -> bytes:
    """The body of a raw response."""
    return response.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in response else b""


def open_fds(pid: int | str = "self") -> int:
    """Open descriptors of a process."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kb(pid: int | str = "self") -> int:
    """Resident set size of a process, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def hold(port: int, count: int, first_bytes: bytes = b"GET /healthz HTTP/1.1\r\n") -> list[socket.socket]:
    """`count` connections that send the start of a request and then nothing (blocking connects, bounded)."""
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        with contextlib.suppress(OSError):  # the port may have evicted it already: it still took a slot
            s.send(first_bytes)
        socks.append(s)
    return socks


def prometheus_binary(name: str) -> Path:
    """Prometheus's `prometheus` or `promtool`, unpacked by scripts/setup (a missing one fails the test)."""
    folder = Path(os.environ.get("VPC_VERIFY_PROMETHEUS_DIR", Path.home() / ".cache/vpc-verify/prometheus"))
    path = folder / name
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{path} is missing: run scripts/setup, which unpacks Prometheus's binaries there")
    return path
