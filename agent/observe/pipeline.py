"""One sweep of the data plane: every endpoint observed concurrently, frozen into Observations at the end.

Per endpoint: DNS for each of its names, then, for each answered address in scope, TCP -> TLS -> HTTP -> the
signed AWS call (`authorize`). What
has been seen is kept as it arrives, so the run's deadline keeps every finished probe. Two bounds: `work` for
what holds memory and CPU (a TLS connection holds ~300 KB: the user's --concurrency) and `connect` for what
only waits (DNS questions, TCP connects: a file descriptor each), so a few hundred dropped addresses waiting
out their timeouts cannot starve the healthy ones.
"""

from __future__ import annotations

import asyncio
import resource
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from vpc_verify.addresses import in_networks, is_private
from vpc_verify.checks import dns, readiness, tcp, tls
from vpc_verify.checks.dns import DnsResult, DnsSpec
from vpc_verify.checks.tcp import TcpResult
from vpc_verify.checks.tls import TlsResult
from vpc_verify.observe import specs
from vpc_verify.observe.bounds import Bound, Waiting
from vpc_verify.observe.confirm import confirm_slow
from vpc_verify.observe.pace import TokenBucket
from vpc_verify.observe.probe import AddressProbe
from vpc_verify.topology import Endpoint, IPNetwork, Topology

MAX_WAITING = 1000  # DNS questions and TCP connects in flight at most (file descriptors, not memory)
GUARD_SLACK_S = 1.0  # past a probe's own timeout, the pipeline gives up on it

# The networks that are "ours" for an endpoint (the VPC's CIDRs, when known), awaited once per endpoint.
Scope = Callable[[Endpoint], Awaitable[Sequence[IPNetwork]]]


class Ending(StrEnum):
    """How an endpoint's observation ended."""

    DONE = "done"
    DEADLINE = "deadline"  # the run's deadline stopped it
    ERROR = "error"  # a bug in a probe or in the pipeline


@dataclass(frozen=True, slots=True)
class Observation:
    """What the data plane saw of one endpoint: DNS results, the answers, and the probes of those in scope."""

    endpoint: Endpoint
    dns: tuple[DnsResult, ...]
    answers: Mapping[str, tuple[str, ...]]  # address -> the names that answered it, in answer order
    skipped: Mapping[str, str]  # answered address -> why it was not probed (in scope: absent)
    probes: Mapping[str, AddressProbe]
    ending: Ending = Ending.DONE
    phase: str = "done"  # where it was when it ended
    error: BaseException | None = None
    ms: float = 0.0

    @property
    def unfinished(self) -> tuple[str, ...]:
        """Addresses in scope whose probes did not finish."""
        return tuple(a for a in self.answers if a not in self.skipped and a not in self.probes)


@dataclass(frozen=True, slots=True)
class Limits:
    """The two concurrency bounds of a sweep, and how its probe sockets are watched."""

    work: Bound
    connect: Bound
    # Endpoints under observation at once: enough to fill both bounds, so the rest wait as a Progress record
    # rather than as a task with its coroutines (a few KB each: at 5,000 endpoints most of a sweep's memory).
    window: int = 1
    # How the probes' sockets are watched (tls.Dial): one epoll set for the sweep; closed with it.
    io: readiness.Readiness | None = None

    @classmethod
    def for_concurrency(cls, concurrency: int) -> Limits:
        """`concurrency` handshakes; as many waits as file descriptors allow, up to MAX_WAITING."""
        concurrency = max(1, concurrency)
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        spare = (soft if soft != resource.RLIM_INFINITY else 65536) - 64 - concurrency
        waits = max(concurrency, min(MAX_WAITING, spare))
        loop = asyncio.get_running_loop()
        return cls(Bound(concurrency), Bound(waits), waits + concurrency, readiness.for_sweep(loop))


class Questions:
    """The run's DNS questions: each asked once (two endpoints with the same name share the answer), every
    packet paced by one token bucket so the resolver is never asked faster than `rate` packets a second."""

    def __init__(
        self, rate: float, limits: Limits, asked: asyncio.Event | None = None, shared: Collection[str] = ()
    ) -> None:
        self.bucket = TokenBucket(rate)
        self._limits = limits
        self._asked: dict[DnsSpec, asyncio.Task[DnsResult]] = {}
        self._shared = shared  # names more than one endpoint asks; the others need no shared task
        self.first = asked or asyncio.Event()  # set as the first question goes out

    async def ask(self, spec: DnsSpec) -> DnsResult:
        """The result for `spec`, asking the resolver only the first time."""
        if spec.name not in self._shared:
            return await self._resolve(spec)
        task = self._asked.get(spec)
        if task is None:
            task = self._asked[spec] = asyncio.ensure_future(self._resolve(spec))
        # Shielded: an endpoint cancelled by the deadline must not cancel the question for the others.
        return await asyncio.shield(task)

    async def _resolve(self, spec: DnsSpec) -> DnsResult:
        # The first round's packets (A, AAAA) are paid for before a socket slot is taken, so questions queued
        # for their turn hold no file descriptor; any further packet (the next nameserver, TCP after a
        # truncation) pays as it goes. No guard beyond the probe's own timeouts: every wait in `resolve` is
        # bounded, and a wait for a token is the run's pace, not the resolver's slowness.
        prepaid = max(1, int(spec.ipv4) + int(spec.ipv6))
        await self.bucket.take(prepaid)
        self.first.set()  # its packet is sent before this task next yields

        async def pace() -> None:
            nonlocal prepaid
            if prepaid > 0:
                prepaid -= 1
            else:
                await self.bucket.take()

        async with self._limits.connect:
            return await dns.resolve(spec, pace=pace)

    def cancel(self) -> None:
        """Cancel questions still in flight (the deadline passed)."""
        for task in self._asked.values():
            task.cancel()


@dataclass(slots=True)
class Progress:
    """One endpoint's observation while it is being made (mutable; frozen by `freeze`)."""

    endpoint: Endpoint
    dns: list[DnsResult] = field(default_factory=list)
    answers: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    probes: dict[str, AddressProbe] = field(default_factory=dict)
    phase: str = "dns"
    error: BaseException | None = None
    cancelled: bool = False
    started: float = 0.0
    finished: float | None = None

    def freeze(self, now: float) -> Observation:
        """The observation as it stands."""
        if self.error is not None:
            ending = Ending.ERROR
        elif self.cancelled or self.finished is None:
            ending = Ending.DEADLINE
        else:
            ending = Ending.DONE
        # The dicts are handed over, not copied: nothing writes to a Progress once it is frozen, and a sweep
        # holds every endpoint's record at its end.
        return Observation(
            endpoint=self.endpoint,
            dns=tuple(self.dns),
            answers={a: tuple(n) for a, n in self.answers.items()},
            skipped=self.skipped,
            probes=self.probes,
            ending=ending,
            phase=self.phase if ending is not Ending.DONE else "done",
            error=self.error,
            ms=((self.finished or now) - self.started) * 1000.0 if self.started else 0.0,
        )


async def sweep(
    topology: Topology,
    *,
    concurrency: int,
    deadline: float,
    scope: Scope,
    dns_rate: float | None = None,
    asked: asyncio.Event | None = None,
) -> tuple[Observation, ...]:
    """Observe every endpoint of `topology` by the loop-time `deadline`, then confirm slow handshakes.

    DNS packets go out at `dns_rate` a second at most (default: the topology's resolver.queries_per_second);
    `asked` is set as the first question goes out.
    """
    loop = asyncio.get_running_loop()
    limits = Limits.for_concurrency(concurrency)
    names = Counter(n for e in topology.endpoints for n in e.dns_names)
    shared = {n for n, count in names.items() if count > 1}
    questions = Questions(dns_rate or topology.resolver.queries_per_second, limits, asked, shared)
    progress = [Progress(endpoint=e) for e in topology.endpoints]
    running: set[asyncio.Task[None]] = set()
    try:
        await _sweep(progress, topology, questions, limits, scope, running, deadline)
    finally:
        if limits.io is not None:
            limits.io.close()
    now = loop.time()
    return tuple(p.freeze(now) for p in progress)


async def _sweep(
    progress: Sequence[Progress],
    topology: Topology,
    questions: Questions,
    limits: Limits,
    scope: Scope,
    running: set[asyncio.Task[None]],
    deadline: float,
) -> None:
    loop = asyncio.get_running_loop()
    if progress:
        feeding = asyncio.ensure_future(_feed(progress, topology, questions, limits, scope, running))
        try:
            await asyncio.wait_for(asyncio.shield(feeding), max(0.0, deadline - loop.time()))
            late = False
        except TimeoutError:
            late = True
        if late:
            feeding.cancel()
            pending = list(running)
            for task in pending:
                task.cancel()
            questions.cancel()
            await asyncio.gather(feeding, *pending, return_exceptions=True)
        else:
            slow = [(p.endpoint, a, probe) for p in progress for a, probe in p.probes.items()]
            for endpoint, address, better in await confirm_slow(slow, deadline):
                next(p for p in progress if p.endpoint is endpoint).probes[address] = better


async def _feed(
    progress: Sequence[Progress],
    topology: Topology,
    questions: Questions,
    limits: Limits,
    scope: Scope,
    running: set[asyncio.Task[None]],
) -> None:
    """Observe every endpoint, `limits.window` at a time, in topology order; return when all are done."""
    slots = asyncio.Semaphore(limits.window)
    for p in progress:
        await slots.acquire()
        task = asyncio.create_task(_observe(p, topology, questions, limits, scope))
        running.add(task)
        task.add_done_callback(running.discard)
        task.add_done_callback(lambda _: slots.release())
    while running:
        await asyncio.wait(list(running))


def skip_reason(endpoint: Endpoint, address: str, ours: Sequence[IPNetwork]) -> str:
    """Why an answer is not probed ("" when it is): it is not the endpoint, and a connect proves nothing.

    An address inside our networks (the VPC's CIDRs: IPv6 global unicast, non-RFC 1918 ranges) is ours,
    whatever its range; outside them, a public address is the public service and a private one another
    network's. A gateway endpoint's addresses are the service's public prefix list, probed by design.
    """
    if endpoint.type == "gateway":
        return ""
    if ours and in_networks(address, ours):
        return ""
    if not is_private(address):
        return "public address: not the endpoint's ENI"
    if ours:
        return "outside the VPC's CIDRs: not this VPC's endpoint"
    return ""


async def _observe(p: Progress, topology: Topology, questions: Questions, limits: Limits, scope: Scope) -> None:
    loop = asyncio.get_running_loop()
    p.started = loop.time()
    try:
        await _observe_endpoint(p, topology, questions, limits, scope)
    except asyncio.CancelledError:
        p.cancelled = True
        raise
    except Exception as exc:  # a bug in a probe or the agent: this endpoint says so, the run goes on
        p.error = exc
    finally:
        p.finished = loop.time()


async def _observe_endpoint(
    p: Progress, topology: Topology, questions: Questions, limits: Limits, scope: Scope
) -> None:
    endpoint = p.endpoint
    names = endpoint.dns_names
    if len(names) == 1:
        p.dns = [await questions.ask(specs.dns_spec(endpoint, topology.resolver, names[0]))]
    else:
        p.dns = list(
            await asyncio.gather(*(questions.ask(specs.dns_spec(endpoint, topology.resolver, n)) for n in names))
        )
    for result in p.dns:
        for address in result.answers:
            p.answers.setdefault(address, []).append(result.name)
    if not p.answers:
        return
    p.phase = "control plane (VPC CIDRs)"
    ours = await scope(endpoint)
    for address in p.answers:
        reason = skip_reason(endpoint, address, ours)
        if reason:
            p.skipped[address] = reason
    p.phase = "probes"
    probed = [a for a in p.answers if a not in p.skipped]
    if endpoint.http is None and (endpoint.authorize is None or not endpoint.authorize.enabled):
        await _Dialing(p, probed, limits).run()
    elif len(probed) == 1:
        await _probe_address(p, probed[0], limits)
    else:
        await asyncio.gather(*(_probe_address(p, a, limits) for a in probed))


async def _probe_address(p: Progress, address: str, limits: Limits) -> None:
    # The connect and the handshake bound themselves (each under its own asyncio.timeout); only the HTTP
    # phase, whose client is not ours, is guarded here.
    endpoint = p.endpoint
    async with limits.connect:
        sock, tcp_result = await tcp.open_socket(specs.tcp_spec(endpoint, address))
    probe = AddressProbe(tcp=tcp_result)
    tls_spec = specs.tls_spec(endpoint, address)
    if sock is not None and tls_spec is None:
        sock.close()
    elif sock is not None and tls_spec is not None:
        try:
            await limits.work.acquire()
        except BaseException:  # cancelled while queued: the connected socket is ours to close
            sock.close()
            raise
        try:
            probe = AddressProbe(tcp=tcp_result, tls=await tls.handshake_over(sock, tls_spec))
        finally:
            limits.work.release()
    p.probes[address] = probe
    http_spec = specs.http_spec(endpoint, address)
    if probe.completed and http_spec is not None:
        from vpc_verify.checks import http  # only for endpoints with an HTTP phase: not on the way to the first packet

        async with limits.work, asyncio.timeout(endpoint.timeout_s + GUARD_SLACK_S):
            p.probes[address] = AddressProbe(tcp=probe.tcp, tls=probe.tls, http=await http.request(http_spec))
    signed_spec = specs.signed_spec(endpoint, address)
    if probe.completed and signed_spec is not None:  # bounded by the probe itself (signing, then 2 x timeout)
        from vpc_verify.checks import signed

        async with limits.work:
            p.probes[address] = replace(p.probes[address], signed=await signed.call(signed_spec))


class _Dialing:
    """An endpoint's connects and handshakes (no HTTP phase, no signed call) driven by the loop's callbacks
    (tls.Dial): one future for the endpoint instead of a task, two futures and two timers per address. Each
    address holds a `connect` slot while it connects and a `work` slot while it handshakes, as `_probe_address`.
    """

    __slots__ = ("_addresses", "_dials", "_done", "_held", "_limits", "_loop", "_p", "_pending", "_waiting")

    def __init__(self, p: Progress, addresses: Sequence[str], limits: Limits) -> None:
        self._p = p
        self._limits = limits
        self._loop = asyncio.get_running_loop()
        self._done: asyncio.Future[None] = self._loop.create_future()
        self._addresses = addresses
        self._pending = len(addresses)
        self._dials: list[tls.Dial] = []
        self._waiting: list[Waiting] = []
        self._held: dict[str, Bound] = {}  # address -> the bound whose slot it holds

    async def run(self) -> None:
        """Probe every address; on cancellation every socket is closed and every slot given back."""
        if not self._pending:
            return
        for address in self._addresses:
            self._hold(self._limits.connect, address, self._begin)
        try:
            await self._done
        except BaseException:
            for dial in self._dials:
                dial.cancel()
            for waiting in self._waiting:
                waiting.cancel()
            for bound in self._held.values():
                bound.release()
            self._held.clear()
            raise
        finally:
            self._dials.clear()  # each holds callbacks that hold this object
            self._waiting.clear()

    def _hold(self, bound: Bound, address: str, then: Callable[[str], None]) -> None:
        def granted() -> None:
            self._held[address] = bound
            then(address)

        waiting = bound.when_free(granted)
        if waiting is not None:
            self._waiting.append(waiting)

    def _begin(self, address: str) -> None:
        endpoint = self._p.endpoint
        dial = tls.Dial(
            self._loop,
            address,
            endpoint.port,
            endpoint.timeout_s,
            specs.tls_spec(endpoint, address),
            lambda d: self._connected(address, d),
            lambda tcp_result, tls_result: self._finish(address, tcp_result, tls_result),
            self._limits.io,
        )
        self._dials.append(dial)
        dial.start()

    def _connected(self, address: str, dial: tls.Dial) -> None:
        self._held.pop(address).release()
        self._hold(self._limits.work, address, lambda _: dial.handshake())

    def _finish(self, address: str, tcp_result: TcpResult, tls_result: TlsResult | None) -> None:
        held = self._held.pop(address, None)
        if held is not None:
            held.release()
        self._p.probes[address] = AddressProbe(tcp=tcp_result, tls=tls_result)
        self._pending -= 1
        if not self._pending and not self._done.done():
            self._done.set_result(None)
