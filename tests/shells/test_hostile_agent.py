"""The real agent (`vpc-verify agent` in a child process) under hostile clients, with the unit's old fd limit.

The child runs with RLIMIT_NOFILE soft = hard = 1024 (so raising the soft limit cannot help: what the shipped
unit had before it set LimitNOFILE), clients sit in this test's namespace on loopback, and every loop is bounded
in count and time. Figures are printed (pytest -s shows them).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.shells.helpers import (
    burst,
    listen_overflows,
    open_fds,
    rss_kb,
    start_agent,
    still_open,
    topology_file,
)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _client_fds() -> Iterator[None]:
    """This process holds thousands of client sockets: raise its own soft limit for the test."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_2000_concurrent_clients_leave_healthz_fast_and_fds_bounded(tmp_path: Path) -> None:
    with start_agent(tmp_path, topology_file(tmp_path, 2)) as a:
        a.wait_runs(1)
        overflows = listen_overflows()
        base_fds = open_fds(a.proc.pid)
        held: list[socket.socket] = []
        flood = threading.Thread(
            target=lambda: held.extend(burst(a.port, 2000, b"GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\n")),
            daemon=True,
        )
        t_flood = time.monotonic()
        flood.start()
        latencies, statuses, max_fds = [], [], 0
        try:
            while flood.is_alive() or time.monotonic() - t_flood < 3.0:
                status, _, took = a.get("/healthz", timeout=5)
                statuses.append(status)
                latencies.append(took)
                max_fds = max(max_fds, open_fds(a.proc.pid))
                time.sleep(0.02)
        finally:
            flood.join(timeout=10)
            for s in held:
                s.close()
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        health = a.health()
        print(
            f"\n2000 clients: {len(latencies)} fresh /healthz, max {latencies[-1] * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms; agent fds {base_fds} -> max {max_fds}; listen overflows "
            f"{listen_overflows() - overflows}; http {health['http']}"
        )
        assert set(statuses) == {200}, statuses
        assert listen_overflows() == overflows  # the wave waits in the listen queue: no SYN lost
        assert latencies[-1] < 1.0, latencies[-5:]
        assert max_fds <= base_fds + 256 + 64 + 8, max_fds  # the cap, plus one accept batch closing
        assert not any("Traceback" in line for line in a.lines), a.lines[-5:]


def test_connect_reset_cycles_rarely_drop_a_syn(tmp_path: Path) -> None:
    with start_agent(tmp_path, topology_file(tmp_path, 1)) as a:
        a.wait_runs(1)
        overflows = listen_overflows()
        stalls = 0
        linger = struct.pack("ii", 1, 0)
        t0 = time.monotonic()
        for _ in range(3000):
            t1 = time.monotonic()
            s = socket.create_connection(("127.0.0.1", a.port), timeout=5)
            stalls += time.monotonic() - t1 > 0.5  # a dropped SYN costs a 1 s retransmission
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            s.close()  # RST
        took = time.monotonic() - t0
        status, _, _ = a.get("/healthz")
        dropped = listen_overflows() - overflows
        print(f"\n3000 connect+reset in {took:.2f} s: {stalls} stalls of 1 s, {dropped} listen overflows")
        # Before: 21 dropped SYNs in 5,000 cycles (backlog 100). A client looping as fast as it can still outruns
        # Python on a busy machine now and then; the backlog of 2048 absorbs all but the odd one.
        assert status == 200 and stalls <= 2 and dropped <= 2


def test_fd_exhaustion_stops_no_check_and_writes_a_few_lines(tmp_path: Path) -> None:
    with start_agent(tmp_path, topology_file(tmp_path, 50), interval="0.5") as a:
        a.wait_runs(2)
        before = a.health()
        lines_before = len(a.lines)
        held: list[socket.socket] = []
        t0 = time.monotonic()
        try:
            # 1,300 connections that send the start of a request and stall, renewed as the agent closes them, for
            # 4 s: several runs under siege (data first, so TCP_DEFER_ACCEPT does not keep them out).
            while time.monotonic() - t0 < 4.0:
                held = [s for s in held if s.fileno() >= 0]
                want = 1300 - len(held)
                if want > 0:
                    held.extend(burst(a.port, want, b"GET /report HTTP/1.1\r\n"))
                held = still_open(held)
                time.sleep(0.2)
            during = a.health()
        finally:
            for s in held:
                s.close()
        after = a.health()
        report = json.loads((tmp_path / "state.json").read_text())
        codes = {f["code"] for f in report["findings"]}
        runs = int(str(after["runs"])) - int(str(before["runs"]))
        new_lines = a.lines[lines_before:]
        print(
            f"\nunder siege: {runs} runs, failures {after['failures']}, http {during['http']}, {len(new_lines)} lines"
        )
        assert runs >= 4 and after["failures"] == before["failures"] == 0, (before, after)
        assert codes == {"DNS_TIMEOUT"}, codes  # every check ran and judged as without the siege
        assert len(new_lines) <= 5 and not any("Traceback" in line for line in new_lines), new_lines


def test_clients_that_never_read_a_multi_mb_report_cost_bounded_memory(tmp_path: Path) -> None:
    with start_agent(tmp_path, topology_file(tmp_path, 1400), "--http-write-timeout", "1", interval="60") as a:
        a.wait_runs(1, timeout=60)
        size = len(a.get("/report")[1])
        base_rss, base_fds = rss_kb(a.proc.pid), open_fds(a.proc.pid)
        stalled = []
        for _ in range(30):
            s = socket.create_connection(("127.0.0.1", a.port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.send(b"GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            stalled.append(s)
        try:
            time.sleep(0.6)
            peak_rss = rss_kb(a.proc.pid)
            held_fds = open_fds(a.proc.pid)
            _, _, healthz_s = a.get("/healthz")
            time.sleep(2.0)  # past the write timeout
            health = a.health()
            after_fds = open_fds(a.proc.pid)
        finally:
            for s in stalled:
                s.close()
        grew_mb = (peak_rss - base_rss) / 1024
        print(
            f"\n30 stalled readers of a {size / 1e6:.1f} MB report: RSS +{grew_mb:.1f} MB, fds {base_fds} -> "
            f"{held_fds} -> {after_fds}, /healthz {healthz_s * 1000:.0f} ms, http {health['http']}"
        )
        assert size > 5_000_000
        assert grew_mb < 30, grew_mb  # before: ~10 MB per client
        assert healthz_s < 1.0
        http = health["http"]
        assert isinstance(http, dict) and http["write_timeouts"] >= 15 and after_fds <= base_fds + 2, http


def test_healthz_answers_while_the_port_is_out_of_descriptors(tmp_path: Path) -> None:
    """A port that cannot accept (EMFILE) logs it once per interval with a count, never per attempt."""
    script = tmp_path / "exhaust.py"
    script.write_text(
        "import asyncio, os, resource, sys\n"
        "from vpc_verify.logs import configure\n"
        "from vpc_verify.shells.status_http import Limits, Listener, StatusServer\n"
        "from tests.shells.helpers import Routes\n"
        "configure('info')\n"
        "async def main():\n"
        "    server = StatusServer(Routes(), [Listener('127.0.0.1', 0)], limits=Limits(max_connections=8))\n"
        "    await server.start()\n"
        "    print(server.addresses[0][1], flush=True)\n"
        "    hog = []\n"
        "    try:\n"
        "        while True:\n"
        "            hog.append(os.open(os.devnull, os.O_RDONLY))\n"
        "    except OSError:\n"
        "        pass\n"
        "    await asyncio.sleep(3)\n"
        "    for fd in hog:\n"
        "        os.close(fd)\n"
        "    await asyncio.sleep(1)\n"
        "    print('stats', server.stats(), flush=True)\n"
        "    await server.close()\n"
        "asyncio.run(main())\n"
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)),
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert proc.stdout is not None
    port = 0
    while not port:
        line = proc.stdout.readline()
        assert line, "the child ended"
        if line.strip().isdigit():
            port = int(line)
    time.sleep(0.3)
    waiting = []
    for _ in range(40):  # they wait in the kernel's queue while the port has no descriptor to take them
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        waiting.append(s)
    answered = 0
    for s in waiting:
        s.settimeout(8)
        with contextlib.suppress(OSError):
            if s.recv(64).startswith(b"HTTP/1.1 200"):
                answered += 1
        s.close()
    out, _ = proc.communicate(timeout=20)
    exhausted = [line for line in out.splitlines() if "http_accept_exhausted" in line]
    print(f"\nEMFILE for ~3 s: {len(exhausted)} log lines, {answered}/40 answered once descriptors returned")
    assert 1 <= len(exhausted) <= 2 and all(json.loads(x)["count"] >= 1 for x in exhausted), out
    assert "Traceback" not in out and answered >= 30, out
