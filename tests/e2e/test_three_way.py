"""Three-way end to end: the topology, the AWS control plane (the emulator, seeded) and real packets (a box
serving exactly the seeded ENI addresses). `discover` then `check` passes on a healthy VPC; misconfigurations
give their codes, joined across the planes, with hints that name the resource."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.schemas import load_report
from tests.testbed import aws_seed, emulator
from tests.testbed.aws_box import box_spec, site_topology
from tests.testbed.box import Box
from tests.testbed.cli import run_cli

pytestmark = pytest.mark.netns
Factory = Callable[[dict[str, Any]], Box]


@pytest.fixture
def env(aws: emulator.Emulator) -> dict[str, str]:
    """The environment of the CLI's children: the emulator (reset for this test), fake credentials."""
    return aws.env()


def ec2() -> Any:
    from vpc_verify.aws import clients

    return clients.ec2("us-east-1")


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env, timeout=120)


def discovered_topology(env: dict[str, str], facts: aws_seed.SeedFacts, box: Box, tmp: Path) -> Path:
    """`vpc-verify discover`, then the two things only the site knows: the resolver and the CA bundle."""
    out = tmp / "discovered.yaml"
    done = cli(env, "discover", "--vpc-id", facts.vpc_id, "--region", "us-east-1", "-o", str(out))
    assert done.returncode == 0, done.stderr
    return site_topology(out, box, tmp / "topology.yaml")


def check(env: dict[str, str], topology: Path, facts: aws_seed.SeedFacts) -> tuple[int, dict[str, Any]]:
    done = cli(
        env, "check", "-t", str(topology), "--format", "json", "--subnet-id", facts.agent_subnet_id, "--deadline", "30"
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, load_report(done.stdout)


def findings(report: dict[str, Any], endpoint: str) -> dict[str, dict[str, Any]]:
    (e,) = [e for e in report["endpoints"] if e["name"] == endpoint]
    return {f["code"]: f for f in e["findings"]}


def test_discover_then_check_a_healthy_vpc(env: dict[str, str], testbed_factory: Factory, tmp_path: Path) -> None:
    facts = aws_seed.seed(ec2())
    box = testbed_factory(box_spec(facts))
    topology = discovered_topology(env, facts, box, tmp_path)
    code, report = check(env, topology, facts)
    assert code == 0, json.dumps([e["findings"] for e in report["endpoints"]], indent=1)[:3000]
    assert {e["name"] for e in report["endpoints"]} >= {"sqs", "kms", "s3"}
    sqs = next(e for e in report["endpoints"] if e["name"] == "sqs")
    assert {a["address"]: a["az"] for a in sqs["addresses"]} == facts.interfaces["sqs"].addresses
    assert report["findings"] == []


def test_private_dns_off_joins_both_planes(env: dict[str, str], testbed_factory: Factory, tmp_path: Path) -> None:
    facts = aws_seed.seed(ec2(), private_dns={"sqs": False})
    box = testbed_factory(box_spec(facts, {"sqs": "public_address"}))
    topology = discovered_topology(env, facts, box, tmp_path)
    code, report = check(env, topology, facts)
    assert code == 1
    sqs = findings(report, "sqs")
    vpce = facts.interfaces["sqs"].vpce_id
    assert {"DNS_PUBLIC_ADDRESS", "PRIVATE_DNS_DISABLED"} <= set(sqs)
    assert vpce in sqs["DNS_PUBLIC_ADDRESS"]["hint"] and vpce in sqs["PRIVATE_DNS_DISABLED"]["hint"]
    assert "private-dns-enabled" in sqs["PRIVATE_DNS_DISABLED"]["hint"]
    assert findings(report, "kms") == {}

    diagnose = cli(env, "diagnose", "-t", str(topology), "sqs", "--subnet-id", facts.agent_subnet_id)
    assert diagnose.returncode == 1, diagnose.stderr
    assert vpce in diagnose.stdout and "us-east-1a" in diagnose.stdout and "us-east-1b" in diagnose.stdout


def test_security_group_drop_names_the_group(env: dict[str, str], testbed_factory: Factory, tmp_path: Path) -> None:
    facts = aws_seed.seed(ec2(), port=8443)  # the endpoints' group admits 8443, not 443
    box = testbed_factory(box_spec(facts, {"kms": "drop"}))
    topology = discovered_topology(env, facts, box, tmp_path)
    code, report = check(env, topology, facts)
    kms = findings(report, "kms")
    sg = facts.interfaces["kms"].security_group_id
    assert code == 1
    assert {"TCP_TIMEOUT", "SECURITY_GROUP_BLOCKS"} <= set(kms)
    assert sg in kms["SECURITY_GROUP_BLOCKS"]["hint"]
    assert sg in kms["TCP_TIMEOUT"]["message"] + kms["TCP_TIMEOUT"]["hint"]


def test_drop_where_the_rules_admit_points_at_nacls(
    env: dict[str, str], testbed_factory: Factory, tmp_path: Path
) -> None:
    facts = aws_seed.seed(ec2())
    box = testbed_factory(box_spec(facts, {"kms": "drop"}))
    topology = discovered_topology(env, facts, box, tmp_path)
    _, report = check(env, topology, facts)
    kms = findings(report, "kms")
    assert set(kms) == {"TCP_TIMEOUT"}
    assert "ACL" in kms["TCP_TIMEOUT"]["hint"] or "route" in kms["TCP_TIMEOUT"]["hint"]


def test_missing_and_unexpected_endpoints(env: dict[str, str], testbed_factory: Factory, tmp_path: Path) -> None:
    facts = aws_seed.seed(ec2())
    box = testbed_factory(box_spec(facts))
    topology = discovered_topology(env, facts, box, tmp_path)
    doc = yaml.safe_load(topology.read_text())
    doc["endpoints"] = [e for e in doc["endpoints"] if e["name"] != "kms"]  # kms exists but is not listed
    doc["endpoints"].append({"name": "ssm", "type": "interface", "service": "com.amazonaws.us-east-1.ssm"})
    topology.write_text(yaml.safe_dump(doc))
    code, report = check(env, topology, facts)
    assert code == 1
    assert "ENDPOINT_MISSING" in findings(report, "ssm")
    unexpected = [f for f in report["findings"] if f["code"] == "ENDPOINT_UNEXPECTED"]
    assert unexpected and facts.interfaces["kms"].vpce_id in unexpected[0]["hint"] + unexpected[0]["message"]
