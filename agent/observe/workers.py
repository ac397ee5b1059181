"""The sweep over several processes: the endpoints in shards, one forked worker per shard beyond the first (which
the run's own process observes), every worker under the run's one deadline, its observations sent back whole.

A handshake is CPU in OpenSSL under one interpreter lock: a second core needs a second process. Only the data
plane moves: the control plane is read once, in the run's process, and everything is judged there.

- Endpoints that share a DNS name share a shard, so an identical question is still asked once per run.
- The DNS rate stays global: each shard gets its share of it (and of --concurrency), by its number of names.
- Workers are forked before the run's event loop and control-plane thread exist: they inherit the imported
  modules (no start-up cost) and no lock another thread held.
- A worker that dies or does not report by the deadline (plus a grace) costs only its shard: each of its
  endpoints ends in error, and the other shards stand.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from vpc_verify.observe import runner
from vpc_verify.observe.pipeline import Ending, Observation, sweep
from vpc_verify.topology import Endpoint, IPNetwork, Topology

if TYPE_CHECKING:
    from vpc_verify.checks.dns import DnsResult
    from vpc_verify.observe.probe import AddressProbe

MIN_SHARD = 100  # endpoints per worker at least: below it a process costs more than it saves
REPORT_GRACE_S = 5.0  # past the deadline, how long a worker has to send what it saw


class WorkerLost(RuntimeError):
    """A worker process ended without reporting its shard's observations."""


def auto_workers(endpoints: int, cpus: int | None = None) -> int:
    """As many workers as cores, but none for fewer than MIN_SHARD endpoints."""
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, endpoints // MIN_SHARD))


def shard(endpoints: Sequence[Endpoint], count: int) -> list[list[int]]:
    """Endpoint indexes in `count` shards of about equal work (addresses expected, else names); endpoints
    that share a DNS name are kept together. Each shard keeps topology order; empty shards are dropped."""
    parent = list(range(len(endpoints)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, e in enumerate(endpoints):
        for name in e.dns_names:
            j = owner.setdefault(name, i)
            if j != i:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(endpoints)):
        groups.setdefault(root(i), []).append(i)
    loads = [0] * max(1, count)
    shards: list[list[int]] = [[] for _ in loads]
    for group in sorted(groups.values(), key=lambda g: -sum(_work(endpoints[i]) for i in g)):
        k = loads.index(min(loads))
        shards[k].extend(group)
        loads[k] += sum(_work(endpoints[i]) for i in group)
    return [sorted(s) for s in shards if s]


def _work(e: Endpoint) -> int:
    return max(len(e.addresses), 1) * len(e.dns_names)


@dataclass(frozen=True, slots=True)
class Share:
    """What one shard may use of the run's bounds."""

    concurrency: int
    dns_rate: float


def shares(topology: Topology, shards: Sequence[Sequence[int]], concurrency: int, dns_rate: float) -> list[Share]:
    """Split --concurrency and the DNS rate between shards by their number of names (so the sum stays the
    run's), each at least 1."""
    names = [max(1, sum(len(topology.endpoints[i].dns_names) for i in s)) for s in shards]
    total = sum(names)
    return [Share(concurrency=max(1, concurrency * n // total), dns_rate=max(1.0, dns_rate * n / total)) for n in names]


class Worker:
    """A forked process observing one shard; `collect` is its observations (or errors standing for them)."""

    def __init__(self, pid: int, fd: int, endpoints: tuple[Endpoint, ...]) -> None:
        self.pid = pid
        self.fd = fd
        self.endpoints = endpoints

    async def collect(self, deadline: float) -> tuple[Observation, ...]:
        """Read the worker's observations by the loop-time `deadline` plus REPORT_GRACE_S; reap it."""
        loop = asyncio.get_running_loop()
        read = loop.run_in_executor(None, _read_all, self.fd)
        try:
            data = await asyncio.wait_for(read, max(0.0, deadline - loop.time()) + REPORT_GRACE_S)
        except TimeoutError:
            data = b""
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        finally:
            await loop.run_in_executor(None, _reap, self.pid)
        import pickle

        try:
            sent = pickle.loads(data) if data else None
        except Exception:  # a truncated stream: the worker died while writing
            sent = None
        del data
        if not isinstance(sent, tuple) or len(sent) != len(self.endpoints):
            lost = WorkerLost(
                f"the worker process {self.pid} for {len(self.endpoints)} endpoints ended without a report"
            )
            return tuple(
                Observation(e, (), {}, {}, {}, ending=Ending.ERROR, phase="worker", error=lost) for e in self.endpoints
            )
        return tuple(_received(e, fields) for e, fields in zip(self.endpoints, sent, strict=True))


def fork(topology: Topology, indexes: Sequence[int], share: Share, deadline: float) -> Worker:
    """Fork a worker observing `topology`'s endpoints at `indexes` by the monotonic `deadline`."""
    endpoints = tuple(topology.endpoints[i] for i in indexes)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_fd)
        return Worker(pid, read_fd, endpoints)
    import pickle  # here, not at import: the run's first packet does not wait for it

    code = 0
    try:  # the child: observe, send, leave without running the parent's cleanup
        os.close(read_fd)
        scoped = replace(topology, endpoints=endpoints)
        observations = runner.run(_sweep(scoped, share, deadline))
        _write_all(write_fd, pickle.dumps(tuple(_sent(o) for o in observations), pickle.HIGHEST_PROTOCOL))
    except BaseException:  # whatever happened, the parent hears of it as a lost worker
        code = 1
    finally:
        os._exit(code)


async def _sweep(topology: Topology, share: Share, deadline: float) -> tuple[Observation, ...]:
    async def scope(endpoint: Endpoint) -> Sequence[IPNetwork]:
        return topology.networks(endpoint)

    # loop.time() is time.monotonic(): the parent's deadline holds here as it is.
    return await sweep(topology, concurrency=share.concurrency, deadline=deadline, scope=scope, dns_rate=share.dns_rate)


# An observation as a worker sends it: its fields but the endpoint, which the parent holds already (sent, each
# would be a second copy of its Endpoint in the parent, and a tenth of the pickling).
_Sent = tuple[
    tuple["DnsResult", ...],
    Mapping[str, tuple[str, ...]],
    Mapping[str, str],
    Mapping[str, "AddressProbe"],
    Ending,
    str,
    BaseException | None,
    float,
]


def _sent(o: Observation) -> _Sent:
    """The observation without its endpoint, with an error that survives pickling (a probe's exception type may
    not)."""
    error = o.error
    if error is not None:
        import pickle

        try:
            pickle.dumps(error)
        except Exception:
            error = RuntimeError(f"{type(error).__name__}: {error}")
    return (o.dns, o.answers, o.skipped, o.probes, o.ending, o.phase, error, o.ms)


def _received(endpoint: Endpoint, fields: _Sent) -> Observation:
    """The observation a worker sent (`_sent`), for the parent's own `endpoint`."""
    dns, answers, skipped, probes, ending, phase, error, ms = fields
    return Observation(endpoint, dns, answers, skipped, probes, ending, phase, error, ms)


def _read_all(fd: int) -> bytes:
    chunks = []
    try:
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.close(fd)


def _reap(pid: int) -> None:
    end = time.monotonic() + REPORT_GRACE_S
    while True:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done or time.monotonic() > end:
            break
        time.sleep(0.01)
    if not done:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
