"""Prometheus blackbox_exporter doing vpc-verify's work on the same box, for the benchmark's comparison.

The same work: a DNS probe per name (the box's resolver, A, UDP) and a verified TCP+TLS probe per answered
address (the endpoint's name as SNI and checked against the certificate, chain against the box's CA). One
module per endpoint and kind, as the names differ; the probes are asked as Prometheus asks them, one HTTP
request per probe, by curl (C, in parallel, keep-alive) so that the driver costs little. Only the exporter's
own CPU is counted (from /proc), over the driven pass.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LISTEN = "127.0.0.1:9115"
BINARY = "prometheus-blackbox-exporter"


@dataclass
class Exporter:
    """A running blackbox_exporter configured for one box."""

    popen: subprocess.Popen[bytes]
    workdir: Path
    urls: Path
    probes: int

    def cpu_s(self) -> float:
        """The exporter's user+system CPU so far."""
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        """The exporter's peak RSS (VmHWM)."""
        for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def drive(self, parallel: int) -> dict[str, Any]:
        """Ask every probe once (curl, `parallel` at a time): wall, the exporter's CPU, probes that succeeded."""
        out = self.workdir / "out"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        cpu0, t0 = self.cpu_s(), time.perf_counter()
        done = subprocess.run(
            ["curl", "-s", "--parallel", "--parallel-immediate", "--parallel-max", str(parallel), "-K", str(self.urls)],
            cwd=out,
            capture_output=True,
        )
        wall, cpu = time.perf_counter() - t0, self.cpu_s() - cpu0
        ok = sum(1 for f in out.iterdir() if b"probe_success 1" in f.read_bytes())
        return {"wall_s": wall, "cpu_s": cpu, "probes": self.probes, "ok": ok, "curl_code": done.returncode}

    def stop(self) -> None:
        """Stop the exporter."""
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def config(endpoints: list[dict[str, Any]], ca: Path, timeout_s: float) -> dict[str, Any]:
    """One DNS module and one TCP+TLS module per endpoint."""
    modules: dict[str, Any] = {}
    for i, e in enumerate(endpoints):
        modules[f"d{i}"] = {
            "prober": "dns",
            "timeout": f"{timeout_s:g}s",
            "dns": {
                "query_name": e["name"],
                "query_type": "A",
                "transport_protocol": "udp",
                "preferred_ip_protocol": "ip4",
                "ip_protocol_fallback": False,
            },
        }
        modules[f"t{i}"] = {
            "prober": "tcp",
            "timeout": f"{timeout_s:g}s",
            "tcp": {
                "tls": True,
                "preferred_ip_protocol": "ip4",
                "ip_protocol_fallback": False,
                "tls_config": {"ca_file": str(ca), "server_name": e["name"], "insecure_skip_verify": False},
            },
        }
    return {"modules": modules}


def start(endpoints: list[dict[str, Any]], resolver: str, ca: Path, workdir: Path, timeout_s: float = 10.0) -> Exporter:
    """Write the configuration and the probe list, start the exporter, wait until it answers.

    `endpoints`: [{"name": dns name, "addresses": [...]}] as the box serves them.
    """
    binary = shutil.which(BINARY) or f"/usr/bin/{BINARY}"
    if not os.access(binary, os.X_OK) or shutil.which("curl") is None:
        raise RuntimeError(f"{BINARY} or curl is missing: run bench/setup")
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "blackbox.yml"
    conf.write_text(json.dumps(config(endpoints, ca, timeout_s)))  # JSON is YAML
    lines, n = [], 0
    for i, e in enumerate(endpoints):
        targets = [(f"d{i}", resolver)] + [(f"t{i}", f"{a}:443") for a in e["addresses"]]
        for module, target in targets:
            lines.append(f'url = "http://{LISTEN}/probe?module={module}&target={target}"\noutput = "{n}"\n')
            n += 1
    urls = workdir / "urls.curl"
    urls.write_text("".join(lines))
    log = open(workdir / "blackbox.log", "wb")  # noqa: SIM115 - the exporter writes it until stopped
    popen = subprocess.Popen(
        [binary, f"--config.file={conf}", f"--web.listen-address={LISTEN}", "--log.level=error"],
        stdout=log,
        stderr=log,
    )
    host, port = LISTEN.split(":")
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if popen.poll() is not None:
            raise RuntimeError(f"{BINARY} exited: {(workdir / 'blackbox.log').read_text()[-1000:]}")
        try:
            socket.create_connection((host, int(port)), timeout=0.5).close()
            return Exporter(popen, workdir, urls, n)
        except OSError:
            time.sleep(0.1)
    popen.kill()
    raise RuntimeError(f"{BINARY} did not listen on {LISTEN}")
