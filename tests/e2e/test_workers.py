"""End to end with worker processes: the same exact finding codes as one process, one report, one deadline."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.test_box import Factory, cli, codes_of, every_fault
from tests.schemas import load_report

pytestmark = pytest.mark.netns


def test_every_fault_gives_exactly_its_codes_with_three_workers(testbed_factory: Factory) -> None:
    box = testbed_factory(every_fault())
    start = time.monotonic()
    done = cli("check", "-t", str(box.write_topology()), "--format", "json", "--deadline", "20", "--workers", "3")
    assert done.returncode == 1, done.stderr
    report = load_report(done.stdout)
    assert codes_of(report) == box.expected_codes()
    assert [e["name"] for e in report["endpoints"]] == [e.name for e in box.spec.endpoints]  # topology order
    assert time.monotonic() - start < 20


def test_a_wrong_workers_or_rate_value_is_a_usage_error(tmp_path: Path) -> None:
    topology = tmp_path / "t.yaml"
    topology.write_text("version: 1\nendpoints: [{name: app, type: service, dns_names: [app.example.com]}]\n")
    done = cli("check", "-t", str(topology), "--workers", "none")
    assert done.returncode == 2 and "--workers" in done.stderr and "Traceback" not in done.stderr
    done = cli("check", "-t", str(topology), "--dns-queries-per-second", "0")
    assert done.returncode == 2 and "--dns-queries-per-second" in done.stderr and "Traceback" not in done.stderr


def test_the_resolver_sees_no_more_than_the_rate_across_workers(testbed_factory: Factory) -> None:
    endpoints = [
        {
            "name": f"ep{i}",
            "type": "service",
            "dns_name": f"ep{i}.internal.example.com",
            "addresses": [f"10.1.0.{i + 1}"],
        }
        for i in range(120)
    ]
    box = testbed_factory({"vpc_cidrs": ["10.0.0.0/8"], "endpoints": endpoints})
    log = box.workdir / "dnsmasq.log"
    offset = log.stat().st_size
    start = time.monotonic()
    done = cli(
        "check", "-t", str(box.write_topology()), "--format", "json", "--workers", "2", "--dns-queries-per-second", "40"
    )
    elapsed = time.monotonic() - start
    report = load_report(done.stdout)
    assert report["healthy"], done.stderr
    per_second: dict[str, int] = {}
    with open(log, "rb") as f:
        f.seek(offset)
        for line in f.read().decode().splitlines():
            if "query[A] " in line:
                stamp = line.split(" dnsmasq[")[0]
                per_second[stamp] = per_second.get(stamp, 0) + 1
    assert sum(per_second.values()) == 120  # one question per name, across both workers
    assert max(per_second.values()) <= 40 + 4  # the rate, and a burst of a tenth of a second per worker
    assert elapsed >= (120 - 4) / 40 * 0.9
