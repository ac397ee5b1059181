"""`vpc-verify diagnose` with the emulator: per AZ, zonal names, evidence and next steps, text and JSON.

Outside the network-namespace testbed no packet may go to a 10.x address, so the ENI probe is replaced and
the resolver is a closed loopback port (every name fails fast; nothing leaves the machine).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.schemas import load_diagnosis
from tests.testbed import aws_seed
from vpc_verify import cli, diagnose
from vpc_verify.checks.tcp import TcpResult, TcpStatus
from vpc_verify.report import AddressProbe


@pytest.fixture
def topo_file(
    ec2: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed_dns_port: int
) -> tuple[Path, aws_seed.SeedFacts]:
    facts = aws_seed.seed(ec2, private_dns={"sqs": False})
    path = tmp_path / "t.yaml"
    assert cli.main(["discover", "--vpc-id", facts.vpc_id, "-o", str(path)]) == 0
    path.write_text(
        path.read_text() + f"resolver:\n  nameservers: [127.0.0.1]\n  port: {closed_dns_port}\n  timeout_ms: 200\n"
    )

    async def probe(endpoint: Any, address: str) -> AddressProbe:
        return AddressProbe(tcp=TcpResult(address, 443, TcpStatus.ERROR, 0.0, f"stub probe of {address}"))

    monkeypatch.setattr(diagnose, "probe_address", probe)
    return path, facts


def test_diagnose_text_names_the_endpoint_per_az_and_the_fix(
    topo_file: tuple[Path, aws_seed.SeedFacts], capsys: pytest.CaptureFixture[str]
) -> None:
    path, facts = topo_file
    sqs = facts.interfaces["sqs"]
    capsys.readouterr()
    assert cli.main(["diagnose", "-t", str(path), "sqs", "--subnet-id", facts.agent_subnet_id]) == 1
    out = capsys.readouterr().out
    assert f"endpoint  {sqs.vpce_id}" in out and "private DNS OFF" in out
    for az, name in sqs.zonal_names.items():
        assert f"{az} ({'az-local' if az == 'us-east-1a' else 'cross-az'})" in out
        assert name in out
    for address in sqs.addresses:
        assert f"stub probe of {address}" in out
    assert "PRIVATE_DNS_DISABLED" in out
    assert f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {sqs.vpce_id} --private-dns-enabled" in out
    assert "Next step" in out


def test_diagnose_json(topo_file: tuple[Path, aws_seed.SeedFacts], capsys: pytest.CaptureFixture[str]) -> None:
    path, facts = topo_file
    capsys.readouterr()
    assert cli.main(["diagnose", "-t", str(path), "kms", "--format", "json", "--subnet-id", facts.agent_subnet_id]) == 1
    doc = load_diagnosis(capsys.readouterr().out)
    kms = facts.interfaces["kms"]
    assert doc["endpoint"]["aws"]["vpc_endpoint_id"] == kms.vpce_id
    assert {z["az"]: z["address"] for z in doc["zones"]} == {az: a for a, az in kms.addresses.items()}
    assert {z["zonal_name"] for z in doc["zones"]} == set(kms.zonal_names.values())
    assert doc["next_steps"] and not doc["healthy"]


def test_diagnose_unknown_endpoint_is_a_usage_error(
    topo_file: tuple[Path, aws_seed.SeedFacts], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = topo_file
    assert cli.main(["diagnose", "-t", str(path), "nope"]) == 2
    assert "no endpoint 'nope'" in capsys.readouterr().err
