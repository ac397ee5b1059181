"""Shards of endpoints for worker processes: names kept together, work balanced, bounds shared; a lost worker."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from vpc_verify.observe import workers
from vpc_verify.observe.pipeline import Ending
from vpc_verify.topology import Topology, parse


def topology(names: list[list[str]], qps: int = 300) -> Topology:
    return parse(
        {
            "version": 1,
            "resolver": {"nameservers": ["127.0.0.1"], "port": 9, "timeout_ms": 200, "queries_per_second": qps},
            "endpoints": [
                {"name": f"e{i}", "type": "service", "dns_names": n, "tls": False, "port": 9}
                for i, n in enumerate(names)
            ],
        }
    )


def test_endpoints_sharing_a_name_share_a_shard_and_shards_are_balanced() -> None:
    names = [[f"n{i}.example"] for i in range(40)]
    names[5] = ["n4.example"]  # shares with e4
    names[9] = ["x.example", "n0.example"]  # shares with e0, through a second name
    topo = topology(names)
    shards = workers.shard(topo.endpoints, 3)
    assert sorted(i for s in shards for i in s) == list(range(40))
    assert all(s == sorted(s) for s in shards)
    where = {i: k for k, s in enumerate(shards) for i in s}
    assert where[4] == where[5] and where[0] == where[9]
    assert max(len(s) for s in shards) - min(len(s) for s in shards) <= 2


def test_shares_split_the_dns_rate_and_the_concurrency_so_the_sum_holds() -> None:
    topo = topology([[f"n{i}.example"] for i in range(30)])
    shards = workers.shard(topo.endpoints, 2)
    shares = workers.shares(topo, shards, concurrency=100, dns_rate=300)
    assert sum(s.dns_rate for s in shares) == 300
    assert sum(s.concurrency for s in shares) <= 100 and all(s.concurrency >= 1 for s in shares)


def test_auto_uses_the_cores_only_for_topologies_worth_it() -> None:
    assert workers.auto_workers(50, cpus=8) == 1
    assert workers.auto_workers(250, cpus=8) == 2
    assert workers.auto_workers(5000, cpus=2) == 2


async def test_a_worker_that_dies_costs_its_shard_only_an_error_per_endpoint() -> None:
    topo = topology([[f"n{i}.example"] for i in range(3)])
    worker = workers.fork(topo, [0, 2], workers.Share(10, 10.0), deadline=time.monotonic() + 30)
    os.kill(worker.pid, signal.SIGKILL)
    observations = await worker.collect(asyncio.get_running_loop().time() + 5)
    assert [o.endpoint.name for o in observations] == ["e0", "e2"]
    assert all(o.ending is Ending.ERROR and isinstance(o.error, workers.WorkerLost) for o in observations)


async def test_a_worker_reports_its_shard() -> None:
    # Nothing answers DNS on 127.0.0.1:9 (ICMP port unreachable): each name is a quick timeout result.
    topo = topology([[f"n{i}.example"] for i in range(3)])
    worker = workers.fork(topo, [1], workers.Share(10, 10.0), deadline=time.monotonic() + 30)
    (observation,) = await worker.collect(asyncio.get_running_loop().time() + 30)
    assert observation.endpoint.name == "e1" and observation.ending is Ending.DONE
    assert observation.dns[0].name == "n1.example"
