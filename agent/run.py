"""One run: a Topology in, a Report out (docs/architecture.md). No printing, no exiting.

Orchestration only: the deadline, the control plane read in a daemon thread while the data plane is
observed (vpc_verify.observe), then the planes joined per endpoint and judged by the rules
(vpc_verify.judge). Nothing raises out of a run but bad input: a bug becomes CHECK_ERROR, the deadline
DEADLINE_EXCEEDED, an AWS failure AWS_API_ERROR, and every other endpoint's result stands; a place the
control plane refuses (a --subnet-id outside the VPC: a UsageError) is raised for the shell to exit 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol, TypeVar

from vpc_verify.errors import UsageError
from vpc_verify.logs import get_logger
from vpc_verify.observe import pipeline, runner, workers
from vpc_verify.observe.pipeline import Observation, Scope
from vpc_verify.origin import Origin
from vpc_verify.topology import Endpoint, IPNetwork, Topology

if TYPE_CHECKING:  # the judge and the report's model are imported after the sweep: not on the way to the first packet
    from vpc_verify.aws.control_plane import AwsFacts
    from vpc_verify.aws.flowlogs import FlowFacts
    from vpc_verify.bill import UsageSummary
    from vpc_verify.judge.facts import RunFacts
    from vpc_verify.report import EndpointReport, Report

DEFAULT_CONCURRENCY = 100
DEFAULT_DEADLINE_S = 60.0
T = TypeVar("T")


class ControlPlane(Protocol):
    """Reads the control plane (blocking; the run calls it in a daemon thread)."""

    def read(self, topology: Topology) -> AwsFacts:
        """Read everything the comparison needs; raise on failure (the run turns it into a finding)."""
        ...


class Evidence(Protocol):
    """Reads evidence for the probes that failed, after them (blocking; the run calls it in a daemon thread)."""

    def read(
        self, topology: Topology, observations: Sequence[Observation], aws: AwsFacts | None, started_at: dt.datetime
    ) -> FlowFacts | None:
        """The evidence, or None when there is none to read; raise on failure (the findings say so)."""
        ...


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: the bounds, the deadline, the optional control plane, and who runs it."""

    concurrency: int = DEFAULT_CONCURRENCY
    deadline_s: float = DEFAULT_DEADLINE_S
    control_plane: ControlPlane | None = None
    origin: Origin = field(default_factory=lambda: Origin("cli"))
    partial: bool = False  # only some endpoints of the topology are checked (--only)
    dns_rate: float | None = None  # DNS packets a second at most (None: the topology's resolver setting)
    workers: int = 1  # processes observing the data plane (`run` only; run_async observes in its own)
    evidence: Evidence | None = None  # `check --evidence flowlogs`


def run(topology: Topology, options: RunOptions | None = None) -> Report:
    """Run every check of `topology` and return the Report (synchronous wrapper of `run_async`).

    With `options.workers` > 1 the data plane is observed by forked workers over shards of the endpoints
    (vpc_verify.observe.workers), forked here before the event loop and the control-plane thread exist.
    """
    options = options or RunOptions()
    started_at = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    deadline = time.monotonic() + options.deadline_s  # the event loop's clock
    local, remote = topology, []
    shards = workers.shard(topology.endpoints, options.workers) if _can_fork(topology, options) else []
    if len(shards) > 1:
        rate = options.dns_rate or topology.resolver.queries_per_second
        share = workers.shares(topology, shards, options.concurrency, rate)
        remote = [workers.fork(topology, s, sh, deadline) for s, sh in zip(shards[1:], share[1:], strict=True)]
        local = replace(topology, endpoints=tuple(topology.endpoints[i] for i in shards[0]))
        options = replace(options, concurrency=share[0].concurrency, dns_rate=share[0].dns_rate)
    return runner.run(_run(topology, local, remote, options, deadline, started_at, t0))


def _can_fork(topology: Topology, options: RunOptions) -> bool:
    # Workers scope their probes with the topology's CIDRs; when only the control plane knows them, one
    # process observes (the scope waits for the read).
    needs_aws_scope = not topology.vpc.cidrs and options.control_plane is not None and bool(topology.vpc.id)
    return options.workers > 1 and hasattr(os, "fork") and not needs_aws_scope


async def run_async(topology: Topology, options: RunOptions | None = None) -> Report:
    """Run every check of `topology` concurrently under the options' bounds and deadline, in this process."""
    options = options or RunOptions()
    started_at = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    deadline = asyncio.get_running_loop().time() + options.deadline_s
    return await _run(topology, topology, [], options, deadline, started_at, t0)


async def _run(
    topology: Topology,
    local: Topology,
    remote: Sequence[workers.Worker],
    options: RunOptions,
    deadline: float,
    started_at: dt.datetime,
    t0: float,
) -> Report:
    loop = asyncio.get_running_loop()
    reading: asyncio.Future[AwsFacts] | None = None
    if options.control_plane is not None and topology.vpc.id:
        reading = loop.create_future()
    collecting = [asyncio.ensure_future(w.collect(deadline)) for w in remote]  # read while observing
    asked = asyncio.Event()
    sweeping = asyncio.ensure_future(
        pipeline.sweep(
            local,
            concurrency=options.concurrency,
            deadline=deadline,
            scope=_scope(topology, reading),
            dns_rate=options.dns_rate,
            asked=asked,
        )
    )
    if reading is not None and options.control_plane is not None:
        # The control plane is read once the first question is out: importing boto3 in its thread would
        # otherwise hold the interpreter lock on the way to the first packet.
        first = asyncio.ensure_future(asked.wait())
        await asyncio.wait([first, sweeping], return_when=asyncio.FIRST_COMPLETED)
        first.cancel()
        _in_daemon_thread(options.control_plane.read, topology, reading)
    observations: Sequence[Observation] = await sweeping
    del sweeping  # the task holds the observations as its result: judging releases them one by one
    if collecting:
        parts = [observations, *await asyncio.gather(*collecting)]
        del collecting
        by_name = {o.endpoint.name: o for part in parts for o in part}
        del parts
        observations = [by_name.pop(e.name) for e in topology.endpoints]
    from vpc_verify import judge
    from vpc_verify.report import Report

    run_facts = await _run_facts(topology, reading, max(0.0, deadline - loop.time()), options.partial)
    flows = await _evidence(options.evidence, topology, observations, run_facts.aws, started_at, deadline - loop.time())
    pending = deque(observations)
    del observations
    report = Report(
        started_at=started_at,
        duration_ms=0.0,
        endpoints=_judge(pending, topology, run_facts.aws, flows),
        origin=replace(
            options.origin,
            hostname=socket.gethostname(),
            place=run_facts.aws.place if run_facts.aws is not None else options.origin.place,
        ),
        region=topology.region,
        vpc_id=topology.vpc.id,
        run_findings=judge.run(run_facts),
        usage=_usage(run_facts),
    )
    report = replace(report, duration_ms=(time.perf_counter() - t0) * 1000.0)
    get_logger().info(
        "run_finished",
        healthy=report.healthy,
        endpoints=len(report.endpoints),
        unhealthy=sum(1 for e in report.endpoints if not e.healthy),
        findings=len(report.findings),
        duration_ms=round(report.duration_ms, 1),
    )
    return report


def _answered(observations: Iterable[Observation], most: int = 3) -> tuple[str, ...]:
    """A few names the resolver answered in this run: a timeout elsewhere is then not the resolver unreachable."""
    names: list[str] = []
    for o in observations:
        names += [r.name for r in o.dns if r.status.value not in ("timeout", "error") and r.name not in names]
        if len(names) >= most:
            break
    return tuple(names[:most])


def _judge(
    pending: deque[Observation], topology: Topology, aws: AwsFacts | None, flows: FlowFacts | None = None
) -> tuple[EndpointReport, ...]:
    """The endpoints' reports, in order; each observation is taken out of `pending` as it is judged, so what only
    the observation held (its dicts, a worker's copy) is freed before the next: the run never holds every
    observation and every report at once."""
    from vpc_verify import judge
    from vpc_verify.judge.facts import join
    from vpc_verify.judge.rules.run_state import check_error
    from vpc_verify.report import EndpointReport

    log = get_logger()
    now = dt.datetime.now(dt.UTC)
    reports = []
    answered = _answered(pending)
    while pending:
        o = pending.popleft()
        try:
            report = judge.endpoint(join(o, topology, aws, now, flows, answered=answered))
        except Exception as exc:  # a bug in joining: this endpoint says so, the others stand
            e = o.endpoint
            finding = check_error(e.name, "joining the planes' facts", exc)
            report = EndpointReport(e.name, e.type, e.service, (finding,), o.dns, (), o.ms)
        reports.append(report)
        log.info(
            "endpoint_checked",
            endpoint=report.name,
            healthy=report.healthy,
            codes=sorted({f.code.value for f in report.findings}),
            addresses=len(report.addresses),
            reachable=round(report.reachable, 3),
            ms=round(report.ms, 1),
        )
    return tuple(reports)


def _scope(topology: Topology, reading: asyncio.Future[AwsFacts] | None) -> Scope:
    """The networks whose answers are probed: the VPC's CIDRs (the topology's, else the control plane's once it
    answers) and the endpoint's hub's."""
    cidrs = topology.vpc.cidrs

    async def known(endpoint: Endpoint) -> Sequence[IPNetwork]:
        return topology.networks(endpoint)

    if cidrs or reading is None:
        return known

    async def from_aws(endpoint: Endpoint) -> Sequence[IPNetwork]:
        try:
            cidrs = (await asyncio.shield(reading)).state.cidrs
        except Exception:  # the run reports the control-plane failure once; probe what is private
            return ()
        return cidrs + (endpoint.hub.cidrs if endpoint.hub is not None and cidrs else ())

    return from_aws


async def _run_facts(
    topology: Topology, reading: asyncio.Future[AwsFacts] | None, timeout: float, partial: bool
) -> RunFacts:
    from vpc_verify.judge.facts import RunFacts

    if reading is None:
        return RunFacts(topology=topology, aws=None, partial=partial)
    try:
        aws = await asyncio.wait_for(reading, timeout=timeout)
    except TimeoutError:
        return RunFacts(topology=topology, aws=None, aws_timed_out=True, partial=partial)
    except UsageError:
        raise  # the shell was told a place that is not in the VPC (--subnet-id): bad input, not a finding
    except Exception as exc:
        return RunFacts(topology=topology, aws=None, aws_error=exc, partial=partial)
    return RunFacts(topology=topology, aws=aws, partial=partial)


def _usage(facts: RunFacts) -> UsageSummary | None:
    """`check --usage`: the usage summary, when it was read."""
    if facts.aws is None or facts.aws.usage is None:
        return None  # nothing to sum up: the usage view's modules are not imported (about 12 ms)
    from vpc_verify.judge.usage import UsageFacts

    try:
        view = UsageFacts.of(facts)
        return view.summary() if view is not None else None
    except Exception as exc:  # a bug in summing up: the findings stand, the summary is left out
        get_logger().error("usage_summary_failed", error=f"{type(exc).__name__}: {exc}")
        return None


async def _evidence(
    evidence: Evidence | None,
    topology: Topology,
    observations: Sequence[Observation],
    aws: AwsFacts | None,
    started_at: dt.datetime,
    timeout: float,
) -> FlowFacts | None:
    """The second step: evidence for the failed probes, in what is left of the deadline; a failure or the
    deadline is said in the evidence itself, the run's findings stand."""
    if evidence is None:
        return None
    from vpc_verify.aws.flowlogs import FlowFacts

    loop = asyncio.get_running_loop()
    reading = _in_daemon_thread(
        lambda t: evidence.read(t, observations, aws, started_at), topology, loop.create_future()
    )
    now = dt.datetime.now(dt.UTC)
    try:
        return await asyncio.wait_for(reading, timeout=max(0.0, timeout))
    except TimeoutError:
        return FlowFacts((), (), started_at, now, error="not read before the run's deadline")
    except Exception as exc:
        return FlowFacts((), (), started_at, now, error=f"{type(exc).__name__}: {exc}")


def _in_daemon_thread(
    read: Callable[[Topology], T], topology: Topology, future: asyncio.Future[T]
) -> asyncio.Future[T]:
    """Run a blocking read (the control plane, the evidence) in a daemon thread, its outcome delivered to
    `future`: unlike asyncio.to_thread, nothing joins it, so a hung AWS call cannot hold the run (or the Lambda)
    past its deadline."""
    loop = asyncio.get_running_loop()

    def deliver(value: T | BaseException) -> None:
        if future.done():
            return
        if isinstance(value, BaseException):
            future.set_exception(value)
        else:
            future.set_result(value)

    def target() -> None:
        outcome: T | BaseException
        try:
            outcome = read(topology)
        except BaseException as exc:  # delivered to the run, which turns it into a finding
            outcome = exc
        with contextlib.suppress(RuntimeError):  # a closed loop: the run ended without it
            loop.call_soon_threadsafe(deliver, outcome)

    threading.Thread(target=target, name="vpc-verify-control-plane", daemon=True).start()
    return future
