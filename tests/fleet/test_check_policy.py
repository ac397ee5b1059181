"""`check --policy` and the zero-configuration check against the emulator: the VPC read once, its topology derived
from the policy and what AWS reports, the derivation in the report, a missing required endpoint a finding with the
command that creates it. DNS goes to a loopback port that refuses, so no packet leaves the machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.schemas import load_diagnosis, load_report
from tests.testbed.aws_seed import SeedFacts
from vpc_verify import cli

POLICY = """\
version: 1
resolver: {{nameservers: [127.0.0.1], port: {port}, timeout_ms: 200}}
classes:
  - name: prod
    match: {{environment: prod}}
    interface: [sqs, kms, sts]
    gateway: [s3, dynamodb]
    azs: {{min: 2}}
  - name: other
    interface: [sqs]
"""


def _policy(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY.format(port=port))
    return path


def _check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    rc = cli.main(["check", *argv, "--format", "json", "--log-level", "error"])
    return rc, load_report(capsys.readouterr().out)


def test_a_prod_vpc_lacking_required_endpoints_gets_findings_with_the_create_command(
    ec2: Any, seeded: SeedFacts, tmp_path: Path, capsys: pytest.CaptureFixture[str], closed_dns_port: int
) -> None:
    ec2.create_tags(Resources=[seeded.vpc_id], Tags=[{"Key": "environment", "Value": "prod"}])
    policy = _policy(tmp_path, closed_dns_port)
    rc, report = _check(
        capsys, "--policy", str(policy), "--vpc-id", seeded.vpc_id, "--subnet-id", seeded.agent_subnet_id
    )
    assert rc == 1
    derived = report["policy"]
    assert derived["source"] == str(policy) and derived["class"]["name"] == "prod"
    required = {r["service"].rsplit(".", 1)[-1]: r for r in derived["required"]}
    assert {k: r["present"] for k, r in required.items()} == {
        "sqs": True,
        "kms": True,
        "sts": False,
        "s3": True,
        "dynamodb": False,
    }
    assert len(required["sqs"]["azs"]) == 2 and all(z.startswith("use1-az") for z in required["sqs"]["azs"])
    assert sorted(e["name"] for e in report["endpoints"]) == ["dynamodb", "kms", "s3", "sqs", "sts"]
    missing = {f["endpoint"]: f for f in report["findings"] if f["code"] == "ENDPOINT_MISSING"}
    assert set(missing) == {"sts", "dynamodb"}
    assert (
        f"aws ec2 create-vpc-endpoint --vpc-id {seeded.vpc_id} --vpc-endpoint-type Interface" in missing["sts"]["hint"]
    )
    assert "--service-name com.amazonaws.us-east-1.sts" in missing["sts"]["hint"]
    assert "--vpc-endpoint-type Gateway" in missing["dynamodb"]["hint"]
    assert derived["topology"]["vpc"]["id"] == seeded.vpc_id  # the derived topology, as a topology document


def test_an_exemption_tag_drops_a_required_service(
    ec2: Any, seeded: SeedFacts, tmp_path: Path, capsys: pytest.CaptureFixture[str], closed_dns_port: int
) -> None:
    ec2.create_tags(
        Resources=[seeded.vpc_id],
        Tags=[{"Key": "environment", "Value": "prod"}, {"Key": "vpc-verify:exempt", "Value": "dynamodb, sts"}],
    )
    rc, report = _check(capsys, "--policy", str(_policy(tmp_path, closed_dns_port)), "--vpc-id", seeded.vpc_id)
    assert report["policy"]["exempt"] == ["dynamodb", "sts"]
    assert all(r["present"] for r in report["policy"]["required"])
    assert not [f for f in report["findings"] if f["code"] == "ENDPOINT_MISSING"]
    assert rc == 1  # the refusing resolver: every name fails, so still unhealthy


def test_an_untagged_vpc_falls_to_the_catch_all_class(
    seeded: SeedFacts, tmp_path: Path, capsys: pytest.CaptureFixture[str], closed_dns_port: int
) -> None:
    _, report = _check(capsys, "--policy", str(_policy(tmp_path, closed_dns_port)), "--vpc-id", seeded.vpc_id)
    assert report["policy"]["class"]["name"] == "other"
    assert [r["present"] for r in report["policy"]["required"]] == [True]


def test_the_table_says_how_the_topology_was_derived(
    ec2: Any, seeded: SeedFacts, tmp_path: Path, capsys: pytest.CaptureFixture[str], closed_dns_port: int
) -> None:
    ec2.create_tags(Resources=[seeded.vpc_id], Tags=[{"Key": "environment", "Value": "prod"}])
    policy = _policy(tmp_path, closed_dns_port)
    capsys.readouterr()
    assert cli.main(["check", "--policy", str(policy), "--vpc-id", seeded.vpc_id, "--log-level", "error"]) == 1
    out = capsys.readouterr().out
    assert f"topology derived from {policy}, class prod: 5 required, 2 missing (sts, dynamodb)" in out


def test_with_neither_topology_nor_policy_every_endpoint_aws_reports_is_checked(
    seeded: SeedFacts, capsys: pytest.CaptureFixture[str], closed_dns_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VPC_VERIFY_TOPOLOGY", raising=False)
    monkeypatch.delenv("VPC_VERIFY_POLICY", raising=False)
    # The agent's subnet (as instance metadata would say) tells which VPC it runs in: no --vpc-id.
    _, report = _check(capsys, "--subnet-id", seeded.agent_subnet_id)
    assert report["vpc_id"] == seeded.vpc_id
    assert sorted(e["name"] for e in report["endpoints"]) == ["kms", "s3", "sqs"]
    assert report["policy"]["source"] == "<every endpoint AWS reports>" and report["policy"]["required"] == []
    assert not [f for f in report["findings"] if f["code"] == "ENDPOINT_MISSING"]


def test_an_unknown_vpc_is_a_usage_error(aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = _policy(tmp_path, 53)
    rc = cli.main(["check", "--policy", str(policy), "--vpc-id", "vpc-0123456789abcdef0", "--log-level", "error"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("vpc-verify: error:") and "Traceback" not in err
    assert "vpc-0123456789abcdef0" in err


def test_an_empty_policy_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert cli.main(["check", "--policy", str(empty), "--vpc-id", "vpc-0123456789abcdef0"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err
        == f"vpc-verify: error: {empty}: expected a policy mapping with version and classes, got 'an empty document'"
    )


def test_wait_derives_again_each_attempt(
    ec2: Any, seeded: SeedFacts, tmp_path: Path, capsys: pytest.CaptureFixture[str], closed_dns_port: int
) -> None:
    ec2.create_tags(Resources=[seeded.vpc_id], Tags=[{"Key": "environment", "Value": "prod"}])
    policy = _policy(tmp_path, closed_dns_port)
    rc, report = _check(capsys, "--policy", str(policy), "--vpc-id", seeded.vpc_id, "--wait", "2", "--deadline", "1")
    assert rc == 1  # never healthy: the refusing resolver
    assert report["policy"]["class"]["name"] == "prod" and len(report["policy"]["required"]) == 5


def test_topology_and_policy_together_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli.main(["check", "-t", "t.yaml", "--policy", "p.yaml"])
    assert rc == 2
    assert "--topology is a whole topology: leave out --policy" in capsys.readouterr().err


def test_diagnose_without_a_topology_takes_the_endpoint_from_aws(
    seeded: SeedFacts, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VPC_VERIFY_TOPOLOGY", raising=False)
    monkeypatch.delenv("VPC_VERIFY_POLICY", raising=False)
    capsys.readouterr()
    argv = ["diagnose", "sqs", "--vpc-id", seeded.vpc_id, "--subnet-id", seeded.agent_subnet_id, "--format", "json"]
    cli.main([*argv, "--deadline", "5", "--log-level", "error"])
    found = load_diagnosis(capsys.readouterr().out)
    assert found["endpoint"]["name"] == "sqs"
    assert found["endpoint"]["aws"]["vpc_endpoint_id"] == seeded.interfaces["sqs"].vpce_id
    assert {z["eni_id"] for z in found["zones"]} == set(seeded.interfaces["sqs"].eni_ids)
    capsys.readouterr()
    assert cli.main(["diagnose", "nope", "--vpc-id", seeded.vpc_id, "--log-level", "error"]) == 2
    err = capsys.readouterr().err
    assert f"no endpoint 'nope' in <every endpoint AWS reports> for {seeded.vpc_id} (it has: kms, s3, sqs)" in err
