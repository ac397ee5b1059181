"""Issue 20's "done when", on the box: a seeded emulator VPC, a box serving exactly its ENIs, the topology that
`vpc-verify discover` writes for it, and Custom::VpcVerify requests as CloudFormation sends them.

A stack update whose interface endpoint has private DNS off (the name answers the public service) gets a FAILED
answer naming the endpoint, PRIVATE_DNS_DISABLED and the fix within the wait window; the healthy VPC gets
SUCCESS; a Delete is answered at once. The emulator ignores ModifyVpcEndpoint's PrivateDnsEnabled, so the
broken VPC is seeded with private DNS off (tests/testbed/aws_seed.py), as in tests/e2e/test_control_plane.py.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.gate.events import FakeContext, cfn_event
from tests.gate.standins import ResponseBucket
from tests.gate.test_cfn_resource import answer
from tests.testbed import aws_seed, emulator
from tests.testbed.aws_box import box_spec, site_topology
from tests.testbed.box import Box
from vpc_verify.shells import cfn_resource

pytestmark = pytest.mark.netns
WAIT_S = 6


def site(
    aws: emulator.Emulator,
    testbed_factory: Callable[[dict[str, Any]], Box],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    faults: dict[str, str] | None = None,
    **seed: Any,
) -> tuple[aws_seed.SeedFacts, str]:
    """Seed the VPC, serve it from a box, discover its topology; the function stands in the agent subnet."""
    from vpc_verify.aws import clients

    facts = aws_seed.seed(clients.ec2("us-east-1"), **seed)
    box = testbed_factory(box_spec(facts, faults))
    discovered = tmp_path / "discovered.yaml"
    argv = ["discover", "--vpc-id", facts.vpc_id, "--region", "us-east-1", "-o", str(discovered)]
    done = subprocess.run(
        [sys.executable, "-m", "vpc_verify", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **aws.env()},
    )
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("VPC_VERIFY_SUBNET_ID", facts.agent_subnet_id)
    return facts, site_topology(discovered, box, tmp_path / "topology.yaml").read_text()


def test_an_update_that_breaks_private_dns_fails_naming_the_endpoint_and_cause(
    aws: emulator.Emulator,
    testbed_factory: Callable[[dict[str, Any]], Box],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bucket: ResponseBucket,
    tls: ssl.SSLContext,
) -> None:
    facts, topology = site(
        aws, testbed_factory, tmp_path, monkeypatch, {"sqs": "public_address"}, private_dns={"sqs": False}
    )
    vpce = facts.interfaces["sqs"].vpce_id
    props = {"Topology": topology, "WaitSeconds": WAIT_S, "IntervalSeconds": 2, "Watch": {"PrivateDnsEnabled": False}}
    old = {**props, "Watch": {"PrivateDnsEnabled": True}}
    event = cfn_event("Update", bucket.url(), props, physical="vpc-verify-network-EndpointsVerified-1", old=old)
    start = time.monotonic()
    cfn_resource.handle(event, FakeContext(120), tls=tls)
    took = time.monotonic() - start
    doc = answer(bucket)
    reason = doc["Reason"]
    assert doc["Status"] == "FAILED", reason
    assert doc["PhysicalResourceId"] == "vpc-verify-network-EndpointsVerified-1"
    assert reason.startswith("vpc-verify: 1 of 3 endpoints unhealthy after "), reason
    assert "sqs: DNS_PUBLIC_ADDRESS, PRIVATE_DNS_DISABLED - " in reason
    assert vpce in reason and "kms" not in reason and "s3:" not in reason
    assert took < WAIT_S + 30  # within the wait window (plus the last run)


def test_a_healthy_vpc_succeeds_and_its_delete_is_never_blocked(
    aws: emulator.Emulator,
    testbed_factory: Callable[[dict[str, Any]], Box],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bucket: ResponseBucket,
    tls: ssl.SSLContext,
) -> None:
    _, topology = site(aws, testbed_factory, tmp_path, monkeypatch)
    props = {"Topology": topology, "WaitSeconds": WAIT_S, "IntervalSeconds": 2}
    cfn_resource.handle(cfn_event("Create", bucket.url("create"), props), FakeContext(120, "req-1"), tls=tls)
    created = answer(bucket)
    assert created["Status"] == "SUCCESS", created["Reason"]
    assert created["Data"]["Endpoints"] == "3" and created["Data"]["Healthy"] == "true"

    # Delete with the resolver gone and a long wait: answered at once, nothing checked.
    delete = cfn_event(
        "Delete",
        bucket.url("delete"),
        {**props, "WaitSeconds": 3600},
        physical=created["PhysicalResourceId"],
    )
    start = time.monotonic()
    cfn_resource.handle(delete, FakeContext(900), tls=tls)
    deleted = answer(bucket, 2)
    assert deleted["Status"] == "SUCCESS" and deleted["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert time.monotonic() - start < 2
