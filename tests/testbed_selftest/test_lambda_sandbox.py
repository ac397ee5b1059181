"""Running as a VPC Lambda: a link-local address only, the VPC reached through a Hyperplane ENI's address, the
Lambda environment and metadata endpoint, no instance metadata (tests/testbed/lambda_sandbox.py)."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.schemas import load_report
from tests.testbed import emulator
from tests.testbed.box import Box
from tests.testbed.lambda_sandbox import LambdaSandbox

pytestmark = pytest.mark.netns
Factory = Callable[[dict[str, Any]], Box]

PROBE = r"""
import json, os, socket, urllib.error, urllib.request
out = {"env": {k: v for k, v in os.environ.items() if k.startswith(("AWS_LAMBDA", "AWS_REGION", "LAMBDA_"))}}
url = "http://" + os.environ["AWS_LAMBDA_METADATA_API"] + "/2026-01-15/metadata/execution-environment"
auth = {"Authorization": "Bearer " + os.environ["AWS_LAMBDA_METADATA_TOKEN"]}
with urllib.request.urlopen(urllib.request.Request(url, headers=auth), timeout=2) as r:
    out["metadata"] = json.loads(r.read())
    out["cache"] = r.headers["Cache-Control"]
try:
    urllib.request.urlopen(url, timeout=2)
except urllib.error.HTTPError as e:
    out["without_token"] = e.code
try:
    socket.create_connection(("169.254.169.254", 80), timeout=2)
except OSError as e:
    out["imds"] = e.errno
with socket.create_connection(("10.0.1.10", 8443), timeout=2) as s:
    out["local"] = s.getsockname()[0]
    out["seen"] = s.recv(64).decode()
if os.environ.get("AWS_ENDPOINT_URL"):
    import boto3
    out["azs"] = len(boto3.client("ec2").describe_availability_zones()["AvailabilityZones"])
print(json.dumps(out))
"""


def echo_source(host: str, port: int) -> socket.socket:
    """A listener in the box that tells each client the source address it sees."""
    server = socket.create_server((host, port))

    def serve() -> None:
        while True:
            try:
                conn, peer = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(peer[0].encode())

    threading.Thread(target=serve, daemon=True).start()
    return server


def test_the_lambda_sees_link_local_the_vpc_sees_the_hyperplane_eni(
    aws: emulator.Emulator, testbed_factory: Factory, tmp_path: Path
) -> None:
    testbed_factory(
        {"endpoints": [{"name": "sqs", "service": "com.amazonaws.us-east-1.sqs", "addresses": ["10.0.1.10"]}]}
    )
    server = echo_source("10.0.1.10", 8443)
    try:
        with LambdaSandbox(tmp_path / "fn", hyperplane_address="10.0.1.77", az_id="use1-az6", emulator=aws) as fn:
            addresses = fn.run(["ip", "-o", "address", "show"]).stdout
            done = fn.run([sys.executable, "-c", PROBE])
    finally:
        server.close()
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    shown = {line.split()[3] for line in addresses.splitlines()}
    assert shown == {"127.0.0.1/8", "169.254.100.1/32", "169.254.79.1/32"}  # link-local only, IPv6 off
    assert out["local"] == "169.254.79.1" and out["seen"] == "10.0.1.77"
    assert out["metadata"] == {"AvailabilityZoneID": "use1-az6"} and "immutable" in out["cache"]
    assert out["without_token"] == 401
    assert out["imds"] == 113  # EHOSTUNREACH: no instance metadata in Lambda
    assert out["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "vpc-verify" and out["env"]["AWS_REGION"] == "us-east-1"
    assert out["env"]["AWS_LAMBDA_METADATA_API"] == "169.254.100.1:9001"
    assert out["azs"] == 6  # the AWS APIs through the VPC's relay to the emulator


def test_the_cli_runs_as_the_lambda(testbed_factory: Factory, tmp_path: Path) -> None:
    """Without the control plane, today's product judges the packets from the Lambda correctly: healthy."""
    box = testbed_factory(
        {
            "endpoints": [
                {"name": "sqs", "service": "com.amazonaws.us-east-1.sqs", "addresses": ["10.0.1.10", "10.0.2.10"]}
            ]
        }
    )
    with LambdaSandbox(tmp_path / "fn", hyperplane_address="10.0.1.77") as fn:
        done = fn.cli("check", "-t", str(box.write_topology()), "--format", "json")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = load_report(done.stdout)
    (sqs,) = report["endpoints"]
    assert sqs["healthy"] and all(a["tls_ms"] is not None for a in sqs["addresses"])
    # the resolver saw the Hyperplane ENI's address, never the sandbox's link-local one
    log = (box.workdir / "dnsmasq.log").read_text()
    assert "query[A] sqs.us-east-1.amazonaws.com from 10.0.1.77" in log and "169.254.79.1" not in log
