"""The EC2 agent loop: survives failing runs, writes its state, serves it on loopback, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.publish.helpers import synthetic_report
from tests.schemas import load_report
from tests.testbed.cli import start_cli
from vpc_verify.loop import AgentLoop, LoopConfig
from vpc_verify.report import Report
from vpc_verify.run import RunOptions
from vpc_verify.topology import Topology


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

    config = LoopConfig(
        topology_path=str(_topology(tmp_path)), interval_s=0.0, deadline_s=0.1, max_runs=2, run_guard_s=0.1
    )
    loop = AgentLoop(config, run_fn=hang)
    t0 = time.monotonic()
    result = await loop.run_forever()
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


class Agent:
    """`vpc-verify agent` (the installed console script) in a child process, its stderr read as it comes."""

    def __init__(self, tmp_path: Path, topo: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.proc = start_cli(
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
            env=env,
        )
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()

    def wait_for(self, text: str, timeout_s: float = 30.0) -> None:
        """Until a stderr line holds `text` (the agent says what it is doing: no sleep stands for it)."""
        with self._changed:
            found = self._changed.wait_for(lambda: any(text in x for x in self._lines), timeout_s)
        assert found, f"no {text!r} on the agent's stderr within {timeout_s:g} s:\n{self.stderr}"
        assert self.proc.poll() is None, self.stderr

    def stop(self) -> float:
        """SIGTERM; seconds until the process was gone."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        took = time.monotonic() - t0
        self._reader.join(5)
        return took

    @property
    def stderr(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def _pending_connection(listener: socket.socket, timeout_s: float) -> bool:
    """A client connected to `listener` (the kernel completed the handshake; nobody accepted it)."""
    return bool(select.select([listener], [], [], timeout_s)[0])


@pytest.mark.e2e
def test_sigterm_mid_run_exits_within_5_s(tmp_path: Path) -> None:
    # A resolver that never answers, with a 20 s timeout: the run is still going when SIGTERM comes.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        topo = _topology(tmp_path, timeout_ms=20_000, port=silent.getsockname()[1])
        agent = Agent(tmp_path, topo, "--deadline", "30")
        try:
            agent.wait_for('"run_started"')
            silent.settimeout(30)
            silent.recv(512)  # the run's DNS question: the agent is waiting for an answer, mid-run
            took = agent.stop()
        finally:
            agent.kill()
    assert took < 5.0, took
    assert agent.proc.returncode == 0
    assert "SIGTERM, stopping" in agent.stderr and "endpoint_checked" not in agent.stderr


@pytest.mark.e2e
def test_sigterm_while_a_worker_thread_is_stuck_publishing(tmp_path: Path) -> None:
    # CloudWatch that accepts connections and never answers: the publishing thread blocks in a read.
    with socket.socket() as black_hole:
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
        agent = Agent(tmp_path, _topology(tmp_path), "--publish", "cloudwatch", env=env)
        try:
            agent.wait_for('"run_finished"')
            # The publishing thread has connected and now waits for an answer that never comes.
            assert _pending_connection(black_hole, 30), agent.stderr
            took = agent.stop()
        finally:
            agent.kill()
    assert took < 5.0, took
    assert (tmp_path / "state.json").exists()
