"""The services behind the ENI addresses: TLS/HTTP listeners with healthy and faulty behaviours.

Run in-process (`running([...])`, a loop in a thread) or as the box's subprocess
(`python -m tests.testbed.targets --config FILE.json`, prints READY), so a benchmark measures only the client.

Behaviours: `tls` (TLS, then one HTTP answer with `http_status`), `plain` (HTTP without TLS), `silent`
(accept, never speak), `garbage` (non-TLS bytes, then close), `reset` (accept, then RST), `slow_tls` (wait
`delay_s` before the handshake), `slow_once` (the same, for the first connection only), `slow_headers` (TLS,
then the HTTP headers one byte every `delay_s`), `late` (nothing listens, so connects are refused, until
`delay_s` has passed; then `tls`), `relay` (plain TCP to `upstream`, "host:port": how a sandbox beside the box
reaches the AWS emulator on the box's loopback, as a VPC reaches the AWS APIs through an interface endpoint).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import signal
import socket
import ssl
import struct
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from tests.testbed import background

BEHAVIORS = ("tls", "plain", "silent", "garbage", "reset", "slow_tls", "slow_once", "slow_headers", "late", "relay")


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """One listener."""

    host: str
    port: int = 0
    behavior: str = "tls"
    certfile: str | None = None
    keyfile: str | None = None
    http_status: int = 200
    delay_s: float = 0.0
    upstream: str | None = None  # relay: host:port


@functools.lru_cache(maxsize=256)
def _context(certfile: str, keyfile: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    return ctx


def _response(status: int) -> bytes:
    return f"HTTP/1.1 {status} Status\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode()


async def _answer_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, spec: TargetSpec) -> None:
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    if spec.behavior == "slow_headers":
        for byte in _response(spec.http_status):
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(spec.delay_s)
    else:
        writer.write(_response(spec.http_status))
        await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _relay(spec: TargetSpec) -> object:
    assert spec.upstream is not None
    host, port = spec.upstream.rsplit(":", 1)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    return handle


def _handler(spec: TargetSpec) -> object:
    if spec.behavior == "relay":
        return _relay(spec)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if spec.behavior == "silent":
                await asyncio.wait_for(reader.read(), 60)
            elif spec.behavior == "garbage":
                writer.write(b"SSH-2.0-OpenSSH_9.6 not-tls\r\n" * 8)
                await writer.drain()
            elif spec.behavior == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            else:  # tls and slow_tls (the handshake is done by then), plain, slow_headers
                await _answer_http(reader, writer, spec)
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass  # the client hung up or gave up: its business
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    return handle


class _SlowTlsServer:
    """Accepts, leaves the ClientHello in the kernel's buffer for `delay_s`, then does the TLS handshake."""

    def __init__(self, spec: TargetSpec, ctx: ssl.SSLContext) -> None:
        self.spec, self.ctx = spec, ctx
        family = socket.AF_INET6 if ":" in spec.host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((spec.host, spec.port))
        self.sock.listen(1024)
        self.sock.setblocking(False)
        self.sockets = [self.sock]
        self.task = asyncio.ensure_future(self._accept())
        self.conns: set[asyncio.Task[None]] = set()
        self.served = 0

    async def _accept(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            conn, _ = await loop.sock_accept(self.sock)
            task = asyncio.ensure_future(self._later(conn))
            self.conns.add(task)
            task.add_done_callback(self.conns.discard)

    async def _later(self, conn: socket.socket) -> None:
        if self.spec.behavior == "slow_tls" or not self.served:
            await asyncio.sleep(self.spec.delay_s)
        self.served += 1
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        protocol = asyncio.StreamReaderProtocol(reader, _handler(self.spec))  # type: ignore[arg-type]
        try:
            await loop.connect_accepted_socket(lambda: protocol, conn, ssl=self.ctx, ssl_handshake_timeout=10)
        except (OSError, ssl.SSLError, TimeoutError):
            conn.close()

    def close(self) -> None:
        self.task.cancel()
        for task in self.conns:
            task.cancel()
        self.sock.close()


class _LateServer:
    """A TLS listener that only starts after `delay_s`: an endpoint still being created."""

    def __init__(self, spec: TargetSpec) -> None:
        if not spec.port:
            raise ValueError("behavior late needs a fixed port")
        self.spec = spec
        self.server: Any = None
        self.task = asyncio.ensure_future(self._later())

    async def _later(self) -> None:
        await asyncio.sleep(self.spec.delay_s)
        servers, _ = await start([TargetSpec(**{**asdict(self.spec), "behavior": "tls"})])
        self.server = servers[0]

    def close(self) -> None:
        self.task.cancel()
        if self.server is not None:
            self.server.close()


async def start(specs: list[TargetSpec]) -> tuple[list[Any], list[tuple[str, int]]]:
    """Start every listener on the running loop: (servers, bound addresses)."""
    servers: list[Any] = []
    bound = []
    for spec in specs:
        if spec.behavior not in BEHAVIORS:
            raise ValueError(f"unknown behavior {spec.behavior!r} (one of {', '.join(BEHAVIORS)})")
        if spec.behavior == "relay" and not spec.upstream:
            raise ValueError("behavior relay needs an upstream host:port")
        tls = spec.behavior in ("tls", "slow_headers")
        if (tls or spec.behavior in ("slow_tls", "slow_once")) and not spec.certfile:
            raise ValueError(f"behavior {spec.behavior} needs a certfile")
        if spec.behavior == "late":
            late = _LateServer(spec)
            servers.append(late)
            bound.append((spec.host, spec.port))
            continue
        if spec.behavior in ("slow_tls", "slow_once"):
            assert spec.certfile is not None
            slow = _SlowTlsServer(spec, _context(spec.certfile, spec.keyfile))
            servers.append(slow)
            bound.append(slow.sock.getsockname()[:2])
            continue
        ctx = _context(spec.certfile, spec.keyfile) if tls and spec.certfile else None
        family = socket.AF_INET6 if ":" in spec.host else socket.AF_INET
        server = await asyncio.start_server(
            _handler(spec),
            spec.host,
            spec.port,
            ssl=ctx,
            family=family,
            backlog=1024,
            ssl_handshake_timeout=10 if ctx else None,
        )
        servers.append(server)
        host, port = server.sockets[0].getsockname()[:2]
        bound.append((host, port))
    return servers, bound


@contextlib.contextmanager
def running(specs: list[TargetSpec]) -> Iterator[list[tuple[str, int]]]:
    """Serve `specs` on a loop in a background thread for the duration of the block."""
    with background.serving(lambda: start(specs), "targets") as ready:
        yield ready


def load_config(path: str) -> list[TargetSpec]:
    """The JSON list of TargetSpec fields the box writes."""
    with open(path) as f:
        return [TargetSpec(**item) for item in json.load(f)]


def dump_config(specs: list[TargetSpec], path: str) -> None:
    """Write specs for the subprocess."""
    with open(path, "w") as f:
        json.dump([asdict(s) for s in specs], f)


async def _serve_until_signalled(specs: list[TargetSpec]) -> None:
    servers, _ = await start(specs)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("READY", flush=True)
    await stop.wait()
    for s in servers:
        s.close()


def main(argv: list[str] | None = None) -> int:
    """CLI: serve the listeners of a config file until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m tests.testbed.targets", description=__doc__)
    parser.add_argument("--config", required=True, help="JSON list of target specs")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve_until_signalled(load_config(args.config)))
    except (OSError, ValueError) as exc:
        print(f"targets: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
