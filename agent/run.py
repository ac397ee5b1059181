"""One run: a Topology in, a Report out (docs/architecture.md). No printing, no exiting.

Every endpoint is observed concurrently (DNS for each of its names, then TCP → TLS → HTTP for each address
in scope) under one concurrency bound and one deadline; the AWS control plane, when the topology names a
VPC, is read in a worker thread at the same time. Then the observations are judged into Findings. A probe
never raises out of the run: a bug becomes CHECK_ERROR, the deadline becomes DEADLINE_EXCEEDED, and every
other endpoint's result stands.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import resource
import socket
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from vpc_verify import judge
from vpc_verify.addresses import in_networks, is_private
from vpc_verify.checks import dns, http, tcp, tls
from vpc_verify.checks.dns import DnsResult, DnsSpec
from vpc_verify.findings import Code, Finding
from vpc_verify.logs import get_logger
from vpc_verify.report import AddressReport, EndpointReport, Report
from vpc_verify.topology import Endpoint, IPNetwork, Topology

DEFAULT_CONCURRENCY = 100
MAX_WAITING = 1000  # DNS questions and TCP connects in flight at most (file descriptors, not memory)
DEFAULT_DEADLINE_S = 60.0
_GUARD_SLACK_S = 1.0


class ControlPlaneView(Protocol):
    """What the AWS control plane said about the VPC, as the run needs it (see vpc_verify.aws)."""

    @property
    def cidrs(self) -> tuple[IPNetwork, ...]:
        """The VPC's CIDR blocks."""
        ...

    def expected_addresses(self, endpoint: Endpoint) -> Mapping[str, str | None] | None:
        """The endpoint's ENI addresses mapped to their AZ, or None when AWS knows no such endpoint."""
        ...

    def refine(self, endpoint: Endpoint, report: EndpointReport) -> EndpointReport:
        """Add the control-plane findings and facts to an endpoint's report, and join the planes' evidence."""
        ...

    def run_findings(self) -> list[Finding]:
        """Findings about the VPC as a whole (none of one endpoint)."""
        ...


class ControlPlane(Protocol):
    """Reads the control plane (blocking; the run calls it in a worker thread)."""

    def read(self, topology: Topology) -> ControlPlaneView:
        """Read everything the comparison needs; raise on failure (the run turns it into a finding)."""
        ...


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: the concurrency bound, the deadline and the optional control plane."""

    concurrency: int = DEFAULT_CONCURRENCY
    deadline_s: float = DEFAULT_DEADLINE_S
    control_plane: ControlPlane | None = None
    agent: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Limits:
    """Two bounds: `work` for what holds memory and CPU (a TLS connection holds ~300 KB: the user's
    --concurrency), `connect` for what only waits (DNS questions, TCP connects: a file descriptor each), so
    a few hundred dropped addresses waiting out their timeouts cannot starve the healthy ones."""

    work: asyncio.Semaphore
    connect: asyncio.Semaphore

    @classmethod
    def for_concurrency(cls, concurrency: int) -> _Limits:
        concurrency = max(1, concurrency)
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        spare = (soft if soft != resource.RLIM_INFINITY else 65536) - 64 - concurrency
        return cls(
            work=asyncio.Semaphore(concurrency), connect=asyncio.Semaphore(max(concurrency, min(MAX_WAITING, spare)))
        )


@dataclass(slots=True)
class _Observation:
    """What has been seen of one endpoint so far; filled as probes finish, so a deadline keeps the rest."""

    endpoint: Endpoint
    dns: list[DnsResult] = field(default_factory=list)
    answers: dict[str, list[str]] = field(default_factory=dict)  # address -> names, in answer order
    in_scope: dict[str, str] = field(default_factory=dict)  # address -> "" (probe) or the skip reason
    probes: dict[str, AddressReport] = field(default_factory=dict)
    phase: str = "dns"
    error: BaseException | None = None
    cancelled: bool = False  # the run's deadline stopped it
    started: float = 0.0
    finished: float | None = None


def run(topology: Topology, options: RunOptions | None = None) -> Report:
    """Run every check of `topology` and return the Report (synchronous wrapper of `run_async`)."""
    return asyncio.run(run_async(topology, options or RunOptions()))


async def run_async(topology: Topology, options: RunOptions | None = None) -> Report:
    """Run every check of `topology` concurrently under the options' bound and deadline."""
    options = options or RunOptions()
    log = get_logger()
    started_at = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.deadline_s
    limits = _Limits.for_concurrency(options.concurrency)

    cp_task: asyncio.Future[ControlPlaneView] | None = None
    if options.control_plane is not None and topology.vpc.id:
        cp_task = _in_daemon_thread(options.control_plane.read, topology)

    observations = [_Observation(endpoint=e) for e in topology.endpoints]
    tasks = [asyncio.create_task(_observe(o, topology, limits, cp_task)) for o in observations]
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - loop.time()))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        else:
            await _confirm_slow(observations, deadline)

    run_findings: list[Finding] = []
    view: ControlPlaneView | None = None
    if cp_task is not None:
        view, cp_finding = await _control_plane_result(cp_task, topology, max(0.0, deadline - loop.time()))
        if cp_finding is not None:
            run_findings.append(cp_finding)
        if view is not None:
            try:
                run_findings.extend(view.run_findings())
            except Exception as exc:  # a bug in the comparison: say so, keep the data plane's results
                run_findings.append(_comparison_error("*", "the VPC-wide comparison", exc))

    now = dt.datetime.now(dt.UTC)
    cidrs = topology.vpc.cidrs or (view.cidrs if view is not None else ())
    reports = []
    for o in observations:
        try:
            endpoint_report = _judge(o, topology, cidrs, view, now)
        except Exception as exc:  # a bug in judgment: this endpoint says so, the others stand
            endpoint_report = EndpointReport(
                name=o.endpoint.name,
                type=o.endpoint.type,
                service=o.endpoint.service,
                findings=(_comparison_error(o.endpoint.name, "judging the observations", exc),),
                dns=tuple(o.dns),
                addresses=(),
                ms=0.0,
            )
        reports.append(endpoint_report)
        log.info(
            "endpoint_checked",
            endpoint=endpoint_report.name,
            healthy=endpoint_report.healthy,
            codes=sorted({f.code for f in endpoint_report.findings}),
            addresses=len(endpoint_report.addresses),
            reachable=round(endpoint_report.reachable, 3),
            ms=round(endpoint_report.ms, 1),
        )
    report = Report(
        started_at=started_at,
        duration_ms=(time.perf_counter() - t0) * 1000.0,
        endpoints=tuple(reports),
        agent={"hostname": socket.gethostname(), **dict(options.agent)},
        region=topology.region,
        vpc_id=topology.vpc.id,
        run_findings=tuple(run_findings),
    )
    log.info(
        "run_finished",
        healthy=report.healthy,
        endpoints=len(report.endpoints),
        unhealthy=sum(1 for e in report.endpoints if not e.healthy),
        findings=len(report.findings),
        duration_ms=round(report.duration_ms, 1),
    )
    return report


def _in_daemon_thread(read: Any, topology: Topology) -> asyncio.Future[ControlPlaneView]:
    """Run a blocking control-plane read in a daemon thread: unlike asyncio.to_thread, nothing joins it, so a
    hung AWS call cannot hold the run (or the Lambda) past its deadline."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[ControlPlaneView] = loop.create_future()

    def deliver(ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def target() -> None:
        try:
            result = read(topology)
        except BaseException as exc:  # delivered to the run, which turns it into a finding
            outcome = (False, exc)
        else:
            outcome = (True, result)
        with contextlib.suppress(RuntimeError):  # a closed loop: the run ended without it
            loop.call_soon_threadsafe(deliver, *outcome)

    threading.Thread(target=target, name="vpc-verify-control-plane", daemon=True).start()
    return future


def _comparison_error(endpoint: str, what: str, exc: Exception) -> Finding:
    return Finding.make(
        Code.CHECK_ERROR,
        endpoint,
        f"vpc-verify failed in {what}: {type(exc).__name__}: {exc}",
        evidence={
            "phase": what,
            "error": type(exc).__name__,
            "detail": str(exc),
            "traceback": traceback.format_exception(exc)[-3:],
        },
    )


async def _control_plane_result(
    task: asyncio.Future[ControlPlaneView], topology: Topology, timeout: float
) -> tuple[ControlPlaneView | None, Finding | None]:
    try:
        return await asyncio.wait_for(task, timeout=timeout), None
    except TimeoutError:
        return None, Finding.make(
            Code.DEADLINE_EXCEEDED,
            "*",
            "the AWS control plane was not read before the run's deadline",
            evidence={"vpc_id": topology.vpc.id},
        )
    except Exception as exc:
        return None, Finding.make(
            Code.AWS_API_ERROR,
            "*",
            f"reading the control plane of {topology.vpc.id} failed: {exc}",
            evidence={"vpc_id": topology.vpc.id, "error": type(exc).__name__, "detail": str(exc)},
        )


async def _observe(
    o: _Observation, topology: Topology, limits: _Limits, cp_task: asyncio.Future[ControlPlaneView] | None
) -> None:
    loop = asyncio.get_running_loop()
    o.started = loop.time()
    try:
        await _observe_endpoint(o, topology, limits, cp_task)
    except asyncio.CancelledError:
        o.cancelled = True
        raise
    except Exception as exc:  # a bug in a probe or the agent: this endpoint says so, the run goes on
        o.error = exc
    finally:
        o.finished = loop.time()


async def _observe_endpoint(
    o: _Observation, topology: Topology, limits: _Limits, cp_task: asyncio.Future[ControlPlaneView] | None
) -> None:
    endpoint = o.endpoint
    resolver = topology.resolver

    async def resolve(name: str) -> DnsResult:
        spec = DnsSpec(
            name=name,
            nameservers=resolver.nameservers,
            port=resolver.port,
            timeout_s=resolver.timeout_ms / 1000.0,
            ipv4=endpoint.asks_a,
            ipv6=endpoint.asks_aaaa,
        )
        async with limits.connect:
            return await asyncio.wait_for(dns.resolve(spec), spec.timeout_s * 2 + _GUARD_SLACK_S)

    o.dns = list(await asyncio.gather(*(resolve(n) for n in endpoint.dns_names)))
    for result in o.dns:
        for address in result.answers:
            o.answers.setdefault(address, []).append(result.name)

    cidrs = topology.vpc.cidrs
    if not cidrs and cp_task is not None and endpoint.type != "gateway":
        o.phase = "control plane (VPC CIDRs)"
        try:
            cidrs = (await asyncio.shield(cp_task)).cidrs
        except Exception:
            cidrs = ()  # the run reports the control-plane failure once; probe what is private
    for address in o.answers:
        o.in_scope[address] = _skip_reason(endpoint, address, cidrs)

    o.phase = "probes"
    targets = [a for a, reason in o.in_scope.items() if not reason]
    await asyncio.gather(*(_probe_address(o, a, limits) for a in targets))


CONFIRMING = 4  # second measurements in flight: few, so that the loop itself adds no latency


async def _confirm_slow(observations: Sequence[_Observation], deadline: float) -> None:
    """Measure connect+TLS again, once the sweep is over, on every address that looked over its budget.

    During the sweep a hundred handshakes share one event loop (and the servers share their CPUs): a queue
    can look like a slow endpoint. A warning should describe the network, so the second, unhurried
    measurement stands when it is faster; a really slow endpoint is slow both times.
    """
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONFIRMING)

    async def confirm(o: _Observation, address: str, first: AddressReport) -> None:
        endpoint = o.endpoint
        async with gate:
            if endpoint.tls is not None:
                again = replace(first, tls=await tls.handshake(_tls_spec(endpoint, address)))
            else:
                again = replace(
                    first,
                    tcp=await tcp.connect(
                        tcp.TcpSpec(address=address, port=endpoint.port, timeout_s=endpoint.timeout_s)
                    ),
                )
        if _completed(again) and again.connect_tls_ms < first.connect_tls_ms:
            o.probes[address] = again

    slow = [
        (o, a, r)
        for o in observations
        for a, r in o.probes.items()
        if _completed(r) and r.connect_tls_ms > o.endpoint.latency_budget_ms
    ]
    if not slow:
        return
    left = deadline - loop.time()
    if left <= 0:
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(left):
            await asyncio.gather(*(confirm(o, a, r) for o, a, r in slow))


def _completed(report: AddressReport) -> bool:
    """Whether the connect (and the handshake, when there is one) succeeded: only then is there a latency."""
    if report.tls is not None:
        return report.tls.status is tls.TlsStatus.OK
    return report.tcp is not None and report.tcp.status is tcp.TcpStatus.OK


def _tls_spec(endpoint: Endpoint, address: str) -> tls.TlsSpec:
    assert endpoint.tls is not None
    return tls.TlsSpec(
        address=address,
        port=endpoint.port,
        server_name=endpoint.server_name,
        timeout_s=endpoint.timeout_s,
        verify=endpoint.tls.verify,
        ca_bundle=endpoint.tls.ca_bundle,
    )


def _skip_reason(endpoint: Endpoint, address: str, cidrs: Sequence[IPNetwork]) -> str:
    """Why an answer is not probed: it is not the endpoint, and connecting to it proves nothing about it."""
    if endpoint.type == "gateway":
        return ""
    if not is_private(address):
        return "public address: not the endpoint's ENI"
    if cidrs and not in_networks(address, cidrs):
        return "outside the VPC's CIDRs: not this VPC's endpoint"
    return ""


async def _probe_address(o: _Observation, address: str, limits: _Limits) -> None:
    endpoint = o.endpoint
    timeout = endpoint.timeout_s
    tls_settings = endpoint.tls
    server_name = endpoint.server_name
    guard = timeout + _GUARD_SLACK_S
    async with limits.connect, asyncio.timeout(guard):
        sock, tcp_result = await tcp.open_socket(tcp.TcpSpec(address=address, port=endpoint.port, timeout_s=timeout))
    tls_result = http_result = None
    if tls_settings is None:
        if sock is not None:
            sock.close()
        connected = sock is not None
        o.probes[address] = AddressReport(address=address, tcp=tcp_result)
    elif sock is None:
        tls_result = tls.TlsResult(tcp_result, tls.TlsStatus.SKIPPED, error=tcp_result.error)
        connected = False
        o.probes[address] = AddressReport(address=address, tls=tls_result)
    else:
        try:
            await limits.work.acquire()
        except BaseException:  # cancelled while queued: the connected socket is ours to close
            sock.close()
            raise
        try:
            async with asyncio.timeout(guard):
                tls_result = await tls.handshake_over(sock, tcp_result, _tls_spec(endpoint, address))
        finally:
            limits.work.release()
        connected = tls_result.status is tls.TlsStatus.OK
        o.probes[address] = AddressReport(address=address, tls=tls_result)
    if connected and endpoint.http is not None:
        async with limits.work, asyncio.timeout(guard):
            http_result = await http.request(
                http.HttpSpec(
                    address=address,
                    port=endpoint.port,
                    server_name=server_name,
                    path=endpoint.http.path,
                    method=endpoint.http.method,
                    scheme="https" if tls_settings is not None else "http",
                    timeout_s=timeout,
                    verify=tls_settings.verify if tls_settings else True,
                    ca_bundle=tls_settings.ca_bundle if tls_settings else None,
                )
            )
        o.probes[address] = AddressReport(
            address=address, tcp=None if tls_result else tcp_result, tls=tls_result, http=http_result
        )


def _judge(
    o: _Observation, topology: Topology, cidrs: Sequence[IPNetwork], view: ControlPlaneView | None, now: dt.datetime
) -> EndpointReport:
    endpoint = o.endpoint
    azs: Mapping[str, str | None] = {}
    expected: tuple[str, ...] = endpoint.addresses
    view_error: Exception | None = None
    if view is not None:
        try:
            discovered = view.expected_addresses(endpoint)
        except Exception as exc:  # judged without the control plane's addresses; the finding says why
            discovered, view_error = None, exc
        if discovered is not None:
            azs = discovered
            expected = expected or tuple(discovered)

    addresses = []
    for address, names in o.answers.items():
        probed = o.probes.get(address)
        reason = o.in_scope.get(address, "")
        addresses.append(
            AddressReport(
                address=address,
                names=tuple(names),
                az=azs.get(address),
                private=is_private(address),
                in_vpc=in_networks(address, cidrs) if cidrs else None,
                expected=(address in expected) if expected else None,
                probed=probed is not None,
                skip_reason=(
                    ""
                    if probed is not None
                    else reason or ("the run's deadline came before this address was probed" if o.cancelled else "")
                ),
                tcp=probed.tcp if probed else None,
                tls=probed.tls if probed else None,
                http=probed.http if probed else None,
            )
        )

    findings: list[Finding] = []
    findings += judge.dns_findings(endpoint, o.dns, topology.resolver.timeout_ms)
    findings += judge.answer_findings(endpoint, addresses, expected, o.dns)
    for a in addresses:
        findings += judge.probe_findings(endpoint, a, now)

    if o.error is not None:
        findings.append(
            Finding.make(
                Code.CHECK_ERROR,
                endpoint.name,
                f"vpc-verify failed while checking this endpoint ({o.phase}): {type(o.error).__name__}: {o.error}",
                evidence={
                    "phase": o.phase,
                    "error": type(o.error).__name__,
                    "detail": str(o.error),
                    "traceback": traceback.format_exception(o.error)[-3:],
                },
            )
        )
    elif o.cancelled or o.finished is None:
        unfinished = [a for a, reason in o.in_scope.items() if not reason and a not in o.probes]
        findings.append(
            Finding.make(
                Code.DEADLINE_EXCEEDED,
                endpoint.name,
                f"the run's deadline came during the {o.phase} phase of this endpoint",
                evidence={
                    "phase": o.phase,
                    "unfinished_addresses": unfinished,
                    "names_resolved": [d.name for d in o.dns],
                },
            )
        )

    elapsed = ((o.finished or asyncio.get_running_loop().time()) - o.started) * 1000.0 if o.started else 0.0
    report = EndpointReport(
        name=endpoint.name,
        type=endpoint.type,
        service=endpoint.service,
        findings=tuple(findings),
        dns=tuple(o.dns),
        addresses=tuple(addresses),
        ms=elapsed,
    )
    if view_error is not None:
        return with_findings(report, [_comparison_error(endpoint.name, "the control-plane comparison", view_error)])
    if view is not None:
        try:
            report = view.refine(endpoint, report)
        except Exception as exc:
            report = with_findings(report, [_comparison_error(endpoint.name, "the control-plane comparison", exc)])
    return report


def with_findings(report: EndpointReport, extra: Sequence[Finding]) -> EndpointReport:
    """A copy of an endpoint report with more findings (for control-plane refinement)."""
    return replace(report, findings=report.findings + tuple(extra))
