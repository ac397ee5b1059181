"""The wheel in a fresh venv, as users install it: the console script validates, checks a VPC in a box,
discovers from the AWS emulator and runs the agent loop; without the `aws` extra (no boto3), the data plane
still works.

Each venv has nothing but the wheel and its dependencies (tests/packaging/conftest.py), and each command runs
in a clean environment pointing only at loopback and this test's namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.packaging.conftest import ONE_SERVICE, PROJECT, Venv
from tests.schemas import load_report
from tests.testbed import aws_seed, emulator
from tests.testbed.box import Box

Factory = Callable[[dict[str, Any]], Box]


def test_version(core_venv: Venv) -> None:
    done = core_venv.cli("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"vpc-verify {PROJECT['version']}"


def test_validate(core_venv: Venv, tmp_path: Path) -> None:
    topology = tmp_path / "validate.yaml"
    topology.write_text(
        "version: 1\nregion: us-east-1\nvpc: {id: vpc-0123456789abcdef0, cidrs: [10.0.0.0/16]}\n"
        "endpoints:\n  - {name: sqs, type: interface, service: com.amazonaws.us-east-1.sqs}\n"
    )
    done = core_venv.cli("validate", str(topology))
    assert done.returncode == 0, done.stderr
    assert "valid, 1 endpoints" in done.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nendpoints:\n  - {name: a, type: nope, dns_names: [x.example]}\n")
    done = core_venv.cli("validate", str(bad))
    assert done.returncode == 2 and "endpoints[0].type" in done.stderr and "Traceback" not in done.stderr


def test_the_data_plane_needs_no_boto3(core_venv: Venv, testbed_factory: Factory) -> None:
    """Without the `aws` extra, `check` of a topology without vpc.id works: boto3 is only for the control plane."""
    assert core_venv.python("import boto3").returncode != 0, "the core venv must not have boto3"
    box = testbed_factory(ONE_SERVICE)
    done = core_venv.cli("check", "-t", str(box.write_topology()), "--format", "json")
    assert done.returncode == 0, done.stderr
    report = load_report(done.stdout)
    assert report["healthy"] is True
    (billing,) = report["endpoints"]
    assert billing["name"] == "billing" and billing["findings"] == []
    assert [a["address"] for a in billing["addresses"]] == ["10.0.1.10"]
    assert billing["addresses"][0]["tls_ms"] is not None
    table = core_venv.cli("check", "-t", str(box.write_topology()))
    assert table.returncode == 0 and "OK   billing" in table.stdout, table.stderr


def test_discover_from_the_emulator(aws_venv: Venv, aws: emulator.Emulator, tmp_path: Path) -> None:
    from vpc_verify.aws import clients

    facts = aws_seed.seed(clients.ec2("us-east-1"))
    out = tmp_path / "discovered.yaml"
    done = aws_venv.cli("discover", "--vpc-id", facts.vpc_id, "--region", "us-east-1", "-o", str(out), env=aws.env())
    assert done.returncode == 0, done.stderr
    valid = aws_venv.cli("validate", str(out))
    assert valid.returncode == 0 and "valid, 3 endpoints" in valid.stdout, valid.stderr
    assert facts.vpc_id in out.read_text()
    for name in ("sqs", "kms", "s3"):
        assert f"name: {name}" in out.read_text()


def test_the_agent_loop_runs_and_publishes(
    aws_venv: Venv, aws: emulator.Emulator, testbed_factory: Factory, tmp_path: Path
) -> None:
    box = testbed_factory(ONE_SERVICE)
    state = tmp_path / "state.json"
    done = aws_venv.cli(
        "agent",
        "-t",
        str(box.write_topology()),
        "--max-runs",
        "1",
        "--jitter",
        "0",
        "--state-file",
        str(state),
        "--publish",
        "cloudwatch",
        "--namespace",
        "Installed",
        env=aws.env(),
    )
    assert done.returncode == 0, done.stderr
    doc = load_report(state.read_text())
    assert doc["healthy"] is True and doc["loop"]["publish"]["ok"] is True, doc["loop"]
    import boto3

    listed = boto3.client("cloudwatch", region_name="us-east-1").list_metrics(Namespace="Installed")["Metrics"]
    assert {"Healthy", "RunHealthy"} <= {m["MetricName"] for m in listed}


def test_a_control_plane_command_without_boto3_says_what_to_install(core_venv: Venv) -> None:
    done = core_venv.cli("discover", "--vpc-id", "vpc-0123456789abcdef0", "--region", "us-east-1")
    assert done.returncode == 2
    assert "vpc-verify[aws]" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_check_with_a_vpc_id_without_boto3_says_what_to_install(core_venv: Venv, testbed_factory: Factory) -> None:
    box = testbed_factory(ONE_SERVICE)
    topology = box.write_topology()
    topology.write_text(topology.read_text().replace("vpc:\n", "vpc:\n  id: vpc-0123456789abcdef0\n", 1))
    done = core_venv.cli("check", "-t", str(topology), "--format", "json")
    assert done.returncode == 2, done.stdout[-2000:]
    assert "vpc-verify[aws]" in done.stderr and "--no-aws" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
