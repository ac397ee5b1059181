"""The command line against the emulator: where the agent stands is checked, not assumed (a subnet or group of
another VPC is exit 2 with one line), and a control plane that cannot be read has its own exit code (4), one
line naming the missing action, and no 19 s wait when the EC2 API has no route.

AccessDenied cannot be produced by the emulator: those tests answer the call with botocore's Stubber.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.schemas import load_report
from tests.testbed.aws_seed import SeedFacts
from vpc_verify import cli
from vpc_verify.aws import clients


def _topology(tmp_path: Path, vpc_id: str, endpoints: str = "[]") -> Path:
    """A topology of the VPC whose data plane has nothing to fail (no endpoint, explicitly allowed, or only
    what is given)."""
    path = tmp_path / "t.yaml"
    allow = "allow_empty: true\n" if endpoints == "[]" else ""
    path.write_text(f"version: 1\nregion: us-east-1\nvpc: {{id: {vpc_id}}}\n{allow}endpoints: {endpoints}\n")
    return path


def _deny(monkeypatch: pytest.MonkeyPatch) -> None:
    client = clients.ec2("us-east-1")
    stub = Stubber(client)
    stub.add_client_error(
        "describe_vpcs",
        service_error_code="UnauthorizedOperation",
        service_message="You are not authorized to perform this operation.",
        http_status_code=403,
    )
    stub.activate()
    monkeypatch.setattr(clients, "ec2", lambda region=None: client)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_access_denied_with_a_healthy_data_plane_is_exit_4_with_one_line(
    aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _deny(monkeypatch)
    rc = cli.main(["check", "-t", str(_topology(tmp_path, "vpc-0123456789abcdef0")), "--log-level", "error"])
    out = capsys.readouterr()
    assert rc == 4
    lines = [x for x in out.err.splitlines() if x.startswith("vpc-verify:")]
    assert len(lines) == 1 and "ec2:DescribeVpcs was denied" in lines[0] and "Grant the agent's role" in lines[0]
    assert "AWS_API_ERROR" in out.out and "Traceback" not in out.err


def test_no_route_to_the_ec2_api_is_a_warning_said_at_once(
    aws: Any, seeded: SeedFacts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No ec2 endpoint, no NAT: one connect fails and the run says so (a warning, the VPC may be fine),
    instead of boto3's retries eating ~19 s of the run; exit 4, healthy in the report."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    start = time.monotonic()
    rc = cli.main(["check", "-t", str(_topology(tmp_path, seeded.vpc_id)), "--format", "json", "--log-level", "error"])
    spent = time.monotonic() - start
    out = capsys.readouterr()
    report = load_report(out.out)
    assert rc == 4 and spent < 5
    (f,) = report["findings"]
    assert f["code"] == "AWS_API_UNREACHABLE" and f["severity"] == "warning" and report["healthy"] is True
    assert "ec2 interface endpoint" in f["hint"] and "VPC_VERIFY_AWS=false" in f["hint"]
    assert "cannot be reached" in out.err


def test_a_subnet_outside_the_vpc_is_a_usage_error(
    ec2: Any, seeded: SeedFacts, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other_vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_subnet(VpcId=other_vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    topo = str(_topology(tmp_path, seeded.vpc_id))
    assert cli.main(["check", "-t", topo, "--subnet-id", foreign, "--log-level", "error"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"subnet {foreign}" in err[0] and f"is not a subnet of {seeded.vpc_id}" in err[0]
    assert seeded.agent_subnet_id in err[0]  # what to pass instead


def test_security_group_id_is_a_flag_checked_against_the_vpc(
    ec2: Any, seeded: SeedFacts, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    topo = str(_topology(tmp_path, seeded.vpc_id))
    args = ["check", "-t", topo, "--subnet-id", seeded.agent_subnet_id, "--format", "json", "--log-level", "error"]
    assert cli.main([*args, "--security-group-id", seeded.agent_security_group_id]) == 0
    agent = load_report(capsys.readouterr().out)["agent"]
    assert agent["security_group_ids"] == [seeded.agent_security_group_id] and agent["source"] == "flags"
    other_vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_security_group(GroupName="x", Description="x", VpcId=other_vpc)["GroupId"]
    assert cli.main([*args, "--security-group-id", foreign]) == 2
    assert f"{foreign}" in capsys.readouterr().err
    assert cli.main([*args, "--security-group-id", "sg-0123456789abcdef0"]) == 2
    assert "do not all exist" in capsys.readouterr().err


def test_every_help_documents_exit_code_4(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["check", "--help"], ["diagnose", "--help"]):
        with pytest.raises(SystemExit):
            cli.main(argv)
        text = capsys.readouterr().out
        assert "4  the VPC looked healthy but vpc-verify's own part with AWS failed" in text, argv
        assert "control plane could not be read" in text and "PUBLISH_FAILED" in text, argv
    with pytest.raises(SystemExit):
        cli.main(["discover", "--help"])
    assert "4 AWS could not be read" in capsys.readouterr().out  # discover publishes nothing
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    text = capsys.readouterr().out
    assert "--security-group-id" in text and "wins over 4" in text and "--healthy-runs" in text
