"""Three-way end to end for issue 19: the seeded emulator (VPC, metrics, flow logs), the box's real packets and
the real CLI. `check --evidence flowlogs` on a probe the box drops shows the REJECT record that proves where
it was dropped (matched on the probe's own source port, never on the decoy beside it); without a flow log it
says the ENIs are not covered; `check --usage` carries the usage summary and its findings in the report.

Everything runs in the pytest process's private network namespace (tests/conftest.py); the CLI's children
reach only the emulator on 127.0.0.1, with fake credentials.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.schemas import load_report
from tests.testbed import aws_seed, emulator, flowlog, usage_seed
from tests.testbed.aws_box import box_spec, site_topology
from tests.testbed.box import Box

pytestmark = pytest.mark.netns
Factory = Callable[[dict[str, Any]], Box]


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vpc_verify", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def site(env: dict[str, str], facts: aws_seed.SeedFacts, box: Box, tmp: Path) -> Path:
    out = tmp / "discovered.yaml"
    done = cli(env, "discover", "--vpc-id", facts.vpc_id, "--region", "us-east-1", "-o", str(out))
    assert done.returncode == 0, done.stderr
    return site_topology(out, box, tmp / "topology.yaml")


def check(env: dict[str, str], topology: Path, facts: aws_seed.SeedFacts, *extra: str) -> dict[str, Any]:
    done = cli(
        env,
        "check",
        "-t",
        str(topology),
        "--format",
        "json",
        "--subnet-id",
        facts.agent_subnet_id,
        "--deadline",
        "30",
        *extra,
    )
    assert done.returncode in (0, 1), done.stderr
    return load_report(done.stdout)


def findings(report: dict[str, Any], endpoint: str) -> dict[str, list[dict[str, Any]]]:
    (e,) = [e for e in report["endpoints"] if e["name"] == endpoint]
    out: dict[str, list[dict[str, Any]]] = {}
    for f in e["findings"]:
        out.setdefault(f["code"], []).append(f)
    return out


def clients() -> tuple[Any, Any, Any]:
    from vpc_verify.aws import clients as c

    return c.ec2("us-east-1"), c.logs("us-east-1"), c.cloudwatch("us-east-1")


def test_a_dropped_probe_shows_the_reject_record(
    aws: emulator.Emulator, testbed_factory: Factory, tmp_path: Path
) -> None:
    ec2, logs, _ = clients()
    facts = aws_seed.seed(ec2)
    box = testbed_factory(box_spec(facts, {"kms": "drop"}))
    topology = site(aws.env(), facts, box, tmp_path)
    group = flowlog.enable(ec2, logs, facts.vpc_id)
    kms = facts.interfaces["kms"]
    enis = ec2.describe_network_interfaces(NetworkInterfaceIds=list(kms.eni_ids))["NetworkInterfaces"]
    targets = {(n["PrivateIpAddress"], 443): n["NetworkInterfaceId"] for n in enis}
    with flowlog.FlowLogRecorder(logs, group, targets) as recorder:
        report = check(aws.env(), topology, facts, "--evidence", "flowlogs")
    assert recorder.written, "the box recorded no dropped probe"

    timeouts = findings(report, "kms")["TCP_TIMEOUT"]
    assert {t["address"] for t in timeouts} == set(kms.addresses)
    for t in timeouts:
        flows = t["evidence"]["flow_logs"]
        eni = targets[(t["address"], 443)]
        assert flows["verdict"] == "reject-inbound", json.dumps(flows, indent=1)
        assert flows["eni_id"] == eni
        port = flows["source_port"]
        lines = [r["record"] for r in flows["records"]]
        assert lines and all(line.split()[5] == str(port) and line.endswith("REJECT OK") for line in lines)
        assert all(line.split()[2] == eni and line.split()[4] == t["address"] for line in lines)
        assert lines[0] in recorder.written
        assert f" {flowlog.DECOY_PORT} " not in " ".join(lines)  # the decoy names the port too: never ours
        assert "REJECT" in t["message"] and eni in t["message"] and str(port) in t["message"]
        assert flows["query"]["filter_log_events_calls"] >= 1 and flows["query"]["log_groups"] == [group]
    assert "FLOW_LOGS_NOT_COVERED" not in findings(report, "kms")
    assert findings(report, "sqs") == {}


def test_without_a_flow_log_the_enis_are_not_covered(
    aws: emulator.Emulator, testbed_factory: Factory, tmp_path: Path
) -> None:
    ec2, _, _ = clients()
    facts = aws_seed.seed(ec2)
    box = testbed_factory(box_spec(facts, {"kms": "drop"}))
    topology = site(aws.env(), facts, box, tmp_path)
    report = check(aws.env(), topology, facts, "--evidence", "flowlogs")
    kms = findings(report, "kms")
    assert {t["evidence"]["flow_logs"]["verdict"] for t in kms["TCP_TIMEOUT"]} == {"not-covered"}
    (note,) = kms["FLOW_LOGS_NOT_COVERED"]
    assert note["severity"] == "warning" and set(note["evidence"]["network_interfaces"]) == set(
        facts.interfaces["kms"].eni_ids
    )
    assert "FLOW_LOGS_NOT_COVERED" in findings(report, "sqs")  # a note, not a failure: sqs stays healthy
    assert next(e for e in report["endpoints"] if e["name"] == "sqs")["healthy"]


def test_check_usage_carries_the_summary(aws: emulator.Emulator, testbed_factory: Factory, tmp_path: Path) -> None:
    ec2, _, cw = clients()
    facts = aws_seed.seed(ec2)
    box = testbed_factory(box_spec(facts))
    topology = site(aws.env(), facts, box, tmp_path)  # the box serves sqs, kms and s3: the rest come after
    seeded = usage_seed.seed_usage(ec2, cw, facts)
    report = check(aws.env(), topology, facts, "--usage")
    usage = report["usage"]
    assert usage["monthly_usd"] == float(seeded.monthly_usd)
    assert usage["price"]["source"].startswith("https://aws.amazon.com/privatelink/pricing/")
    names = {e["vpc_endpoint_id"]: e["name"] for e in usage["endpoints"]}
    assert names[facts.interfaces["sqs"].vpce_id] == "sqs"  # the topology's names
    codes = {f["code"] for f in report["findings"]}
    assert {"ENDPOINT_IDLE", "ENDPOINT_PACKETS_DROPPED", "SUBNET_ADDRESSES_LOW"} <= codes
    dropped = next(f for f in report["findings"] if f["code"] == "ENDPOINT_PACKETS_DROPPED")
    assert dropped["endpoint"] == "kms"
    assert {f["code"] for f in report["findings"] if f["severity"] == "error"} == set()  # usage: warnings only
    assert report["healthy"]
