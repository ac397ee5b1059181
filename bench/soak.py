"""Soak the EC2 agent loop: N consecutive runs with injected faults, measuring RSS and open fds.

    python bench/soak.py --runs 200          # figures as a table
    python bench/soak.py --runs 60 --json    # one JSON line

A benchmark, not a timed test: it is not part of the test suite. It exits 1 when the process grew past the
limits (--max-fd-growth, --max-rss-growth-kb) or no injected failure happened, so a person or a scheduled
job can run it as a check.

In its own network namespace when available, a VPC in a box (tests/testbed) gives real probes (dnsmasq, a TLS
endpoint on an ENI address, a refusing port) and real failures (TCP_REFUSED, DNS_NXDOMAIN).
On top, every 7th run raises and every 11th run hangs past its deadline; metrics go through an outage proxy
in front of the AWS emulator that is down (503, throttling, timeouts, resets) for stretches of runs, so the
bounded buffer fills, drops, and drains. RSS and fds are sampled after a warm-up and at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_kb() -> int:
    """Resident set size of this process, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fds() -> int:
    """Open file descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


def soak(runs: int, warmup: int, inside: bool) -> dict[str, object]:
    """Run the loop `runs` times with faults; return the figures."""
    from tests.publish.helpers import OutageProxy
    from tests.testbed import emulator
    from vpc_verify.logs import configure
    from vpc_verify.loop import AgentLoop, LoopConfig
    from vpc_verify.publish.cloudwatch import CloudWatchPublisher, RetryPolicy, make_client
    from vpc_verify.report import Report
    from vpc_verify.run import RunOptions, run_async
    from vpc_verify.topology import Topology

    configure("error")
    work = Path(tempfile.mkdtemp(prefix="vpc-verify-soak-"))
    emu = emulator.start()
    os.environ.update(emu.env())
    proxy = OutageProxy(emu.url, hold_s=0.3)
    box = None
    try:
        if inside:
            from tests.testbed.box import Box
            from tests.testbed.spec import parse

            box = Box(
                parse(
                    {
                        "endpoints": [
                            {
                                "name": "billing",
                                "type": "service",
                                "dns_name": "billing.internal.example.com",
                                "addresses": ["10.0.1.10"],
                            },
                            {
                                "name": "closed",
                                "type": "service",
                                "dns_name": "closed.internal.example.com",
                                "addresses": ["10.0.1.11"],
                                "fault": "closed",
                            },
                            {
                                "name": "missing",
                                "type": "service",
                                "dns_name": "missing.internal.example.com",
                                "addresses": ["10.0.1.12"],
                                "fault": "nxdomain",
                            },
                        ]
                    }
                ),
                work / "box",
            )
            box.start()
            topo = box.write_topology()
        else:  # no namespace: DNS faults only, nothing is probed outside loopback
            topo = work / "topology.yaml"
            topo.write_text(
                "version: 1\nregion: us-east-1\nresolver: {nameservers: [127.0.0.1], port: 1, "
                "timeout_ms: 200}\nendpoints:\n  - name: billing\n    type: service\n"
                "    dns_names: [billing.example.com]\n"
            )

        count = 0

        async def faulty(topology: Topology, options: RunOptions) -> Report:
            nonlocal count
            count += 1
            if count % 7 == 0:
                raise RuntimeError("injected fault")
            if count % 11 == 0:
                await asyncio.sleep(3600)
            return await run_async(topology, options)

        client = make_client("us-east-1", endpoint_url=proxy.url, read_timeout_s=0.2, connect_timeout_s=0.2)
        publisher = CloudWatchPublisher(
            "Soak",
            client=client,
            buffer_cap=200,
            sleep=lambda s: None,
            retry=RetryPolicy(attempts=2),
            rng=random.Random(1),
        )
        config = LoopConfig(
            topology_path=str(topo),
            interval_s=0.0,
            deadline_s=1.0,
            state_file=str(work / "r.json"),
            publish="cloudwatch",
            namespace="Soak",
            max_runs=1,
            buffer_cap=200,
            run_guard_s=0.2,
        )
        loop = AgentLoop(config, run_fn=faulty, publisher=publisher)
        outage_modes = ["pass", "503", "throttle", "timeout", "reset", "pass", "pass"]
        samples: list[tuple[int, int, int]] = []
        t0 = time.monotonic()

        async def drive() -> None:
            for i in range(runs):
                proxy.mode = outage_modes[(i // 10) % len(outage_modes)]
                loop.config = LoopConfig(
                    **{**{f: getattr(config, f) for f in config.__dataclass_fields__}, "max_runs": i + 1}
                )
                await loop.run_forever()
                if i + 1 == warmup or (i + 1) % 20 == 0 or i + 1 == runs:
                    gc.collect()
                    samples.append((i + 1, rss_kb(), fds()))

        asyncio.run(drive())
        elapsed = time.monotonic() - t0
        base = next(s for s in samples if s[0] >= warmup)
        last = samples[-1]
        return {
            "runs": loop.state.runs,
            "failures": loop.state.failures,
            "netns": inside,
            "seconds": round(elapsed, 1),
            "rss_kb_after_warmup": base[1],
            "rss_kb_end": last[1],
            "rss_growth_kb": last[1] - base[1],
            "fds_after_warmup": base[2],
            "fds_end": last[2],
            "fd_growth": last[2] - base[2],
            "metrics_dropped": publisher.dropped_total,
            "metrics_buffered": len(publisher.buffer),
            "proxy": dict(proxy.seen),
            "samples": samples,
        }
    finally:
        proxy.close()
        emu.stop()
        if box is not None:
            box.stop()


def main() -> int:
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--json", action="store_true", help="print one JSON line")
    p.add_argument("--no-netns", action="store_true", help="do not enter a network namespace")
    p.add_argument("--max-fd-growth", type=int, default=2, help="open fds may grow this much (default 2)")
    p.add_argument("--max-rss-growth-kb", type=int, default=8 * 1024, help="RSS may grow this much (default 8 MiB)")
    args = p.parse_args()
    inside = False
    if not args.no_netns:
        from tests.testbed import netns

        ok, why = netns.available()
        if ok:
            netns.enter()
            inside = True
        else:
            print(f"soak: no network namespace ({why}): DNS faults only", file=sys.stderr)
    figures = soak(args.runs, min(args.warmup, args.runs), inside)
    problems = verdict(figures, args.runs, args.max_fd_growth, args.max_rss_growth_kb)
    if args.json:
        print(json.dumps({**figures, "problems": problems}))
        return 1 if problems else 0
    print(
        f"soak: {figures['runs']} runs ({figures['failures']} failed by injection) in {figures['seconds']} s, "
        f"netns={figures['netns']}"
    )
    print(
        f"  RSS  after warm-up {figures['rss_kb_after_warmup']} KiB, end {figures['rss_kb_end']} KiB, "
        f"growth {figures['rss_growth_kb']} KiB"
    )
    print(
        f"  fds  after warm-up {figures['fds_after_warmup']}, end {figures['fds_end']}, growth {figures['fd_growth']}"
    )
    print(
        f"  metrics dropped {figures['metrics_dropped']}, buffered at end {figures['metrics_buffered']}, "
        f"proxy faults {figures['proxy']}"
    )
    print("  samples (run, RSS KiB, fds): " + " ".join(f"{r}:{m}/{f}" for r, m, f in figures["samples"]))  # type: ignore[union-attr]
    for problem in problems:
        print(f"soak: FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def verdict(figures: dict[str, object], runs: int, max_fd_growth: int, max_rss_growth_kb: int) -> list[str]:
    """What is wrong with a soak's figures (nothing: an empty list)."""
    problems = []
    if figures["runs"] != runs:
        problems.append(f"{figures['runs']} runs instead of {runs}")
    if not figures["failures"]:
        problems.append("no injected failure was counted")
    if int(str(figures["fd_growth"])) > max_fd_growth:
        problems.append(f"open fds grew by {figures['fd_growth']} (limit {max_fd_growth})")
    if int(str(figures["rss_growth_kb"])) > max_rss_growth_kb:
        problems.append(f"RSS grew by {figures['rss_growth_kb']} KiB (limit {max_rss_growth_kb})")
    return problems


if __name__ == "__main__":
    sys.exit(main())
