"""Benchmark: vpc-verify beside Prometheus blackbox_exporter and a C libssl floor, doing the same work on one box.

    .venv/bin/python bench/bench.py                       # N = 1000 and 5000, the figures and the ratios
    .venv/bin/python bench/bench.py --n 1000 --json       # machine-readable
    .venv/bin/python bench/bench.py --results bench/RESULTS.md   # also write the results table there

The box (bench/stage.py): N interface endpoints, each a PrivateLink chain (name -> vpce-... -> two ENI
addresses) answered by dnsmasq, nginx serving TLS 1.3 on every address, everything inside a network namespace
this process creates (nothing leaves it). The work: a DNS question per name and a verified TCP+TLS handshake
(SNI, chain, host name) per answered address. Measured in one run, on the same box, one after the other:

- vpc-verify `check --format json --workers auto` as users install it (a fresh virtualenv with the wheel and its
  dependencies only), the resolver's rate raised to what the box's dnsmasq takes: wall, CPU of every process
  (the CLI and its workers), peak RSS of the largest process, and the DNS packets the resolver saw per second;
- blackbox_exporter 0.23 (Debian's package) probing the same names and addresses, driven by curl: wall, the
  exporter's CPU;
- the floor: bench/floor.c, one blocking loop over libssl (one UDP question per name, a verified TLS 1.3
  handshake per address), CPU per check;
- start to first packet (process exec to the first DNS packet at a resolver this process listens as) for the
  CLI, the Lambda handler and the CLI reading the AWS control plane (the emulator), at N = 100.

CPU figures are the operating system's accounting of each process (user + system) and hold on a loaded machine
far better than wall times, which other work on the two cores stretches for every contender alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path and `bench` would be this file: the repository instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench import blackbox  # noqa: E402
from bench.stage import NginxBox, spec_for  # noqa: E402
from vpc_verify.topology import DEFAULT_QUERIES_PER_SECOND  # noqa: E402

BENCH_QPS = 800  # what the box's dnsmasq (logging every question) answers without drops at N = 5000 on a loaded box
COLD_N = 100
CONCURRENCY = 100
TARGETS = {"cpu_vs_blackbox": 0.8, "cpu_vs_floor": 1.4, "wall_vs_blackbox": 1.0, "rss_mb": 100, "kb_per_endpoint": 5}
FIRST_PACKET_TARGET_MS = 100


def sh(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run a set-up step; its failure stops the bench with the step's output."""
    done = subprocess.run(argv, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(argv[:3])}... failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done


def prepare(tmp: Path) -> tuple[str, Path]:
    """Install what the bench needs (bench/setup), build the floor, and a virtualenv holding vpc-verify as users
    install it: the wheel and its runtime dependencies (with the aws extra), nothing of the test tools."""
    sh(["bash", str(ROOT / "bench" / "setup")])
    floor = tmp / "floor"
    sh(["gcc", "-O2", "-o", str(floor), str(ROOT / "bench" / "floor.c"), "-lssl", "-lcrypto"])
    wheels = tmp / "wheels"
    sh([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)])
    venv = tmp / "venv"
    sh([sys.executable, "-m", "venv", str(venv)])
    wheelhouse = os.environ.get("VPC_VERIFY_WHEELHOUSE_PY", str(Path.home() / ".cache/vpc-verify/wheelhouse"))
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-index"]
    sh([*pip, "--find-links", str(wheels), "--find-links", wheelhouse, "vpc-verify[aws]"])
    return str(venv / "bin/python"), floor


# The measured process is forked by a small Python in between. Started straight from here (subprocess uses
# vfork), its ru_maxrss would be at least this process's own peak: at exec the kernel keeps the peak RSS of the
# address space the child had until then, which was this process's. Forked by a small process, the floor under
# its figure is that process's few MB.
_SPAWN = """
import json, os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(sys.argv[1], "w") as f:
    json.dump({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_mb": usage.ru_maxrss / 1024,
               "code": os.waitstatus_to_exitcode(status)}, f)
"""


def child_usage(argv: list[str], env: dict[str, str] | None = None, stdin: Path | None = None) -> dict[str, Any]:
    """Run a child to completion: wall time, the user+sys CPU of it and of every process it waited for, the peak
    RSS of the largest of them (wait4, in a small process that forks it: see _SPAWN), and its output."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        open(stdin or os.devnull, "rb") as src,
        tempfile.NamedTemporaryFile("r", suffix=".json") as usage,
    ):
        spawn = [sys.executable, "-I", "-S", "-c", _SPAWN, usage.name, *argv]
        subprocess.run(spawn, stdin=src, stdout=out, stderr=err, env=env, cwd=ROOT, check=False)
        figures = json.loads(usage.read() or "{}")
        if not figures:
            err.seek(0)
            sys.exit(f"bench: could not run {argv[0]}: {err.read().decode(errors='replace')[-2000:]}")
        out.seek(0)
        err.seek(0)
        return figures | {
            "stdout": out.read().decode(errors="replace"),
            "stderr": err.read().decode(errors="replace"),
        }


def write_topology(box: NginxBox, qps: int) -> Path:
    """The box's topology with the resolver's rate set to `qps`."""
    doc = box.topology()
    doc["resolver"]["queries_per_second"] = qps
    path = box.workdir / f"topology-{qps}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_cli(python: str, topology: Path, workers: str = "auto") -> dict[str, Any]:
    """`vpc-verify check --format json` as a user runs it: the figures, the checks that passed, the verdict."""
    argv = [python, "-m", "vpc_verify", "check", "-t", str(topology), "--format", "json", "--workers", workers]
    argv += ["--concurrency", str(CONCURRENCY), "--deadline", "600", "--log-level", "error"]
    r = child_usage(argv)
    try:
        report = json.loads(r["stdout"])
    except json.JSONDecodeError:
        sys.exit(f"bench: vpc-verify printed no report (exit {r['code']}): {r['stderr'][-2000:]}")
    checks = sum(1 for e in report["endpoints"] for a in e["addresses"] if a["tls_ms"] is not None)
    bad = [(e["name"], [f["code"] for f in e["findings"]]) for e in report["endpoints"] if not e["healthy"]]
    return {k: v for k, v in r.items() if k not in ("stdout", "stderr")} | {
        "checks": checks,
        "healthy": report["healthy"],
        "unhealthy": bad[:5],
    }


_LOG_LINE = re.compile(r"^(\w{3} +\d+ \d\d:\d\d:\d\d) dnsmasq\[\d+\]: query\[(A|AAAA)\] ")


def resolver_rate(log: Path, offset: int) -> dict[str, Any]:
    """DNS questions per second as dnsmasq logged them after `offset` (its log has one line per packet)."""
    per_second: Counter[str] = Counter()
    with open(log, "rb") as f:
        f.seek(offset)
        for raw in f:
            m = _LOG_LINE.match(raw.decode(errors="replace"))
            if m:
                per_second[m.group(1)] += 1
    return {"questions": sum(per_second.values()), "max_per_second": max(per_second.values(), default=0)}


def run_floor(floor: Path, box: NginxBox) -> dict[str, Any]:
    """The C loop over every name and address."""
    r = child_usage([str(floor), str(box.ca_bundle), box.spec.resolver], stdin=box.floor_list())
    m = re.search(r"checks (\d+) ok (\d+)", r["stdout"])
    if not m:
        sys.exit(f"bench: the floor failed: {r['stdout']}{r['stderr']}")
    return {"wall_s": r["wall_s"], "cpu_s": r["cpu_s"], "checks": int(m.group(1)), "ok": int(m.group(2))}


def run_blackbox(box: NginxBox) -> dict[str, Any]:
    """blackbox_exporter over the same names and addresses: a warm-up pass, then the measured one."""
    endpoints = [{"name": e.dns_name, "addresses": list(e.addresses)} for e in box.spec.endpoints]
    exporter = blackbox.start(endpoints, box.spec.resolver, box.ca_bundle, box.workdir / "blackbox")
    try:
        exporter.drive(CONCURRENCY)
        result = exporter.drive(CONCURRENCY)
        result["maxrss_mb"] = exporter.rss_mb()
    finally:
        exporter.stop()
    result["checks"] = sum(len(e["addresses"]) for e in endpoints)
    return result


class FirstPacket:
    """A resolver that answers nothing: it only tells when the first packet of a process came."""

    def __init__(self, address: str = "127.0.0.53") -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 53))

    def drain(self) -> None:
        """Forget the packets of earlier processes."""
        self.sock.settimeout(0.2)
        with contextlib.suppress(OSError):
            while True:
                self.sock.recv(2048)

    def first(self, timeout_s: float) -> float | None:
        """When (time.time()) the next packet comes, or None."""
        self.sock.settimeout(timeout_s)
        try:
            self.sock.recv(2048)
        except OSError:
            return None
        return time.time()


LAMBDA = """
import os, sys
sys.path.insert(0, {lambda_dir!r})
import handler
class Context:
    aws_request_id = "bench"
    def get_remaining_time_in_millis(self): return 60000
handler.handler({{}}, Context())
"""


def cold_start(python: str, topology: Path, listener: FirstPacket, mode: str, env: dict[str, str]) -> dict[str, Any]:
    """Process exec to the first DNS packet, median and min of 7, for the CLI or the Lambda handler."""
    if mode == "lambda":
        argv = [python, "-c", LAMBDA.format(lambda_dir=str(ROOT / "lambda"))]
        env = env | {"VPC_VERIFY_TOPOLOGY_FILE": str(topology), "VPC_VERIFY_PUBLISH": "none"}
    else:
        argv = [python, "-m", "vpc_verify", "check", "-t", str(topology), "--format", "json", "--log-level", "error"]
    samples: list[float] = []
    cpu: list[float] = []
    for _ in range(7):
        listener.drain()
        t0 = time.time()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
        at = listener.first(30)
        cpu_ms = _cpu_ms(proc.pid)
        proc.kill()
        _, err = proc.communicate()
        if at is None:
            return {"error": err.decode(errors="replace")[-800:] or "no packet within 30 s"}
        samples.append((at - t0) * 1000)
        cpu.append(cpu_ms)
    samples.sort()
    cpu.sort()
    return {"median_ms": samples[len(samples) // 2], "min_ms": samples[0], "cpu_median_ms": cpu[len(cpu) // 2]}


def _cpu_ms(pid: int) -> float:
    """The CPU time of every thread of `pid` so far (schedstat: nanoseconds on a CPU), in ms."""
    total = 0
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                total += int((task / "schedstat").read_text().split()[0])
    return total / 1e6


def cold_starts(python: str, tmp: Path) -> dict[str, Any]:
    """Start to first packet for the CLI, the Lambda handler and the CLI with the AWS control plane."""
    from tests.testbed import emulator

    listener = FirstPacket()
    doc = spec_for(COLD_N)
    # Named, as the box names them: the catalogue of service names does not know the box's services.
    endpoints = [
        {
            "name": e["name"],
            "service": e["service"],
            "dns_names": [f"{e['name']}.us-east-1.amazonaws.com"],
            "addresses": e["addresses"],
        }
        for e in doc["endpoints"]
    ]
    topo = {
        "version": 1,
        "region": "us-east-1",
        "vpc": {"cidrs": ["10.0.0.0/8"]},
        "resolver": {"nameservers": [listener.address], "timeout_ms": 1000},
        "endpoints": endpoints,
    }
    plain = tmp / "cold.yaml"
    plain.write_text(yaml.safe_dump(topo, sort_keys=False))
    with_aws = tmp / "cold-aws.yaml"
    with_aws.write_text(yaml.safe_dump({**topo, "vpc": {"id": "vpc-0123456789abcdef0"}}, sort_keys=False))
    env = dict(os.environ)
    out = {"cli": cold_start(python, plain, listener, "cli", env)}
    out["lambda"] = cold_start(python, plain, listener, "lambda", env | {"VPC_VERIFY_AWS": "false"})
    emu = emulator.start()
    try:
        out["cli_with_aws"] = cold_start(python, with_aws, listener, "cli", env | emu.env())
    finally:
        emu.stop()
    listener.sock.close()
    return out


def measure(n: int, python: str, floor: Path, tmp: Path, default_rate: bool = False) -> dict[str, Any]:
    """Everything at one N, on one box."""
    from tests.testbed.spec import parse

    with NginxBox(parse(spec_for(n)), tmp / f"n{n}") as box:
        topology = write_topology(box, BENCH_QPS)
        run_cli(python, topology)  # warm: the page cache, nginx, dnsmasq
        log = box.workdir / "dnsmasq.log"
        offset = log.stat().st_size
        cli = run_cli(python, topology)
        cli["dns"] = resolver_rate(log, offset)
        row = {"n": n, "checks": 2 * n, "cli": cli, "blackbox": run_blackbox(box), "floor": run_floor(floor, box)}
        if default_rate:
            # The rate as shipped (the topology says nothing): what the resolver sees, a second at a time.
            offset = log.stat().st_size
            shipped = run_cli(python, box.write_topology())
            row["default_rate"] = {
                "limit": DEFAULT_QUERIES_PER_SECOND,
                "wall_s": shipped["wall_s"],
                "healthy": shipped["healthy"],
                **resolver_rate(log, offset),
            }
    checks = row["checks"]
    for key in ("cli", "blackbox", "floor"):
        row[key]["cpu_ms_per_check"] = row[key]["cpu_s"] / checks * 1000
    row["cpu_vs_blackbox"] = row["cli"]["cpu_s"] / row["blackbox"]["cpu_s"]
    row["cpu_vs_floor"] = row["cli"]["cpu_s"] / row["floor"]["cpu_s"]
    row["wall_vs_blackbox"] = row["cli"]["wall_s"] / row["blackbox"]["wall_s"]
    return row


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 5000], help="endpoint counts (default 1000 5000)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--results", type=Path, default=None, help="also write the results table to this file")
    parser.add_argument("--no-cold", action="store_true", help="skip the start-to-first-packet measurements")
    parser.add_argument("--cold-only", action="store_true", help="only the start-to-first-packet measurements")
    args = parser.parse_args()

    from tests.testbed import emulator, netns

    with tempfile.TemporaryDirectory(prefix="vpc-verify-bench-") as name:
        tmp = Path(name)
        python, floor = prepare(tmp)
        os.environ.update(emulator.FAKE_ENV)
        netns.enter()
        results: dict[str, Any] = {
            "machine": {"cpus": os.cpu_count(), "load": os.getloadavg()[0], "python": sys.version.split()[0]},
            "resolver_qps": BENCH_QPS,
            "runs": [] if args.cold_only else [measure(n, python, floor, tmp, n == max(args.n)) for n in args.n],
        }
        if not args.no_cold:
            results["cold_start"] = cold_starts(python, tmp)
    runs = results["runs"]
    if len(runs) >= 2:
        a, b = runs[0], runs[-1]
        results["kb_per_endpoint"] = (b["cli"]["maxrss_mb"] - a["cli"]["maxrss_mb"]) * 1024 / (b["n"] - a["n"])
    text = table(results)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(text)
    if args.results:
        args.results.write_text(text)
    return 0


def _mark(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def table(results: dict[str, Any]) -> str:
    """The figures and the ratios for people (Markdown), with each target and whether it held."""
    m = results["machine"]
    lines = [
        f"Measured by bench/bench.py in one run: {m['cpus']} CPUs (load average {m['load']:.1f} at the start), "
        f"Python {m['python']}, blackbox_exporter 0.23, nginx (TLS 1.3), dnsmasq; vpc-verify with `--workers auto`, "
        f"the resolver's rate raised to {results['resolver_qps']}/s.",
        "",
        "| N | checks | vpc-verify wall / CPU per check / peak RSS | blackbox wall / CPU per check | "
        "C floor CPU per check | CPU vs blackbox | CPU vs floor | wall vs blackbox | DNS packets/s (max) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        cli, bb, fl = r["cli"], r["blackbox"], r["floor"]
        lines.append(
            f"| {r['n']} | {cli['checks']}/{r['checks']} | {cli['wall_s']:.2f} s / {cli['cpu_ms_per_check']:.3f} ms / "
            f"{cli['maxrss_mb']:.0f} MB | {bb['wall_s']:.2f} s / {bb['cpu_ms_per_check']:.3f} ms | "
            f"{fl['cpu_ms_per_check']:.3f} ms | {r['cpu_vs_blackbox']:.2f}x "
            f"({_mark(r['cpu_vs_blackbox'], TARGETS['cpu_vs_blackbox'])}) | {r['cpu_vs_floor']:.2f}x "
            f"({_mark(r['cpu_vs_floor'], TARGETS['cpu_vs_floor'])}) | {r['wall_vs_blackbox']:.2f}x "
            f"({_mark(r['wall_vs_blackbox'], TARGETS['wall_vs_blackbox'])}) | {cli['dns']['max_per_second']} "
            f"({_mark(cli['dns']['max_per_second'], results['resolver_qps'] * 1.1)}) |"
        )
    lines.append("")
    lines.append(
        f"Targets: CPU per check <= {TARGETS['cpu_vs_blackbox']}x blackbox's and <= {TARGETS['cpu_vs_floor']}x the "
        f"floor's; wall <= {TARGETS['wall_vs_blackbox']}x blackbox's; peak RSS <= {TARGETS['rss_mb']} MB at the "
        f"largest N, growing < {TARGETS['kb_per_endpoint']} KB per endpoint; start to first packet <= "
        f"{FIRST_PACKET_TARGET_MS} ms. Every check healthy in every run: "
        f"{all(r['cli']['healthy'] and r['cli']['checks'] == r['checks'] for r in results['runs'])}."
    )
    if "kb_per_endpoint" in results:
        last = results["runs"][-1]
        kb = results["kb_per_endpoint"]
        lines.append(
            f"Memory: peak RSS {last['cli']['maxrss_mb']:.0f} MB at N = {last['n']} "
            f"({_mark(last['cli']['maxrss_mb'], TARGETS['rss_mb'])}), {kb:.1f} KB per endpoint between N = "
            f"{results['runs'][0]['n']} and {last['n']} ({_mark(kb, TARGETS['kb_per_endpoint'])})."
        )
    for r in results["runs"]:
        if r["cli"]["unhealthy"]:
            lines.append(f"Unhealthy at N = {r['n']} (first five): {r['cli']['unhealthy']}.")
        d = r.get("default_rate")
        if d:
            burst = d["limit"] / 10
            lines.append(
                f"DNS rate as shipped ({d['limit']}/s, no setting) at N = {r['n']}: the resolver logged "
                f"{d['questions']} questions, at most {d['max_per_second']} in one second of its clock "
                f"(the limit plus a burst of {burst:.0f}, give or take the few its queue moves across a second: "
                f"{_mark(d['max_per_second'], (d['limit'] + burst) * 1.05)}); the run took {d['wall_s']:.1f} s, "
                f"healthy: {d['healthy']}."
            )
    cold = results.get("cold_start")
    if cold:
        parts = []
        for k, v in cold.items():
            if "error" in v:
                parts.append(f"{k}: error {v['error']!r}")
            else:
                parts.append(
                    f"{k} {v['median_ms']:.0f} ms wall, {v['cpu_median_ms']:.0f} ms CPU "
                    f"({_mark(v['cpu_median_ms'], FIRST_PACKET_TARGET_MS)})"
                )
        lines.append(
            f"Start to first packet (exec to the resolver's socket, median of 7, N = {COLD_N}; the CPU the process "
            "spent until then is what holds on a loaded machine): " + ", ".join(parts) + "."
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
