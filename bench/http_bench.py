"""Benchmark the agent's HTTP port: /healthz throughput and latency, quiet and under a flood.

    python bench/http_bench.py                 # figures as a table
    python bench/http_bench.py --json          # one JSON line

The real agent (`vpc-verify agent`, a 1,400-endpoint topology: a ~6 MB report) runs in a child process with the
fd limit of the old unit (1024, --nofile to change), in this process's own network namespace when one can be
made, on loopback. Workers GET /healthz on fresh connections as fast as they can for --seconds in three phases:
alone ("quiet"); while a wave of --flood clients connected at once holds a partial request each and 30 clients
request the report and never read it ("wave", the issue's 2,000 concurrent clients); and while those --flood
connections are renewed as fast as the agent evicts them ("storm", a connection flood that outruns the accept
loop: the kernel's listen queue overflows and a dropped SYN costs a client 1 s). Every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def hammer(port: int, seconds: float, workers: int) -> dict[str, Any]:
    """`workers` threads GET /healthz on fresh connections for `seconds`; throughput and latency figures."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def work() -> None:
        nonlocal errors
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop:
            t0 = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    mine.append(time.monotonic() - t0)
                else:
                    bad += 1
            except OSError:
                bad += 1
            finally:
                conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    n = len(latencies)

    def pct(p: float) -> float:
        return round(latencies[min(n - 1, int(n * p))] * 1000, 1) if n else float("nan")

    return {
        "requests": n,
        "errors": errors,
        "per_s": round(n / seconds),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 1) if n else None,
    }


def flood(port: int, count: int, until: float, renew: bool = True) -> dict[str, int]:
    """Hold `count` connections (a partial request head each), renewing those the agent closes when `renew`."""
    from tests.shells.helpers import burst, still_open

    held: list[socket.socket] = []
    opened = 0
    while time.monotonic() < until:
        want = count - len(held) if renew or not opened else 0
        if want > 0:
            held.extend(burst(port, want, b"GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
            opened += want
        held = still_open(held)
        time.sleep(0.1)
    for s in held:
        s.close()
    return {"opened": opened}


def stalled_readers(port: int, count: int) -> list[socket.socket]:
    """`count` clients that request the report and never read it."""
    out = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.send(b"GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        out.append(s)
    return out


def run(seconds: float, workers: int, flood_size: int, nofile: int) -> dict[str, Any]:
    """The three phases; the figures."""
    from tests.shells.helpers import open_fds, rss_kb, start_agent, topology_file

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    with tempfile.TemporaryDirectory(prefix="vpc-verify-httpbench-") as tmp:
        work = Path(tmp)
        with start_agent(work, topology_file(work, 1400), interval="30", nofile=nofile) as agent:
            agent.wait_runs(1, timeout=120)
            report_mb = round(len(agent.get("/report")[1]) / 1e6, 1)
            base = {"rss_kb": rss_kb(agent.proc.pid), "fds": open_fds(agent.proc.pid)}
            quiet = hammer(agent.port, seconds, workers)
            phases: dict[str, Any] = {}
            peak = dict(base)
            for name, renew in (("wave", False), ("storm", True)):
                until = time.monotonic() + seconds + 1.5
                flooder = threading.Thread(target=flood, args=(agent.port, flood_size, until, renew), daemon=True)
                flooder.start()
                readers = stalled_readers(agent.port, 30) if name == "wave" else []
                time.sleep(1.0)  # let the flood fill the slots
                phases[name] = hammer(agent.port, seconds, workers)
                peak = {
                    "rss_kb": max(peak["rss_kb"], rss_kb(agent.proc.pid)),
                    "fds": max(peak["fds"], open_fds(agent.proc.pid)),
                }
                flooder.join(timeout=seconds + 5)
                for s in readers:
                    s.close()
                time.sleep(1.0)
            http_stats = agent.health()["http"]
    return {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "nofile": nofile,
        "report_mb": report_mb,
        "workers": workers,
        "seconds": seconds,
        "quiet": quiet,
        "wave": {**phases["wave"], "connections": flood_size, "stalled_report_readers": 30},
        "storm": {**phases["storm"], "connections": flood_size},
        "agent_before": base,
        "agent_peak": peak,
        "http": http_stats,
    }


def main() -> int:
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=5.0, help="each phase (default 5)")
    p.add_argument("--workers", type=int, default=4, help="client threads (default 4)")
    p.add_argument("--flood", type=int, default=2000, help="connections in the wave and the storm (default 2000)")
    p.add_argument("--nofile", type=int, default=1024, help="the agent's fd limit (default 1024)")
    p.add_argument("--json", action="store_true", help="print one JSON line")
    p.add_argument("--no-netns", action="store_true", help="do not enter a network namespace")
    args = p.parse_args()
    if not args.no_netns:
        from tests.testbed import netns

        ok, why = netns.available()
        if ok:
            netns.enter()
        else:
            print(f"http_bench: no network namespace ({why}): loopback of this host", file=sys.stderr)
    figures = run(args.seconds, args.workers, args.flood, args.nofile)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(
        f"vpc-verify agent HTTP port: {figures['report_mb']} MB report, fd limit {figures['nofile']}, "
        f"{figures['workers']} workers, {figures['seconds']:g} s per phase"
    )
    for phase in ("quiet", "wave", "storm"):
        f = figures[phase]
        print(
            f"  /healthz {phase:5}: {f['per_s']:>6}/s  p50 {f['p50_ms']:>6} ms  p99 {f['p99_ms']:>6} ms  "
            f"max {f['max_ms']} ms  errors {f['errors']}"
        )
    before, peak = figures["agent_before"], figures["agent_peak"]
    print(
        f"  agent: RSS {before['rss_kb'] // 1024} -> {peak['rss_kb'] // 1024} MiB, fds {before['fds']} -> {peak['fds']}"
    )
    with contextlib.suppress(KeyError):
        print(f"  port: {figures['http']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
