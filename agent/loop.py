"""The EC2 agent: run the topology every interval, forever, and keep the last report where people look.

One asyncio loop holds everything: the runs, the pause between them (with jitter, so a fleet started
together spreads out), the optional HTTP port (vpc_verify.shells.status_http) and the stop signal. The
topology is parsed once and kept: a run re-reads it only when the file changed (by stat) or on `reload()`
(SIGHUP), so a run opens no file of its own. With a fleet policy instead (`policy`), each run derives the topology
from the policy and what AWS reports about the VPC the agent runs in (vpc_verify.fleet.resolve: the VPC read once
per run, its static facts cached), so an endpoint created or deleted shows in the next run; the policy itself is
read again every five minutes or on `reload()`. A run that raises, hangs past
its deadline or cannot load its topology is logged and the loop goes on; publishing runs in a worker thread
with a bounded buffer (vpc_verify.publish.cloudwatch) so a CloudWatch outage delays metrics, not runs. Stop (SIGTERM)
cancels a run mid-flight; the shell adds a hard exit in case a worker thread is stuck in a blocking call.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from vpc_verify import locations, plan, publishing
from vpc_verify import topology as topology_mod
from vpc_verify.checks import trust
from vpc_verify.logs import get_logger
from vpc_verify.publish import sink as sinks
from vpc_verify.publish.cloudwatch import CloudWatchPublisher
from vpc_verify.publish.config import (
    DEFAULT_BUFFER_CAP,
    DEFAULT_METRIC_SET,
    DEFAULT_NAMESPACE,
    MetricSet,
    SinkConfig,
    SinkName,
)
from vpc_verify.publish.files import write_atomic
from vpc_verify.publish.sink import Outcome
from vpc_verify.report import Report
from vpc_verify.run import DEFAULT_CONCURRENCY, RunOptions, run_async

if TYPE_CHECKING:
    from vpc_verify.fleet.resolve import Derived
    from vpc_verify.shells.status_http import StatusServer

RunFn = Callable[[topology_mod.Topology, RunOptions], Awaitable[Report]]


@dataclass(frozen=True, slots=True)
class LoopConfig:
    """How the agent loops."""

    topology_path: str = ""  # empty with `policy`
    policy: str | None = None  # a fleet policy's location (a file, ssm:NAME, s3://B/K) instead of a topology
    vpc_id: str | None = None  # with `policy`: the VPC to derive for (None: the one the agent runs in)
    region: str | None = None
    interval_s: float = 60.0
    jitter_s: float = 0.0
    deadline_s: float = plan.DEFAULT_DEADLINE_S["agent"]
    concurrency: int = DEFAULT_CONCURRENCY
    state_file: str | None = None
    http_host: str | None = None
    http_port: int = 0
    https_host: str | None = None  # the TLS listener, with `web_config` (any address)
    https_port: int = 0
    web_config: str | None = None
    http_allow_hosts: tuple[str, ...] = ()
    http_max_connections: int = 256
    http_write_timeout_s: float = 10.0
    publish: SinkName = "none"
    namespace: str = DEFAULT_NAMESPACE
    per_address: bool = False
    buffer_cap: int = DEFAULT_BUFFER_CAP
    metrics: MetricSet = DEFAULT_METRIC_SET  # which datums are billed metrics (docs/metrics.md)
    max_runs: int | None = None  # tests and soaks; None = until stopped
    aws: bool = True
    run_guard_s: float = 5.0  # past the run's own deadline, the loop gives up on it
    authorize: bool = False  # --authorize: the signed call through every endpoint that has one


@dataclass(slots=True)
class LoopState:
    """What the loop knows about itself: served on /healthz and logged."""

    runs: int = 0
    failures: int = 0
    last_report: Report | None = None
    last_report_body: bytes | None = None  # the report's JSON, encoded once per run, served as is
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
        self._sink: sinks.Sink | None = sinks.CloudWatchSink(publisher) if publisher is not None else None
        self._stop: asyncio.Event | None = None
        self._http: StatusServer | None = None
        self.http_port: int | None = None
        self.https_port: int | None = None
        self._log = get_logger(component="agent")
        self._topology: topology_mod.Topology | None = None
        self._topology_signature: tuple[int, int, int] | None = None
        self._metrics_cache: tuple[tuple[int, int, int], tuple[int, bytes, bytes]] | None = None
        self._metrics_missing_logged = False

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
        if self.config.http_host or self.config.https_host:
            await self._start_http()
        if ready is not None:
            ready(self)
        self._log.info(
            "agent_started",
            interval_s=self.config.interval_s,
            jitter_s=self.config.jitter_s,
            state_file=self.config.state_file,
            http_port=self.http_port,
            https_port=self.https_port,
            publish=self.config.publish,
            policy=self.config.policy,
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
            if self._http is not None:
                await self._http.close()
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
        trust.clear_if_changed()
        derived = await asyncio.to_thread(self._derived) if cfg.policy else None
        the_plan = plan.build(
            derived.topology if derived is not None else self._current_topology(),
            mode="agent",
            aws=cfg.aws,
            deadline_s=cfg.deadline_s,
            concurrency=cfg.concurrency,
            sink=SinkConfig(cfg.publish, cfg.namespace, cfg.per_address, cfg.buffer_cap, metrics=cfg.metrics),
            authorize=cfg.authorize,
            control_plane=derived.control_plane if derived is not None else None,
        )
        report = await self._run_fn(the_plan.topology, the_plan.options)
        if derived is not None:
            report = derived.annotate(report)  # the policy section: class, required endpoints, derived topology
        self._keep(report)
        if the_plan.sink.name == "none":
            return
        if self._sink is None:
            # One sink for the agent's life: the CloudWatch publisher's buffer carries metrics across runs.
            self._sink = sinks.make(the_plan.sink, region=report.region)
            if isinstance(self._sink, sinks.CloudWatchSink):
                self._publisher = self._sink.publisher
        publication = await asyncio.to_thread(
            publishing.publish,
            report,
            self._sink,
            the_plan.sink,
            resolver=the_plan.topology.resolver,
            cidrs=the_plan.topology.vpc.cidrs,
            mode="agent",
            budget_s=max(1.0, cfg.interval_s / 2),
        )
        self.state.last_publish = publication.outcome
        self.state.last_report = publication.report  # with what publishing found (TELEMETRY_PATH_*, PUBLISH_FAILED)
        self._write_state(publication.report)

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
        self.state.last_report_body = text.encode()
        if self.config.state_file:
            try:
                write_atomic(self.config.state_file, text)
            except OSError as exc:
                self._log.error("state_file_failed", path=self.config.state_file, error=str(exc))

    # --- topology held in memory ----------------------------------------------------------------------

    def _derived(self) -> Derived:
        """This run's topology from the fleet policy and what AWS reports (blocking: boto3; in a worker thread)."""
        from vpc_verify.fleet import resolve

        cfg = self.config
        assert cfg.policy is not None
        policy = resolve.cached_policy(cfg.policy, region=cfg.region)
        return resolve.derived(policy, vpc_id=cfg.vpc_id, region=cfg.region)

    def _current_topology(self) -> topology_mod.Topology:
        """The parsed topology, re-read only when the file changed (mtime, size, inode) or after reload()."""
        path = self.config.topology_path
        try:
            st = os.stat(path)
            signature: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            signature = None  # unreadable now: keep checking with what was loaded
        if self._topology is not None and (signature is None or signature == self._topology_signature):
            return self._topology
        topo = locations.load(path)
        if self._topology is not None:
            self._log.info("topology_reloaded", path=path, endpoints=len(topo.endpoints))
        self._topology, self._topology_signature = topo, signature
        return topo

    def reload(self) -> None:
        """Forget the cached topology (or policy), trust stores and web-config (SIGHUP): the next run reads them
        again."""
        self._topology_signature = None
        if self.config.policy:
            from vpc_verify.fleet import resolve

            resolve.forget_policy(self.config.policy)
        trust.clear()
        if self._http is not None:
            for listener in self._http.listeners:
                if listener.web is not None:
                    listener.web.refresh(force=True)
        self._log.info("agent_reload_requested")

    # --- the HTTP port (vpc_verify.shells.status_http) ------------------------------------------------

    async def _start_http(self) -> None:
        from vpc_verify.shells.status_http import Limits, Listener, StatusServer
        from vpc_verify.shells.web_config import WebConfigSource

        cfg = self.config
        listeners: list[Listener] = []
        if cfg.http_host:
            listeners.append(Listener(cfg.http_host, cfg.http_port))
        if cfg.https_host and cfg.web_config:
            web = WebConfigSource(cfg.web_config, on_error=lambda msg: self._log.error("web_config_invalid", error=msg))
            listeners.append(Listener(cfg.https_host, cfg.https_port, web))
        self._http = StatusServer(
            self,
            listeners,
            allow_hosts=cfg.http_allow_hosts,
            limits=Limits(max_connections=cfg.http_max_connections, write_timeout_s=cfg.http_write_timeout_s),
        )
        await self._http.start()
        for listener, (_, port) in zip(listeners, self._http.addresses, strict=True):
            if listener.web is None:
                self.http_port = port
            else:
                self.https_port = port

    def report_body(self) -> bytes | None:
        """The last report's JSON bytes (GET /report)."""
        return self.state.last_report_body

    def metrics(self) -> tuple[int, bytes, bytes]:
        """The Prometheus exposition (GET /metrics), rendered at most once per run or failure."""
        from vpc_verify.publish import prometheus

        st = self.state
        key = (id(st.last_report), st.runs, st.failures)
        if self._metrics_cache is not None and self._metrics_cache[0] == key:
            return self._metrics_cache[1]
        try:
            body = prometheus.render(st.last_report, prometheus.Counters(runs=st.runs, failures=st.failures))
            answer = (200, body, prometheus.content_type().encode())
        except prometheus.PrometheusUnavailable as exc:
            if not self._metrics_missing_logged:
                self._log.warning("metrics_unavailable", reason=exc.reason)
                self._metrics_missing_logged = True
            answer = (501, exc.reason.encode() + b"\n", b"text/plain; charset=utf-8")
        self._metrics_cache = (key, answer)
        return answer

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


def default_state_file(environ: dict[str, str]) -> str:
    """Where the last report goes by default: systemd's StateDirectory, else the working directory."""
    base = environ.get("STATE_DIRECTORY", "").split(":")[0]
    return str(Path(base) / "report.json") if base else "vpc-verify-report.json"
