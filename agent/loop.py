"""The EC2 agent: run the topology every interval, forever, and keep the last report where people look.

One asyncio loop holds everything: the runs, the pause between them (with jitter, so a fleet started
together spreads out), the optional loopback HTTP server and the stop signal. A run that raises, hangs past
its deadline or cannot load its topology is logged and the loop goes on; publishing runs in a worker thread
with a bounded buffer (vpc_verify.publish.cloudwatch) so a CloudWatch outage delays metrics, not runs. Stop (SIGTERM)
cancels a run mid-flight; the shell adds a hard exit in case a worker thread is stuck in a blocking call.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from vpc_verify import topology as topology_mod
from vpc_verify.logs import get_logger
from vpc_verify.publish.cloudwatch import CloudWatchPublisher
from vpc_verify.publish.dispatch import Outcome, publish
from vpc_verify.publish.files import write_atomic
from vpc_verify.report import Report
from vpc_verify.run import RunOptions, run_async

RunFn = Callable[[topology_mod.Topology, RunOptions], Awaitable[Report]]
_HTTP_READ_TIMEOUT_S = 5.0
_HTTP_MAX_HEADER = 8192


@dataclass(frozen=True, slots=True)
class LoopConfig:
    """How the agent loops."""

    topology_path: str
    interval_s: float = 60.0
    jitter_s: float = 0.0
    deadline_s: float = 30.0
    concurrency: int = 100
    state_file: str | None = None
    http_host: str | None = None
    http_port: int = 0
    publish: str = "none"
    namespace: str = "VpcVerify"
    per_address: bool = False
    buffer_cap: int = 10_000
    max_runs: int | None = None  # tests and soaks; None = until stopped
    aws: bool = True
    agent: dict[str, Any] = field(default_factory=dict)
    run_guard_s: float = 5.0  # past the run's own deadline, the loop gives up on it


@dataclass(slots=True)
class LoopState:
    """What the loop knows about itself: served on /healthz and logged."""

    runs: int = 0
    failures: int = 0
    last_report: Report | None = None
    last_report_json: str | None = None
    last_finished_monotonic: float | None = None
    last_error: str | None = None
    last_publish: Outcome | None = None
    started_monotonic: float = field(default_factory=time.monotonic)


class AgentLoop:
    """The loop; `run_forever` returns when `stop()` is called or after `max_runs`."""

    def __init__(
        self,
        config: LoopConfig,
        *,
        run_fn: RunFn | None = None,
        publisher: CloudWatchPublisher | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.state = LoopState()
        self._run_fn: RunFn = run_fn or run_async
        self._rng = rng or random.Random()
        self._publisher = publisher
        self._stop: asyncio.Event | None = None
        self._server: asyncio.base_events.Server | None = None
        self.http_port: int | None = None
        self._log = get_logger(component="agent")

    def stop(self) -> None:
        """Ask the loop to stop (safe from a signal handler on the loop's thread)."""
        if self._stop is not None:
            self._stop.set()

    @property
    def stopping(self) -> bool:
        """Stop was asked."""
        return self._stop is not None and self._stop.is_set()

    async def run_forever(self, ready: Callable[[AgentLoop], None] | None = None) -> LoopState:
        """Loop until stopped; never raises for a run's failure."""
        self._stop = asyncio.Event()
        if self.config.http_host:
            await self._start_http()
        if ready is not None:
            ready(self)
        self._log.info(
            "agent_started",
            interval_s=self.config.interval_s,
            jitter_s=self.config.jitter_s,
            state_file=self.config.state_file,
            http_port=self.http_port,
            publish=self.config.publish,
        )
        try:
            if self.config.jitter_s > 0:
                await self._sleep(self._rng.uniform(0.0, self.config.jitter_s))
            while not self.stopping:
                started = time.monotonic()
                await self._one_run()
                if self.config.max_runs is not None and self.state.runs >= self.config.max_runs:
                    break
                elapsed = time.monotonic() - started
                pause = max(0.0, self.config.interval_s - elapsed) + self._rng.uniform(0.0, self.config.jitter_s)
                await self._sleep(pause)
        finally:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
            self._log.info("agent_stopped", runs=self.state.runs, failures=self.state.failures)
        return self.state

    async def _sleep(self, seconds: float) -> None:
        assert self._stop is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def _one_run(self) -> None:
        """One run, raced against stop; every failure is logged and counted, never raised."""
        assert self._stop is not None
        structlog.contextvars.clear_contextvars()
        number = self.state.runs + 1
        structlog.contextvars.bind_contextvars(run=number)
        self._log.info("run_started")
        task = asyncio.create_task(self._run_and_publish())
        stopper = asyncio.create_task(self._stop.wait())
        try:
            done, _ = await asyncio.wait(
                {task, stopper},
                timeout=self.config.deadline_s + self.config.run_guard_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if task not in done:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                if not self.stopping:
                    self._fail(
                        number,
                        TimeoutError(
                            f"the run did not end within its deadline "
                            f"({self.config.deadline_s:g} s) + {self.config.run_guard_s:g} s"
                        ),
                    )
                return
            exc = task.exception()
            if exc is not None:
                self._fail(number, exc)
        finally:
            stopper.cancel()
            self.state.runs = number
            structlog.contextvars.clear_contextvars()

    def _fail(self, number: int, exc: BaseException) -> None:
        self.state.failures += 1
        self.state.last_error = f"{type(exc).__name__}: {exc}"
        self._log.error("agent_run_failed", error=self.state.last_error, failures=self.state.failures)

    async def _run_and_publish(self) -> None:
        cfg = self.config
        topo = topology_mod.load(cfg.topology_path)
        agent: dict[str, Any] = {"mode": "agent", **cfg.agent}
        control_plane: Any = None
        if topo.vpc.id and cfg.aws:
            from vpc_verify.aws.compare import for_cli

            control_plane, place = await asyncio.to_thread(for_cli, subnet_id=None, az=None, partial=False)
            agent.update(place)
        report = await self._run_fn(
            topo,
            RunOptions(
                concurrency=cfg.concurrency, deadline_s=cfg.deadline_s, agent=agent, control_plane=control_plane
            ),
        )
        self._keep(report)
        if cfg.publish != "none":
            if cfg.publish == "cloudwatch" and self._publisher is None:
                self._publisher = CloudWatchPublisher(cfg.namespace, region=report.region, buffer_cap=cfg.buffer_cap)
            outcome = await asyncio.to_thread(
                publish,
                report,
                cfg.publish,
                namespace=cfg.namespace,
                per_address=cfg.per_address,
                publisher=self._publisher,
                budget_s=max(1.0, cfg.interval_s / 2),
            )
            self.state.last_publish = outcome
            self._write_state(report)

    def _keep(self, report: Report) -> None:
        self.state.last_report = report
        self.state.last_finished_monotonic = time.monotonic()
        self.state.last_error = None
        self._write_state(report)

    def _write_state(self, report: Report) -> None:
        doc = report.to_dict()
        doc["loop"] = {
            "run": self.state.runs + 1,
            "failures": self.state.failures,
            "written_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
            "publish": self.state.last_publish.to_dict() if self.state.last_publish else None,
        }
        text = json.dumps(doc, indent=2, default=str) + "\n"
        self.state.last_report_json = text
        if self.config.state_file:
            try:
                write_atomic(self.config.state_file, text)
            except OSError as exc:
                self._log.error("state_file_failed", path=self.config.state_file, error=str(exc))

    # --- loopback HTTP: GET /report, GET /healthz ------------------------------------------------------

    async def _start_http(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.config.http_host, self.config.http_port, limit=_HTTP_MAX_HEADER
        )
        self.http_port = int(self._server.sockets[0].getsockname()[1])

    def health(self) -> tuple[int, dict[str, Any]]:
        """The agent's own liveness: 200 while runs finish on schedule, 503 when they stopped finishing."""
        st = self.state
        stale_after = 3 * self.config.interval_s + self.config.deadline_s + self.config.jitter_s
        now = time.monotonic()
        age = None if st.last_finished_monotonic is None else now - st.last_finished_monotonic
        since_start = now - st.started_monotonic
        fresh = (age is not None and age <= stale_after) or (age is None and since_start <= stale_after)
        body = {
            "status": "ok" if fresh else "stale",
            "runs": st.runs,
            "failures": st.failures,
            "last_run_age_s": None if age is None else round(age, 1),
            "last_error": st.last_error,
            "vpc_healthy": None if st.last_report is None else st.last_report.healthy,
            "metrics_buffered": len(self._publisher.buffer) if self._publisher else 0,
            "metrics_dropped": self._publisher.dropped_total if self._publisher else 0,
        }
        return (200 if fresh else 503), body

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _HTTP_READ_TIMEOUT_S)
            parts = head.split(b"\r\n", 1)[0].split()
            method, path = (parts[0], parts[1].split(b"?", 1)[0]) if len(parts) >= 2 else (b"", b"")
            if method != b"GET":
                status, body = 405, json.dumps({"error": "only GET"})
            elif path == b"/report":
                if self.state.last_report_json is None:
                    status, body = 503, json.dumps({"error": "no run has finished yet"})
                else:
                    status, body = 200, self.state.last_report_json
            elif path == b"/healthz":
                code, doc = self.health()
                status, body = code, json.dumps(doc)
            else:
                status, body = 404, json.dumps({"error": "not found: GET /report or /healthz"})
            data = body.encode()
            reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}[status]
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()


def default_state_file(environ: dict[str, str]) -> str:
    """Where the last report goes by default: systemd's StateDirectory, else the working directory."""
    base = environ.get("STATE_DIRECTORY", "").split(":")[0]
    return str(Path(base) / "report.json") if base else "vpc-verify-report.json"
