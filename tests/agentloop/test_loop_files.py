"""The loop holds its files in memory: the topology is parsed once and re-read on change or SIGHUP, the trust
stores are read once; the agent raises its fd limit; /metrics answers 501 with the fix without the library."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import trustme

from tests.publish.helpers import synthetic_report
from vpc_verify import topology as topology_mod
from vpc_verify.checks import trust
from vpc_verify.loop import AgentLoop, LoopConfig
from vpc_verify.report import Report
from vpc_verify.run import RunOptions
from vpc_verify.topology import Topology

ROOT = Path(__file__).resolve().parents[2]


def _topology(path: Path, name: str = "billing") -> Path:
    path.write_text(f"version: 1\nendpoints:\n  - {{name: {name}, type: service, dns_names: [{name}.example.com]}}\n")
    return path


@pytest.mark.unit
async def test_the_topology_is_read_once_and_again_on_change_or_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _topology(tmp_path / "topology.yaml")
    loads: list[str] = []
    real_load = topology_mod.load

    def counting_load(p: str | os.PathLike[str]) -> Topology:
        loads.append(str(p))
        return real_load(p)

    monkeypatch.setattr(topology_mod, "load", counting_load)
    seen: list[str] = []

    async def record(topology: Topology, options: RunOptions) -> Report:
        seen.append(topology.endpoints[0].name)
        return synthetic_report()

    loop = AgentLoop(LoopConfig(topology_path=str(path), interval_s=0.0, max_runs=3), run_fn=record)
    await loop.run_forever()
    assert len(loads) == 1 and seen == ["billing"] * 3

    _topology(path, "payments")  # another size: a change, whatever the clock's resolution
    loop.config = LoopConfig(topology_path=str(path), interval_s=0.0, max_runs=5)
    await loop.run_forever()
    assert len(loads) == 2 and seen[-1] == "payments"

    loop.reload()  # SIGHUP
    loop.config = LoopConfig(topology_path=str(path), interval_s=0.0, max_runs=6)
    await loop.run_forever()
    assert len(loads) == 3

    path.write_text("version: 1\nendpoints: 7\n")  # a broken edit: a logged failure, then a fix recovers
    loop.config = LoopConfig(topology_path=str(path), interval_s=0.0, max_runs=7)
    state = await loop.run_forever()
    assert state.failures == 1 and "endpoints" in (state.last_error or "")
    _topology(path, "billing")
    loop.config = LoopConfig(topology_path=str(path), interval_s=0.0, max_runs=8)
    await loop.run_forever()
    assert seen[-1] == "billing" and loop.state.last_error is None


@pytest.mark.unit
def test_a_ca_bundle_is_read_once_and_again_when_it_changes(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    trust.clear()
    first = trust.client_context(True, str(bundle))
    assert trust.client_context(True, str(bundle)) is first
    assert trust.clear_if_changed() is False
    trustme.CA().cert_pem.write_to_path(str(bundle), append=True)
    assert trust.clear_if_changed() is True
    assert trust.client_context(True, str(bundle)) is not first


@pytest.mark.unit
async def test_metrics_without_the_library_answer_501_and_log_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)

    async def synthetic(topology: Topology, options: RunOptions) -> Report:
        return synthetic_report()

    loop = AgentLoop(
        LoopConfig(topology_path=str(_topology(tmp_path / "t.yaml")), interval_s=30.0, http_host="127.0.0.1"),
        run_fn=synthetic,
    )
    task = asyncio.create_task(loop.run_forever())
    for _ in range(100):
        await asyncio.sleep(0.02)
        if loop.state.runs:
            break

    def get(path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{loop.http_port}{path}", timeout=5) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    try:
        for _ in range(3):
            status, body = await asyncio.to_thread(get, "/metrics")
            assert status == 501
            assert body == b"prometheus-client is not installed: pip install 'vpc-verify[prometheus]'\n"
        assert (await asyncio.to_thread(get, "/report"))[0] == 200
    finally:
        loop.stop()
        await asyncio.wait_for(task, 5)
    captured = capsys.readouterr()
    assert (captured.out + captured.err).count("metrics_unavailable") == 1


def test_sighup_rereads_the_topology_and_the_fd_limit_is_raised(tmp_path: Path) -> None:
    path = _topology(tmp_path / "topology.yaml")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vpc_verify",
            "agent",
            "-t",
            str(path),
            "--interval",
            "0.2",
            "--jitter",
            "0",
            "--no-aws",
            "--state-file",
            str(tmp_path / "state.json"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096)),
        cwd=ROOT,
    )
    try:
        time.sleep(1.5)
        limits = Path(f"/proc/{proc.pid}/limits").read_text()
        line = next(x for x in limits.splitlines() if x.startswith("Max open files"))
        assert line.split()[3:5] == ["4096", "4096"], line
        os.kill(proc.pid, signal.SIGHUP)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert "agent_reload_requested" in err and err.count("topology_reloaded") == 1, err[-2000:]
    assert proc.returncode == 0
