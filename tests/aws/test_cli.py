"""The control plane through the command line: discover → validate, check with vpc.id, AWS errors.

AccessDenied and throttling cannot be produced by the emulator: those tests answer the call with botocore's
Stubber (`add_client_error`) on the client the command makes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.schemas import load_report
from tests.testbed.aws_seed import SeedFacts
from vpc_verify import cli
from vpc_verify.aws import clients
from vpc_verify.topology import load


def test_discover_then_validate_round_trip(
    ec2: Any, seeded: SeedFacts, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2_zone_ids = {z["ZoneName"]: z["ZoneId"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}
    out = tmp_path / "topology.yaml"
    assert cli.main(["discover", "--vpc-id", seeded.vpc_id, "--region", "us-east-1", "-o", str(out)]) == 0
    assert cli.main(["validate", str(out)]) == 0
    assert "valid, 3 endpoints" in capsys.readouterr().out
    topo = load(out)
    assert topo.vpc.id == seeded.vpc_id and topo.region == "us-east-1"
    assert {str(c) for c in topo.vpc.cidrs} == set(seeded.cidrs)
    for name, facts in seeded.interfaces.items():
        e = topo.endpoint(name)
        assert (e.type, e.service, e.dns_names) == ("interface", facts.service, (facts.dns_name,))
        assert set(e.addresses) == set(facts.addresses)
        # AZ ids (the same zones in every account), this account's names as comments.
        ids = {ec2_zone_ids[az] for az in facts.addresses.values()}
        assert set(e.azs) == ids and all(z.startswith("use1-az") for z in e.azs)
    for az, zone_id in ec2_zone_ids.items():
        if zone_id in {z for e in topo.endpoints for z in e.azs}:
            assert f"- {zone_id}  # {az}" in out.read_text()
    s3 = topo.endpoint("s3")
    assert (s3.type, s3.service, s3.dns_names) == ("gateway", seeded.gateway.service, (seeded.gateway.dns_name,))


def test_discover_to_stdout_is_a_topology(seeded: SeedFacts, capsys: pytest.CaptureFixture[str]) -> None:
    from vpc_verify.topology import loads

    assert cli.main(["discover", "--vpc-id", seeded.vpc_id]) == 0
    topo = loads(capsys.readouterr().out)
    assert sorted(e.name for e in topo.endpoints) == ["kms", "s3", "sqs"]


def test_discover_unknown_vpc_is_a_clear_error(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["discover", "--vpc-id", "vpc-0123456789abcdef0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vpc-verify: error:") and "vpc-0123456789abcdef0" in err and "Traceback" not in err


def test_check_adds_control_plane_findings(
    ec2: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], closed_dns_port: int
) -> None:
    from tests.testbed import aws_seed

    facts = aws_seed.seed(ec2, dns_hostnames=False)
    topo = tmp_path / "t.yaml"
    assert cli.main(["discover", "--vpc-id", facts.vpc_id, "-o", str(topo)]) == 0
    # The resolver refuses: names fail fast and no packet leaves the machine.
    topo.write_text(topo.read_text() + _refusing_resolver(closed_dns_port))
    capsys.readouterr()
    rc = cli.main(
        ["check", "-t", str(topo), "--format", "json", "--subnet-id", facts.agent_subnet_id, "--log-level", "error"]
    )
    report = load_report(capsys.readouterr().out)
    assert rc == 1
    run_codes = {f["code"] for f in report["findings"] if f["endpoint"] == "*"}
    assert run_codes == {"VPC_DNS_HOSTNAMES_DISABLED"}
    sqs = next(e for e in report["endpoints"] if e["name"] == "sqs")
    assert sqs["aws"]["vpc_endpoint_id"] == facts.interfaces["sqs"].vpce_id
    assert report["agent"]["subnet_id"] == facts.agent_subnet_id

    rc = cli.main(["check", "-t", str(topo), "--format", "json", "--no-aws", "--log-level", "error"])
    report = load_report(capsys.readouterr().out)
    assert all(e.get("aws") is None for e in report["endpoints"])
    assert not any(f["code"].startswith("VPC_") for f in report["findings"])


def _refusing_resolver(port: int) -> str:
    return f"resolver:\n  nameservers: [127.0.0.1]\n  port: {port}\n  timeout_ms: 200\n"


def _stubbed(monkeypatch: pytest.MonkeyPatch, code: str, message: str, status: int) -> Stubber:
    client = clients.ec2("us-east-1")
    stub = Stubber(client)
    stub.add_client_error("describe_vpcs", service_error_code=code, service_message=message, http_status_code=status)
    stub.activate()
    monkeypatch.setattr(clients, "ec2", lambda region=None: client)
    return stub


def test_access_denied_is_a_clear_message(
    aws: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stubbed(monkeypatch, "UnauthorizedOperation", "You are not authorized to perform this operation.", 403)
    assert cli.main(["discover", "--vpc-id", "vpc-0123456789abcdef0"]) == 4  # AWS could not be read
    err = capsys.readouterr().err
    assert err.startswith("vpc-verify: error: AWS ec2:DescribeVpcs was denied (UnauthorizedOperation)")
    assert "ec2:DescribeVpcs" in err and "Traceback" not in err


def test_throttling_is_a_clear_message(
    aws: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stubbed(monkeypatch, "RequestLimitExceeded", "Request limit exceeded.", 503)
    assert cli.main(["discover", "--vpc-id", "vpc-0123456789abcdef0"]) == 4
    err = capsys.readouterr().err
    assert "throttled" in err and "RequestLimitExceeded" in err and "Traceback" not in err


def test_no_credentials_is_a_clear_message(
    aws: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    assert cli.main(["discover", "--vpc-id", "vpc-0123456789abcdef0"]) == 4
    err = capsys.readouterr().err
    assert "has no credentials" in err and "Traceback" not in err


def test_access_denied_during_check_is_a_finding(
    ec2: Any,
    seeded: SeedFacts,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    closed_dns_port: int,
) -> None:
    topo = tmp_path / "t.yaml"
    assert cli.main(["discover", "--vpc-id", seeded.vpc_id, "-o", str(topo)]) == 0
    topo.write_text(topo.read_text() + _refusing_resolver(closed_dns_port))
    _stubbed(monkeypatch, "UnauthorizedOperation", "not authorized", 403)
    capsys.readouterr()
    assert cli.main(["check", "-t", str(topo), "--format", "json", "--log-level", "error"]) == 1
    report = load_report(capsys.readouterr().out)
    api = [f for f in report["findings"] if f["code"] == "AWS_API_ERROR"]
    assert len(api) == 1 and "ec2:DescribeVpcs was denied" in api[0]["message"]
