"""The benchmark's VPC in a box: the testbed's box (dnsmasq as the resolver, the ENI addresses on `lo`, its own
network namespace), with nginx serving TLS 1.3 on every address instead of the testbed's Python targets, so that
the servers cost little of the two cores the clients are measured on.

    .venv/bin/python -m bench.stage 1000 -- CMD ARGS...   # run CMD beside a box of 1000 endpoints

CMD gets BENCH_TOPOLOGY (the topology file), BENCH_CA (the CA bundle), BENCH_RESOLVER and BENCH_LIST (the
C floor's input: one line per endpoint, "name address...").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.testbed.box import Box, BoxError  # noqa: E402
from tests.testbed.targets import TargetSpec  # noqa: E402

REGION = "us-east-1"
WILDCARD = f"*.{REGION}.amazonaws.com"


def spec_for(n: int) -> dict[str, Any]:
    """N interface endpoints, two ENIs each, in 10.0.0.0/8."""
    endpoints = []
    for i in range(n):
        a, b = divmod(i, 250)
        endpoints.append(
            {
                "name": f"svc{i}",
                "service": f"com.amazonaws.{REGION}.svc{i}",
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


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes {workers};
worker_rlimit_nofile 65536;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log error;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/nginx-tmp;
    ssl_protocols TLSv1.3;
    ssl_session_tickets off;
    ssl_session_cache off;
    server {{
        listen 443 ssl backlog=4096;
        server_name _;
        ssl_certificate {workdir}/wildcard.crt;
        ssl_certificate_key {workdir}/wildcard.key;
        return 200 "ok";
    }}
}}
"""


class NginxBox(Box):
    """The testbed's box with one nginx (a wildcard certificate for the endpoints' names) on every address."""

    nginx_workers: int = 2

    def _certs_and_targets(self) -> list[TargetSpec]:
        self.ca.cert_pem.write_to_path(str(self.ca_bundle))
        cert = self.ca.issue_cert(WILDCARD)
        cert.private_key_pem.write_to_path(str(self.workdir / "wildcard.key"))
        (self.workdir / "wildcard.crt").write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        return []

    def _start_targets(self, targets: list[TargetSpec]) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.access(binary, os.X_OK):
            raise BoxError("nginx is missing: run bench/setup")
        (self.workdir / "nginx-tmp").mkdir(exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(workdir=self.workdir, workers=self.nginx_workers))
        self._spawn("nginx", [binary, "-c", str(conf), "-e", str(self.workdir / "nginx-error.log")])
        first = self.spec.endpoints[0].addresses[0]
        _wait_port(first, 443, self.workdir / "nginx-error.log")

    def floor_list(self) -> Path:
        """The C floor's input: "name address..." per endpoint."""
        path = self.workdir / "floor.list"
        path.write_text("".join(f"{e.dns_name} {' '.join(e.addresses)}\n" for e in self.spec.endpoints))
        return path


def _wait_port(host: str, port: int, log: Path, timeout_s: float = 20.0) -> None:
    import socket

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise BoxError(f"nginx did not listen on {host}:{port}: {log.read_text(errors='replace')[-1000:]}")


def main(argv: list[str]) -> int:
    """Build a box of N endpoints and run a command beside it."""
    cut = argv.index("--") if "--" in argv else len(argv)
    n = int(argv[0]) if argv[:cut] else 1000
    command = argv[cut + 1 :] or [os.environ.get("SHELL", "/bin/bash")]
    from tests.testbed import emulator, netns
    from tests.testbed.spec import parse

    os.environ.update(emulator.FAKE_ENV)
    netns.enter()
    with tempfile.TemporaryDirectory(prefix="vpc-verify-stage-") as tmp, NginxBox(parse(spec_for(n)), Path(tmp)) as box:
        env = {
            **os.environ,
            "BENCH_TOPOLOGY": str(box.write_topology()),
            "BENCH_CA": str(box.ca_bundle),
            "BENCH_RESOLVER": box.spec.resolver,
            "BENCH_LIST": str(box.floor_list()),
        }
        return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
