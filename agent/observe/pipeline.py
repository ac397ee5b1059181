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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from vpc_verify.addresses import in_networks, is_private
from vpc_verify.checks import dns, http, signed, tcp, tls
from vpc_verify.checks.dns import DnsResult
from vpc_verify.observe import specs
from vpc_verify.observe.confirm import confirm_slow
from vpc_verify.report import AddressProbe
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
    """The two concurrency bounds of a sweep."""

    work: asyncio.Semaphore
    connect: asyncio.Semaphore

    @classmethod
    def for_concurrency(cls, concurrency: int) -> Limits:
        """`concurrency` handshakes; as many waits as file descriptors allow, up to MAX_WAITING."""
        concurrency = max(1, concurrency)
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        spare = (soft if soft != resource.RLIM_INFINITY else 65536) - 64 - concurrency
        return cls(
            work=asyncio.Semaphore(concurrency), connect=asyncio.Semaphore(max(concurrency, min(MAX_WAITING, spare)))
        )


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
        return Observation(
            endpoint=self.endpoint,
            dns=tuple(self.dns),
            answers={a: tuple(n) for a, n in self.answers.items()},
            skipped=dict(self.skipped),
            probes=dict(self.probes),
            ending=ending,
            phase=self.phase if ending is not Ending.DONE else "done",
            error=self.error,
            ms=((self.finished or now) - self.started) * 1000.0 if self.started else 0.0,
        )


async def sweep(topology: Topology, *, concurrency: int, deadline: float, scope: Scope) -> tuple[Observation, ...]:
    """Observe every endpoint of `topology` by the loop-time `deadline`, then confirm slow handshakes."""
    loop = asyncio.get_running_loop()
    limits = Limits.for_concurrency(concurrency)
    progress = [Progress(endpoint=e) for e in topology.endpoints]
    tasks = [asyncio.create_task(_observe(p, topology, limits, scope)) for p in progress]
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - loop.time()))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        else:
            slow = [(p.endpoint, a, probe) for p in progress for a, probe in p.probes.items()]
            for endpoint, address, better in await confirm_slow(slow, deadline):
                next(p for p in progress if p.endpoint is endpoint).probes[address] = better
    now = loop.time()
    return tuple(p.freeze(now) for p in progress)


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


async def _observe(p: Progress, topology: Topology, limits: Limits, scope: Scope) -> None:
    loop = asyncio.get_running_loop()
    p.started = loop.time()
    try:
        await _observe_endpoint(p, topology, limits, scope)
    except asyncio.CancelledError:
        p.cancelled = True
        raise
    except Exception as exc:  # a bug in a probe or the agent: this endpoint says so, the run goes on
        p.error = exc
    finally:
        p.finished = loop.time()


async def _observe_endpoint(p: Progress, topology: Topology, limits: Limits, scope: Scope) -> None:
    endpoint = p.endpoint

    async def resolve(name: str) -> DnsResult:
        spec = specs.dns_spec(endpoint, topology.resolver, name)
        async with limits.connect:
            return await asyncio.wait_for(dns.resolve(spec), spec.timeout_s * 2 + GUARD_SLACK_S)

    p.dns = list(await asyncio.gather(*(resolve(n) for n in endpoint.dns_names)))
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
    await asyncio.gather(*(_probe_address(p, a, limits) for a in p.answers if a not in p.skipped))


async def _probe_address(p: Progress, address: str, limits: Limits) -> None:
    endpoint = p.endpoint
    guard = endpoint.timeout_s + GUARD_SLACK_S
    async with limits.connect, asyncio.timeout(guard):
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
            async with asyncio.timeout(guard):
                probe = AddressProbe(tcp=tcp_result, tls=await tls.handshake_over(sock, tls_spec))
        finally:
            limits.work.release()
    p.probes[address] = probe
    http_spec = specs.http_spec(endpoint, address)
    if probe.completed and http_spec is not None:
        async with limits.work, asyncio.timeout(guard):
            p.probes[address] = AddressProbe(tcp=probe.tcp, tls=probe.tls, http=await http.request(http_spec))
    signed_spec = specs.signed_spec(endpoint, address)
    if probe.completed and signed_spec is not None:  # bounded by the probe itself (signing, then 2 x timeout)
        async with limits.work:
            p.probes[address] = replace(p.probes[address], signed=await signed.call(signed_spec))
