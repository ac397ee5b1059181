"""Benchmark: the real CLI against a VPC in a box with N endpoints, beside the OpenSSL floor on the same box.

    .venv/bin/python bench/bench.py                 # N = 100 and 1000, figures as a table
    .venv/bin/python bench/bench.py --n 1000 --json # machine-readable

Each endpoint is a PrivateLink chain (name -> vpce-... -> two ENI addresses) served by dnsmasq, with a TLS
server on every address (one target process, on the other core). For each N it times `vpc-verify check`
(DNS + TCP + TLS for every address) in a child process and reports wall time, client CPU per check, peak
RSS; then the floor for the same handshakes: `openssl s_time -new` (C, blocking, one at a time) and a
blocking-`ssl` Python loop, their CPU per handshake and wall time for 2N handshakes. Also: process start
to first probe (the CLI, the Lambda handler, and the CLI with the AWS control plane, i.e. with boto3), and
the PutMetricData calls a run of N endpoints makes. Runs in its own network namespace: nothing leaves.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
VPC_VERIFY = str(Path(sysconfig.get_path("scripts")) / "vpc-verify")  # the installed console script, as users run it


def spec_for(n: int) -> dict[str, Any]:
    """N interface endpoints, two ENIs each, in 10.0.0.0/8."""
    endpoints = []
    for i in range(n):
        a, b = divmod(i, 250)
        endpoints.append(
            {
                "name": f"svc{i}",
                "service": f"com.amazonaws.us-east-1.svc{i}",
                "addresses": [f"10.{1 + a}.{b}.10", f"10.{101 + a}.{b}.20"],
            }
        )
    return {
        "vpc_cidrs": ["10.0.0.0/8"],
        "latency_budget_ms": 10_000,
        "timeout_ms": 10_000,
        "resolver_timeout_ms": 5_000,
        "endpoints": endpoints,
    }


def child_usage(argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child to completion: wall time, its user+sys CPU and peak RSS (from wait4), its output."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    out, err = b"", b""
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": time.perf_counter() - start,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "maxrss_mb": usage.ru_maxrss / 1024,
        "code": proc.returncode,
        "stdout": out.decode(errors="replace"),
        "stderr": err.decode(errors="replace"),
    }


def measure_cli(topology: Path, concurrency: int) -> dict[str, Any]:
    """`vpc-verify check --format json` on the box, as a user runs it."""
    r = child_usage(
        [
            VPC_VERIFY,
            "check",
            "-t",
            str(topology),
            "--format",
            "json",
            "--concurrency",
            str(concurrency),
            "--deadline",
            "300",
            "--log-level",
            "error",
        ]
    )
    report = json.loads(r["stdout"])
    checks = sum(1 for e in report["endpoints"] for a in e["addresses"] if a["tls_ms"] is not None)
    bad = [(e["name"], [f["code"] for f in e["findings"]]) for e in report["endpoints"] if e["findings"]]
    return {
        **{k: v for k, v in r.items() if k not in ("stdout", "stderr")},
        "checks": checks,
        "unhealthy": bad[:5],
        "run_ms": report["duration_ms"],
    }


RUN_ONLY = """
import json, resource, sys, time
from vpc_verify import topology
from vpc_verify.logs import configure
from vpc_verify.run import RunOptions, run
configure("error")
topo = topology.load(sys.argv[1])
t, c = time.perf_counter(), time.process_time()
report = run(topo, RunOptions(concurrency=int(sys.argv[2]), deadline_s=300))
print(json.dumps({"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure_run(topology: Path, concurrency: int) -> dict[str, Any]:
    """`vpc_verify.run.run()` alone, in a child: the CPU of the checks without interpreter start and imports."""
    r = child_usage([PY, "-c", RUN_ONLY, str(topology), str(concurrency)])
    return json.loads(r["stdout"])


def openssl_floor(address: str, ca: Path, seconds: int) -> dict[str, Any] | None:
    """`openssl s_time -new`: full handshakes, one at a time, for `seconds`; CPU and wall per handshake."""
    binary = shutil.which("openssl")
    if binary is None:
        return None
    r = child_usage([binary, "s_time", "-connect", f"{address}:443", "-new", "-time", str(seconds), "-CAfile", str(ca)])
    m = re.search(r"(\d+) connections in ([\d.]+)s", r["stdout"])
    real = re.search(r"(\d+) connections in (\d+) real seconds", r["stdout"])
    if not m or not real:
        return None
    count = int(m.group(1))
    return {"handshakes": count, "cpu_ms": r["cpu_s"] / count * 1000, "wall_ms": r["wall_s"] / count * 1000}


def python_floor(address: str, name: str, ca: Path, count: int) -> dict[str, Any]:
    """A blocking `ssl` loop in a child: the least a Python client can spend per handshake."""
    code = f"""
import socket, ssl
ctx = ssl.create_default_context(cafile={str(ca)!r})
for _ in range({count}):
    with socket.create_connection(({address!r}, 443)) as s:
        with ctx.wrap_socket(s, server_hostname={name!r}):
            pass
"""
    r = child_usage([PY, "-c", code])
    base = child_usage([PY, "-c", "import socket, ssl"])
    return {
        "handshakes": count,
        "cpu_ms": (r["cpu_s"] - base["cpu_s"]) / count * 1000,
        "wall_ms": (r["wall_s"] - base["wall_s"]) / count * 1000,
    }


FIRST_PROBE = """
import os, sys, time
t_exec = float(os.environ["BENCH_T0"])
import vpc_verify.checks.dns as d
real = d.resolve
async def first(spec):
    if not getattr(first, "seen", False):
        first.seen = True
        ms = (time.time() - t_exec) * 1000
        print(f"FIRST_PROBE_MS {ms:.1f} boto3={'boto3' in sys.modules}", file=sys.stderr, flush=True)
    return await real(spec)
d.resolve = first
import vpc_verify.run
vpc_verify.run.dns.resolve = first
"""


def cold_start(topology: Path, mode: str, env_extra: dict[str, str] | None = None) -> dict[str, Any]:
    """Process start (exec) to the first DNS question, for the CLI or the Lambda handler."""
    if mode == "cli":
        body = (
            FIRST_PROBE + f"from vpc_verify.cli import main\nmain(['check', '-t', {str(topology)!r}, '--format', "
            f"'json', '--log-level', 'error'])\n"
        )
    else:
        body = (
            FIRST_PROBE
            + f"""
sys.path.insert(0, {str(ROOT / "lambda")!r})
os.environ["VPC_VERIFY_TOPOLOGY_FILE"] = {str(topology)!r}
os.environ["VPC_VERIFY_PUBLISH"] = "none"
import handler
class Ctx:
    aws_request_id = "bench"
    def get_remaining_time_in_millis(self): return 60000
handler.handler({{}}, Ctx())
"""
        )
    samples = []
    boto = False
    for _ in range(5):
        env = {**os.environ, **(env_extra or {}), "BENCH_T0": repr(time.time())}
        done = subprocess.run([PY, "-c", body], capture_output=True, text=True, env=env, cwd=ROOT)
        m = re.search(r"FIRST_PROBE_MS ([\d.]+) boto3=(\w+)", done.stderr)
        if m is None:
            return {"error": done.stderr[-800:]}
        samples.append(float(m.group(1)))
        boto = m.group(2) == "True"
    samples.sort()
    return {"median_ms": samples[len(samples) // 2], "min_ms": samples[0], "boto3_imported": boto}


def put_metric_calls(topology: Path) -> dict[str, Any]:
    """What `--dry-run` says a run of this topology publishes."""
    done = subprocess.run(
        [
            VPC_VERIFY,
            "check",
            "-t",
            str(topology),
            "--dry-run",
            "--publish",
            "cloudwatch",
            "--format",
            "json",
            "--log-level",
            "error",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    datums = re.search(r"(\d+) datums?", done.stderr)
    calls = re.search(r"(\d+) PutMetricData call", done.stderr)
    return {"datums": int(datums.group(1)) if datums else None, "calls": int(calls.group(1)) if calls else None}


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[100, 1000], help="endpoint counts (default 100 1000)")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()

    from tests.testbed import emulator, netns

    os.environ.update(emulator.FAKE_ENV)
    netns.enter()
    from tests.testbed.box import Box
    from tests.testbed.spec import parse
    from vpc_verify import topology as topology_mod

    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "runs": []}
    with tempfile.TemporaryDirectory(prefix="vpc-verify-bench-") as tmp:
        for n in args.n:
            with Box(parse(spec_for(n)), Path(tmp) / f"n{n}") as box:
                topo = box.write_topology()
                first = box.spec.endpoints[0]
                measure_cli(topo, args.concurrency)  # warm the page cache and the target's contexts
                cli = measure_cli(topo, args.concurrency)
                # The floor is the least the work can cost: the best of three, as the box shares two cores.
                floors = [openssl_floor(first.addresses[0], box.ca_bundle, 2) for _ in range(3)]
                floor_c = min((f for f in floors if f), key=lambda f: f["cpu_ms"], default=None)
                floor_py = min(
                    (python_floor(first.addresses[0], first.dns_name, box.ca_bundle, 500) for _ in range(3)),
                    key=lambda f: f["cpu_ms"],
                )
                row: dict[str, Any] = {
                    "n": n,
                    "addresses": 2 * n,
                    "cli": cli,
                    "openssl_floor": floor_c,
                    "python_floor": floor_py,
                    "publish": put_metric_calls(topo),
                }
                row["cli"]["cpu_ms_per_check"] = cli["cpu_s"] / max(1, cli["checks"]) * 1000
                row["run"] = measure_run(topo, args.concurrency)
                row["run"]["cpu_ms_per_check"] = row["run"]["cpu_s"] / max(1, cli["checks"]) * 1000
                if floor_c:
                    row["ratio_cpu_vs_openssl"] = row["cli"]["cpu_ms_per_check"] / floor_c["cpu_ms"]
                    row["ratio_run_cpu_vs_openssl"] = row["run"]["cpu_ms_per_check"] / floor_c["cpu_ms"]
                    row["floor_wall_s"] = floor_c["wall_ms"] * 2 * n / 1000
                    row["ratio_wall_vs_openssl"] = cli["wall_s"] / row["floor_wall_s"]
                row["ratio_cpu_vs_python_blocking"] = row["cli"]["cpu_ms_per_check"] / floor_py["cpu_ms"]
                if n == min(args.n):
                    topology_mod.load(str(topo))
                    row["cold_start"] = {"cli": cold_start(topo, "cli"), "lambda": cold_start(topo, "lambda")}
                    emu = emulator.start()
                    try:
                        aws_topo = Path(tmp) / "aws.yaml"
                        text = topo.read_text().replace("vpc:\n", "vpc:\n  id: vpc-0123456789abcdef0\n", 1)
                        aws_topo.write_text(text)
                        row["cold_start"]["cli_with_aws"] = cold_start(aws_topo, "cli", emu.env())
                    finally:
                        emu.stop()
                results["runs"].append(row)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0


def print_table(results: dict[str, Any]) -> None:
    """The figures for people."""
    print(f"machine: {results['machine']['cpus']} CPUs, Python {results['machine']['python']}")
    for r in results["runs"]:
        cli, fc, fp = r["cli"], r["openssl_floor"], r["python_floor"]
        print(f"\nN = {r['n']} endpoints, {r['addresses']} addresses (DNS chain + TCP + TLS each)")
        print(
            f"  vpc-verify check   wall {cli['wall_s']:.2f} s (run {cli['run_ms'] / 1000:.2f} s)  "
            f"cpu {cli['cpu_s']:.2f} s = {cli['cpu_ms_per_check']:.3f} ms/check  peak RSS {cli['maxrss_mb']:.0f} MB"
            f"  checks ok {cli['checks']}"
        )
        run = r["run"]
        print(
            f"  run() alone        wall {run['wall_s']:.2f} s  cpu {run['cpu_s']:.2f} s = "
            f"{run['cpu_ms_per_check']:.3f} ms/check  peak RSS {run['maxrss_mb']:.0f} MB"
        )
        if cli["unhealthy"]:
            print(f"  (unhealthy endpoints seen: {cli['unhealthy']})")
        if fc:
            print(
                f"  openssl s_time     cpu {fc['cpu_ms']:.3f} ms/handshake, wall {fc['wall_ms']:.3f} ms/handshake "
                f"-> {r['floor_wall_s']:.2f} s for {r['addresses']}"
            )
            print(
                f"  ratios             cpu/check vs floor: CLI {r['ratio_cpu_vs_openssl']:.2f}x, run() "
                f"{r['ratio_run_cpu_vs_openssl']:.2f}x (target <= 1.5)   wall vs floor "
                f"{r['ratio_wall_vs_openssl']:.2f}x (target <= 1.5)"
            )
        print(
            f"  python blocking    cpu {fp['cpu_ms']:.3f} ms/handshake  (ours: "
            f"{r['ratio_cpu_vs_python_blocking']:.2f}x)"
        )
        pub = r["publish"]
        if pub["datums"] is not None:
            print(
                f"  publish            {pub['datums']} datums -> {pub['calls']} PutMetricData calls "
                f"(ceil = {math.ceil(pub['datums'] / 1000)})"
            )
        if "cold_start" in r:
            for k, v in r["cold_start"].items():
                if "error" in v:
                    print(f"  cold start {k:<13} error: {v['error']}")
                else:
                    print(
                        f"  cold start {k:<13} exec -> first probe {v['median_ms']:.0f} ms (median of 5), "
                        f"boto3 imported: {v['boto3_imported']}"
                    )
    rusage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"\n(bench process itself: {rusage.ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    sys.exit(main())
