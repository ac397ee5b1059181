"""The instance metadata stand-in: IMDSv2 on the instance, the token PUT's answer lost one hop further (a container
with hop limit 1), and an IPv6-only instance at [fd00:ec2::254] (tests/testbed/instance.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.testbed.instance import Instance, InstanceFacts

pytestmark = pytest.mark.netns

ASK = r"""
import json, sys, urllib.error, urllib.request
host, paths = sys.argv[1], sys.argv[2:]
out = {}
try:
    put = urllib.request.Request(f"http://{host}/latest/api/token", method="PUT",
                                 headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    token = urllib.request.urlopen(put, timeout=1).read().decode()
except OSError as e:
    print(json.dumps({"error": type(e).__name__ + ": " + str(getattr(e, "reason", e))}))
    sys.exit(0)
for path in paths:
    get = urllib.request.Request(f"http://{host}/latest/meta-data/{path}", headers={"X-aws-ec2-metadata-token": token})
    try:
        out[path] = urllib.request.urlopen(get, timeout=1).read().decode()
    except urllib.error.HTTPError as e:
        out[path] = e.code
print(json.dumps(out))
"""


def ask(host: str, *paths: str, runner: Any = None) -> dict[str, Any]:
    argv = [sys.executable, "-c", ASK, host, *paths]
    done = runner(argv) if runner else subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def status(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_imdsv2_on_the_instance_and_in_a_container(tmp_path: Path) -> None:
    with Instance(tmp_path / "i") as instance:
        got = ask("169.254.169.254", "placement/availability-zone-id", "local-ipv4", "network/interfaces/macs/")
        assert got == {
            "placement/availability-zone-id": "use1-az6",
            "local-ipv4": "10.0.1.20",
            "network/interfaces/macs/": "02:00:00:00:00:01/",
        }
        assert ask("[fd00:ec2::254]", "instance-id") == {"instance-id": "i-0123456789abcdef0"}
        base = "http://169.254.169.254/latest/"
        assert status(urllib.request.Request(base + "meta-data/instance-id")) == 401  # IMDSv2 only
        assert status(urllib.request.Request(base + "api/token", method="PUT")) == 400  # no TTL header
        forwarded = {"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "10.0.1.99"}
        assert status(urllib.request.Request(base + "api/token", method="PUT", headers=forwarded)) == 403
        # the product's own client reads the stand-in (the metadata service is ours, inside this namespace)
        code = "from vpc_verify.aws import whereami; p = whereami.from_imds(); print(p.address, p.subnet_id, p.az)"
        env = {k: v for k, v in os.environ.items() if k != "AWS_EC2_METADATA_DISABLED"}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=30)
        assert done.stdout.split() == ["10.0.1.20", "subnet-0123456789abcdef0", "us-east-1a"], done.stderr
        # a container: the PUT connects, and its answer (IP TTL 1) dies at the instance's forwarding hop
        container = instance.container()
        assert ask("169.254.169.254", "instance-id", runner=container.run) == {"error": "TimeoutError: timed out"}


def test_hop_limit_two_reaches_the_container(tmp_path: Path) -> None:
    with Instance(tmp_path / "i", hop_limit=2) as instance:
        container = instance.container()
        assert ask("169.254.169.254", "instance-id", runner=container.run) == {"instance-id": "i-0123456789abcdef0"}


def test_an_ipv6_only_instance(tmp_path: Path) -> None:
    facts = InstanceFacts(local_ipv4=None, ipv6="2600:1f18:1234:5601::20")
    with Instance(tmp_path / "i", facts=facts, mode="ipv6_only"):
        assert "Network is unreachable" in ask("169.254.169.254", "instance-id")["error"]
        got = ask("[fd00:ec2::254]", "local-ipv4", "ipv6", "placement/availability-zone")
        assert got == {
            "local-ipv4": 404,
            "ipv6": "2600:1f18:1234:5601::20",
            "placement/availability-zone": "us-east-1a",
        }
