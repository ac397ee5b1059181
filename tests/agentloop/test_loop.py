"""The EC2 agent loop: survives failing runs, writes its state, serves it on loopback, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.publish.helpers import synthetic_report
from tests.schemas import load_report
from vpc_verify.loop import AgentLoop, LoopConfig
from vpc_verify.report import Report
from vpc_verify.run import RunOptions
from vpc_verify.topology import Topology

ROOT = Path(__file__).resolve().parents[2]


def _topology(tmp_path: Path, *, timeout_ms: int = 300, port: int = 1) -> Path:
    path = tmp_path / "topology.yaml"
    path.write_text(
        f"version: 1\nregion: us-east-1\nresolver: {{nameservers: [127.0.0.1], port: {port}, "
        f"timeout_ms: {timeout_ms}}}\nendpoints:\n  - name: billing\n    type: service\n"
        "    dns_names: [billing.internal.example.com]\n"
    )
    return path


async def test_survives_a_run_raising_and_writes_state(tmp_path: Path) -> None:
    calls = 0

    async def flaky(topology: Topology, options: RunOptions) -> Report:
        nonlocal calls
        calls += 1
        if calls % 2 == 0:
            raise RuntimeError("injected fault")
        return synthetic_report()

    state = tmp_path / "state.json"
    loop = AgentLoop(
        LoopConfig(
            topology_path=str(_topology(tmp_path)),
            interval_s=0.0,
            state_file=str(state),
            max_runs=5,
            http_host="127.0.0.1",
        ),
        run_fn=flaky,
    )
    result = await loop.run_forever()
    assert result.runs == 5 and result.failures == 2
    doc = load_report(state.read_text())
    assert doc["version"] == 1 and doc["healthy"] is False and doc["loop"]["run"] == 5
    assert not list(tmp_path.glob(".state.json.*"))  # no temporary file left behind


async def test_a_hanging_run_is_abandoned_at_its_deadline(tmp_path: Path) -> None:
    async def hang(topology: Topology, options: RunOptions) -> Report:
        await asyncio.sleep(3600)
        raise AssertionError

    import vpc_verify.loop as loop_mod

    loop = AgentLoop(
        LoopConfig(topology_path=str(_topology(tmp_path)), interval_s=0.0, deadline_s=0.1, max_runs=2), run_fn=hang
    )
    old = loop_mod._RUN_GUARD_S
    loop_mod._RUN_GUARD_S = 0.1
    try:
        t0 = time.monotonic()
        result = await loop.run_forever()
    finally:
        loop_mod._RUN_GUARD_S = old
    assert result.failures == 2 and time.monotonic() - t0 < 2
    assert "deadline" in (result.last_error or "")


async def test_http_serves_report_and_health_on_loopback(tmp_path: Path) -> None:
    loop = AgentLoop(LoopConfig(topology_path=str(_topology(tmp_path)), interval_s=30.0, http_host="127.0.0.1"))
    task = asyncio.create_task(loop.run_forever())
    for _ in range(100):
        await asyncio.sleep(0.05)
        if loop.state.runs >= 1:
            break

    def get(path: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{loop.http_port}{path}", timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    status, report = await asyncio.to_thread(get, "/report")
    assert status == 200 and load_report(json.dumps(report))["endpoints"][0]["name"] == "billing"
    status, health = await asyncio.to_thread(get, "/healthz")
    assert status == 200 and health["status"] == "ok" and health["runs"] == 1 and health["vpc_healthy"] is False
    status, _ = await asyncio.to_thread(get, "/nope")
    assert status == 404
    loop.stop()
    await asyncio.wait_for(task, 5)


def test_http_refuses_a_non_loopback_address() -> None:
    from vpc_verify.commands.agent import parse_http
    from vpc_verify.errors import UsageError

    assert parse_http("127.0.0.1:9180") == ("127.0.0.1", 9180)
    assert parse_http("[::1]:0") == ("::1", 0)
    with pytest.raises(UsageError):
        parse_http("0.0.0.0:9180")


def _start_agent(tmp_path: Path, topo: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vpc_verify",
            "agent",
            "-t",
            str(topo),
            "--interval",
            "1",
            "--jitter",
            "0",
            "--state-file",
            str(tmp_path / "state.json"),
            "--log-level",
            "info",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _stop(proc: subprocess.Popen[str]) -> float:
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    return time.monotonic() - t0


def test_sigterm_mid_run_exits_within_5_s(tmp_path: Path) -> None:
    # A resolver that never answers, with a 20 s timeout: the run is still going when SIGTERM comes.
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    topo = _topology(tmp_path, timeout_ms=20_000, port=silent.getsockname()[1])
    proc = _start_agent(tmp_path, topo, "--deadline", "30")
    try:
        time.sleep(2.0)
        assert proc.poll() is None
        took = _stop(proc)
    finally:
        proc.kill()
        silent.close()
    assert took < 5.0, took
    assert proc.returncode == 0
    stderr = proc.stderr.read() if proc.stderr else ""
    assert "SIGTERM, stopping" in stderr and "endpoint_checked" not in stderr


def test_sigterm_while_a_worker_thread_is_stuck_publishing(tmp_path: Path) -> None:
    # CloudWatch that accepts connections and never answers: the publishing thread blocks in a read.
    black_hole = socket.socket()
    black_hole.bind(("127.0.0.1", 0))
    black_hole.listen(64)
    url = f"http://127.0.0.1:{black_hole.getsockname()[1]}"
    env = {
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": url,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    proc = _start_agent(tmp_path, _topology(tmp_path), "--publish", "cloudwatch", env=env)
    try:
        time.sleep(3.0)
        took = _stop(proc)
    finally:
        proc.kill()
        black_hole.close()
    assert took < 5.0, took
    assert (tmp_path / "state.json").exists()


def test_soak_short(tmp_path: Path) -> None:
    """A short version of bench/soak.py: 60 runs with faults, no growth in fds, bounded RSS growth."""
    proc = subprocess.run(
        [sys.executable, "bench/soak.py", "--runs", "60", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert figures["runs"] == 60 and figures["failures"] > 0
    assert figures["fd_growth"] <= 2, figures
    assert figures["rss_growth_kb"] < 8 * 1024, figures
