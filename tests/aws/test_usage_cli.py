"""`vpc-verify usage` through the real CLI against the seeded emulator (tests/testbed/usage_seed.py): it names
the idle endpoint with its monthly saving, flags the dropping endpoint with its peak minute, prices the VPC to
the cent against the hand-worked figure ($74.31, tests/pricing/test_cost.py), names the subnet that cannot hold
another ENI, the cross-AZ endpoint and the S3 interface endpoint a gateway would replace."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from tests.schemas import load_usage
from tests.testbed import aws_seed, emulator, usage_seed


@pytest.fixture
def seeded(aws: emulator.Emulator) -> tuple[aws_seed.SeedFacts, usage_seed.UsageSeed, dict[str, str]]:
    from vpc_verify.aws import clients

    ec2 = clients.ec2("us-east-1")
    facts = aws_seed.seed(ec2)
    return facts, usage_seed.seed_usage(ec2, clients.cloudwatch("us-east-1"), facts), aws.env()


def usage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vpc_verify", "usage", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def by_code(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in doc["findings"]:
        out.setdefault(f["code"], []).append(f)
    return out


def test_usage_json_names_what_to_change(seeded: Any) -> None:
    facts, seed, env = seeded
    done = usage(env, "--vpc-id", facts.vpc_id, "--region", "us-east-1", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = load_usage(done.stdout)
    found = by_code(doc)

    assert doc["monthly_usd"] == float(seed.monthly_usd)  # $74.31, worked by hand
    assert (doc["fixed_usd"], doc["data_usd"]) == (73.0, 1.31)
    assert doc["window"]["days"] == 14.0

    (idle,) = found["ENDPOINT_IDLE"]
    assert idle["evidence"]["vpc_endpoint_id"] == seed.endpoints["ssm"]
    assert idle["evidence"]["monthly_saving_usd"] == 14.6 and "$14.60 a month" in idle["message"]
    assert idle["evidence"]["price_source"].startswith("https://aws.amazon.com/privatelink/pricing/")

    (dropped,) = found["ENDPOINT_PACKETS_DROPPED"]
    peak = dropped["evidence"]["peak"]
    assert dropped["evidence"]["vpc_endpoint_id"] == seed.endpoints["kms"]
    assert dropped["evidence"]["packets_dropped"] == 52
    assert (peak["value"], peak["resolution_s"]) == (seed.drop_peak, 60)
    assert peak["at"] == seed.drop_peak_at.strftime("%Y-%m-%dT%H:%M:00Z")
    assert seed.drop_peak_at.strftime("%Y-%m-%d %H:%M UTC") in dropped["message"]
    (resets,) = found["ENDPOINT_RESETS_RECEIVED"]
    assert resets["evidence"]["rst_packets_received"] == 4

    (full,) = found["SUBNET_ADDRESSES_LOW"]
    assert full["evidence"]["subnet_id"] == seed.full_subnet_id and full["evidence"]["available_addresses"] == 0
    assert "cannot hold another ENI" in full["message"]

    (cross,) = found["ENDPOINT_CROSS_AZ"]
    assert cross["evidence"]["vpc_endpoint_id"] == seed.endpoints["sts"]
    assert cross["evidence"]["azs_without_clients"] == [seed.lonely_az]
    assert cross["evidence"]["azs_without_endpoint"] == ["us-east-1b"]
    assert cross["evidence"]["monthly_saving_usd"] == 7.3

    (gateway,) = found["ENDPOINT_GATEWAY_WOULD_DO"]
    assert gateway["evidence"]["vpc_endpoint_id"] == seed.endpoints["s3i"]
    assert gateway["evidence"]["gateway_endpoint_id"] == facts.gateway.vpce_id
    assert gateway["evidence"]["monthly_saving_usd"] == 15.33  # $14.60 + 73 GB x $0.01

    s3 = next(e for e in doc["endpoints"] if e["vpc_endpoint_id"] == facts.gateway.vpce_id)
    assert s3["metrics"] is None and s3["cost"] is None and "no CloudWatch metrics" in s3["note"]
    assert doc["quota"] == {
        "quota": 50,
        "quota_source": "service-quotas",
        "quota_code": "L-29B6F2EB",
        "detail": "",
        "interface_endpoints": 5,
    }
    assert "ENDPOINT_QUOTA_NEAR" not in found
    assert doc["reads"]["get_metric_data_calls"] >= 1 and doc["reads"]["metrics_requested"] > 0


def test_usage_table_for_people(seeded: Any, tmp_path: Any) -> None:
    facts, seed, env = seeded
    topology = tmp_path / "topology.yaml"
    topology.write_text(
        f"version: 1\nregion: us-east-1\nvpc:\n  id: {facts.vpc_id}\nendpoints:\n"
        f"  - {{name: kms, type: interface, service: com.amazonaws.us-east-1.kms}}\n"
    )
    done = usage(env, "-t", str(topology), "--no-quotas")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "total $74.31 a month ($73.00 endpoint hours + $1.31 data)" in out
    assert f"ENDPOINT_IDLE {seed.endpoints['ssm']}" in out and "$14.60 a month" in out
    assert "ENDPOINT_PACKETS_DROPPED kms:" in out  # the topology's name
    assert f"{seed.full_subnet_id}  us-east-1a  10.0.4.0/28  0 free of 11" in out
    assert "quota: 5 interface endpoints of 50 (default)" in out
    assert "gateway endpoints publish no CloudWatch metrics" in out


def test_prices_given_on_the_command_line(seeded: Any) -> None:
    facts, _, env = seeded
    done = usage(env, "--vpc-id", facts.vpc_id, "--region", "us-east-1", "--price-az-hour", "0.02", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = load_usage(done.stdout)
    assert doc["price"]["source"] == "given on the command line"
    assert doc["fixed_usd"] == 146.0  # 5 endpoints x 2 AZs x 730 h x $0.02


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no VPC: pass --topology FILE"),
        (("--vpc-id", "vpc-1"), "--vpc-id: expected a VPC id"),
        (("--vpc-id", "vpc-0123456789abcdef0", "--days", "0"), "expected 0 < days"),
        (("--vpc-id", "vpc-0123456789abcdef0", "--price-gb", "cheap"), "expected a price in dollars"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(aws: emulator.Emulator, args: tuple[str, ...], message: str) -> None:
    done = usage(aws.env(), *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
