"""A minimal VPC-in-a-box for the shipping tests, run inside `unshare -rn` (only lo, no route out).

One private name served by a tiny DNS server on 127.0.0.1, a TLS server (trustme CA) on an "ENI" address
added to lo, and the AWS emulator on 127.0.0.1 — enough to run the real CLI and the Lambda zip end to end.
`python -m tests.publish.minibox lambda|wait ...` is the driver that the tests start under `unshare -rn`;
it prints one JSON document of what it saw.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

NAME = "svc.internal.example.com"
ENI = "10.0.1.10"
VPC_CIDR = "10.0.0.0/16"


def unshare_available() -> bool:
    """Whether `unshare -rn` works here (user namespaces allowed)."""
    try:
        return subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def setup_lo() -> None:
    """Bring lo up and give it the ENI address (inside the namespace only)."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{ENI}/32", "dev", "lo"], check=True)


def start_dns(answers: dict[str, str]) -> int:
    """A UDP DNS server on 127.0.0.1 answering A records for `answers`; returns its port."""
    import dns.message
    import dns.rcode
    import dns.rrset

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            data, peer = sock.recvfrom(4096)
            try:
                query = dns.message.from_wire(data)
            except Exception:
                continue
            response = dns.message.make_response(query)
            q = query.question[0]
            name = q.name.to_text().rstrip(".")
            if name in answers:
                if q.rdtype == 1:
                    response.answer.append(dns.rrset.from_text(q.name, 60, "IN", "A", answers[name]))
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(response.to_wire(), peer)

    threading.Thread(target=serve, daemon=True).start()
    return int(sock.getsockname()[1])


def start_tls(workdir: Path, delay_s: float = 0.0) -> str:
    """A TLS server on ENI:443 with a certificate for NAME after `delay_s`; returns the CA bundle path."""
    import trustme

    ca = trustme.CA()
    bundle = workdir / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(NAME).configure_cert(ctx)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(TimeoutError, ConnectionError, ssl.SSLError):
            await asyncio.wait_for(reader.read(1024), 2)
        writer.close()

    def serve() -> None:
        time.sleep(delay_s)
        loop = asyncio.new_event_loop()
        loop.run_until_complete(asyncio.start_server(handle, ENI, 443, ssl=ctx))
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    return str(bundle)


def topology(dns_port: int, ca_bundle: str, vpc_id: str | None = None) -> str:
    """The topology of the box (YAML)."""
    vpc = f"{{id: {vpc_id}, cidrs: [{VPC_CIDR}]}}" if vpc_id else f"{{cidrs: [{VPC_CIDR}]}}"
    return (f"version: 1\nregion: us-east-1\nvpc: {vpc}\n"
            f"resolver: {{nameservers: [127.0.0.1], port: {dns_port}, timeout_ms: 500}}\n"
            f"defaults: {{timeout_ms: 1000, latency_budget_ms: 1000, tls: {{ca_bundle: {ca_bundle}}}}}\n"
            f"endpoints:\n  - name: billing\n    type: service\n    dns_names: [{NAME}]\n    addresses: [{ENI}]\n")


class _Context:
    aws_request_id = "req-1"


def scenario_lambda(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Invoke the unpacked zip's handler with a clean venv's python, against the box and the emulator."""
    from tests.testbed import emulator

    emu = emulator.start()
    try:
        dns_port = start_dns({NAME: ENI})
        bundle = start_tls(work)
        (work / "topology.yaml").write_text(topology(dns_port, bundle))
        base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **emu.env(),
                    "VPC_VERIFY_TOPOLOGY_FILE": str(work / "topology.yaml"), "AWS_LAMBDA_FUNCTION_NAME": "vpc-verify",
                    "LAMBDA_TASK_ROOT": str(args.package)}
        code = ("import json, sys, handler\n"
                "class Ctx:\n    aws_request_id = 'r1'\n"
                "    def get_remaining_time_in_millis(self): return 30000\n"
                "event = json.loads(sys.argv[1])\n"
                "print('RESULT ' + json.dumps(handler.handler(event, Ctx())))\n")
        out: dict[str, Any] = {}

        def invoke(name: str, event: dict[str, Any], **env: str) -> None:
            proc = subprocess.run([args.python, "-s", "-E", "-c", code, json.dumps(event)], cwd=args.package,
                                  env={**base_env, **env}, capture_output=True, text=True, timeout=60)
            lines = proc.stdout.splitlines()
            result = [json.loads(x[7:]) for x in lines if x.startswith("RESULT ")]
            out[name] = {"rc": proc.returncode, "result": result[0] if result else None,
                         "emf": [json.loads(x) for x in lines if x.startswith('{"_aws"')],
                         "stderr": proc.stderr[-2000:]}

        invoke("cloudwatch", {}, VPC_VERIFY_PUBLISH="cloudwatch")
        invoke("fallback", {}, VPC_VERIFY_PUBLISH="cloudwatch", AWS_ENDPOINT_URL="http://127.0.0.1:9")
        invoke("emf", {"only": ["billing"], "publish": "emf"})
        invoke("bad_event", {"targets": ["10.9.9.9"]})
        invoke("event_topology_refused", {"topology": {"version": 1}})
        invoke("import_check", {}, VPC_VERIFY_PUBLISH="none",
               PYTHONWARNINGS="ignore")
        probe = subprocess.run([args.python, "-s", "-E", "-c", "import handler, sys; print('boto3' in sys.modules)"],
                               cwd=args.package, env=base_env, capture_output=True, text=True, timeout=60)
        out["boto3_at_import"] = probe.stdout.strip()

        import boto3

        os.environ.update(emu.env())
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        out["metrics"] = sorted(
            [m["MetricName"], {d["Name"]: d["Value"] for d in m["Dimensions"]}]
            for m in cw.list_metrics(Namespace="VpcVerify")["Metrics"])
        return out
    finally:
        emu.stop()


def scenario_wait(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """`check --wait` against an endpoint that starts answering after a delay."""
    dns_port = start_dns({NAME: ENI})
    bundle = start_tls(work, delay_s=args.delay)
    topo = work / "topology.yaml"
    topo.write_text(topology(dns_port, bundle))
    junit = work / "junit.xml"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "agent", "check", "-t", str(topo), "--wait", str(args.wait),
                           "--junit", str(junit), "--log-level", "error"], capture_output=True, text=True,
                          timeout=args.wait + 60)
    return {"rc": proc.returncode, "elapsed": time.monotonic() - t0, "stderr": proc.stderr, "stdout": proc.stdout,
            "junit": junit.read_text() if junit.exists() else None}


def main() -> int:
    """Driver: run one scenario inside the namespace and print its JSON."""
    p = argparse.ArgumentParser()
    p.add_argument("scenario", choices=("lambda", "wait"))
    p.add_argument("--workdir", required=True)
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--package", default=".")
    p.add_argument("--delay", type=float, default=4.0)
    p.add_argument("--wait", type=float, default=30.0)
    args = p.parse_args()
    setup_lo()
    work = Path(args.workdir)
    result = scenario_lambda(args, work) if args.scenario == "lambda" else scenario_wait(args, work)
    print("DRIVER " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
