"""Shared by the HTTP port's tests: routes with a body of a chosen size, and raw HTTP exchanges on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
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


@dataclass
class Agent:
    """A running agent and what it wrote to stderr."""

    proc: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes, float]:
        """GET path on a fresh connection: status, body, seconds."""
        t0 = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read(), time.monotonic() - t0
        finally:
            conn.close()

    def health(self) -> dict[str, object]:
        """The /healthz document."""
        _, body, _ = self.get("/healthz")
        doc: dict[str, object] = json.loads(body)
        return doc

    def wait_runs(self, runs: int, timeout: float = 30.0) -> None:
        """Until at least `runs` runs finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                if int(str(self.health()["runs"])) >= runs:
                    return
            time.sleep(0.1)
        raise AssertionError(f"fewer than {runs} runs within {timeout} s: {self.lines[-5:]}")


@contextlib.contextmanager
def start_agent(
    tmp_path: Path, topology: Path, *extra: str, interval: str = "1", nofile: int = 1024
) -> Iterator[Agent]:
    """`vpc-verify agent` with RLIMIT_NOFILE soft = hard = `nofile`, on 127.0.0.1:<free port>; stopped after."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vpc_verify",
            "agent",
            "-t",
            str(topology),
            "--interval",
            interval,
            "--jitter",
            "0",
            "--no-aws",
            "--http",
            "127.0.0.1:0",
            "--state-file",
            str(tmp_path / "state.json"),
            "--log-level",
            "warning",
            *extra,
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile)),
    )
    assert proc.stderr is not None
    lines: list[str] = []
    port = 0
    deadline = time.monotonic() + 20
    while not port and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if "serving GET" in line:
            port = int(line.rsplit(":", 1)[1])
    assert port, "".join(lines)
    running = Agent(proc, port, lines)

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        yield running
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)


def topology_file(tmp_path: Path, endpoints: int) -> Path:
    """`endpoints` service endpoints of two names each; DNS at 127.0.0.1:1 answers nothing (DNS_TIMEOUT)."""
    lines = [
        "version: 1",
        "region: us-east-1",
        "resolver: {nameservers: [127.0.0.1], port: 1, timeout_ms: 300}",
        "endpoints:",
    ]
    for i in range(endpoints):
        lines.append(
            f"  - {{name: service-{i:05d}-billing, type: service, "
            f"dns_names: [svc-{i:05d}.billing.internal.example.com, alt-{i:05d}.billing.internal.example.com]}}"
        )
    path = tmp_path / "topology.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def burst(port: int, count: int, first: bytes) -> list[socket.socket]:
    """`count` connections started at once (non-blocking), each sending `first` when it is up; held."""
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    deadline = time.monotonic() + 5
    pending = set(socks)
    while pending and time.monotonic() < deadline:
        for s in list(pending):
            with contextlib.suppress(BlockingIOError, InterruptedError):
                try:
                    s.send(first)
                    pending.discard(s)
                except OSError as exc:
                    if exc.errno not in (11, 115, 107):  # EAGAIN, EINPROGRESS, ENOTCONN: not up yet
                        pending.discard(s)
        time.sleep(0.01)
    return socks


def still_open(held: list[socket.socket]) -> list[socket.socket]:
    """The held connections the agent has not closed; those it closed (evicted) are closed here too."""
    alive = []
    for s in held:
        try:
            if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                s.close()  # the agent evicted it
                continue
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            continue
        alive.append(s)
    return alive


def listen_overflows() -> int:
    """TcpExt ListenOverflows of this namespace."""
    rows = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines() if line.startswith("TcpExt:")]
    return int(dict(zip(rows[0], rows[1], strict=True))["ListenOverflows"])
