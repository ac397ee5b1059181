"""The fleet report's logic on synthetic results: one line per VPC, unhealthy then silent then healthy, a stored
report's details kept, the account joined from where the report is kept; the table and the JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.schemas import load_fleet
from vpc_verify import cli
from vpc_verify.fleet.summary import Seen, account_in, from_report, summarise
from vpc_verify.reference import schemas
from vpc_verify.render import fleet as render_fleet

NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
HINT = (
    "Create it: aws ec2 create-vpc-endpoint --vpc-id vpc-0b --vpc-endpoint-type Interface --service-name "
    "com.amazonaws.us-east-1.sts --subnet-ids <one subnet per AZ> --security-group-ids <sg admitting 443> "
    "--private-dns-enabled"
)


def _report(vpc: str, *, healthy: bool, at: datetime = NOW, missing: bool = False) -> dict[str, Any]:
    endpoints = [{"name": "sqs", "healthy": True}, {"name": "sts", "healthy": healthy}]
    findings = []
    if missing:
        evidence = {"service": "com.amazonaws.us-east-1.sts", "type": "interface"}
        findings.append(
            {"code": "ENDPOINT_MISSING", "severity": "error", "endpoint": "sts", "evidence": evidence, "hint": HINT}
        )
    findings.append({"code": "TLS_SLOW", "severity": "warning", "endpoint": "sqs", "evidence": {}, "hint": ""})
    return {
        "version": 1,
        "healthy": healthy,
        "started_at": at.isoformat().replace("+00:00", "Z"),
        "region": "us-east-1",
        "vpc_id": vpc,
        "endpoints": endpoints,
        "findings": findings,
        "policy": {"class": {"name": "prod"}},
    }


def _seen(vpc: str, *, healthy: bool, at: datetime = NOW, account: str | None = None) -> Seen:
    return Seen(account=account, region="us-east-1", vpc_id=vpc, at=at, healthy=healthy, source="metrics")


def test_unhealthy_first_then_silent_then_healthy() -> None:
    fleet = summarise(
        [
            _seen("vpc-0a", healthy=True),
            _seen("vpc-0c", healthy=True, at=NOW - timedelta(hours=1)),  # nothing since: silent
            _seen("vpc-0b", healthy=False),
            _seen("vpc-0d", healthy=False, at=NOW - timedelta(minutes=2)),
        ],
        now=NOW,
        stale_s=900,
    )
    assert [(v.seen.vpc_id, v.status) for v in fleet.vpcs] == [
        ("vpc-0b", "unhealthy"),
        ("vpc-0d", "unhealthy"),
        ("vpc-0c", "silent"),
        ("vpc-0a", "healthy"),
    ]
    assert not fleet.healthy and fleet.count("silent") == 1
    assert summarise([_seen("vpc-0a", healthy=True)], now=NOW).healthy
    assert not summarise([], now=NOW).healthy  # nothing seen is not a healthy fleet


def test_a_report_gives_the_missing_endpoint_and_its_create_command() -> None:
    seen = from_report(_report("vpc-0b", healthy=False, missing=True), "s3://b/reports/111122223333/us-east-1/x.json")
    assert seen is not None
    assert (seen.account, seen.endpoints, seen.unhealthy_endpoints) == ("111122223333", 2, ("sts",))
    assert seen.codes == ("ENDPOINT_MISSING",)  # warnings are not what makes a VPC unhealthy
    (missing,) = seen.missing
    assert missing.command.startswith("aws ec2 create-vpc-endpoint --vpc-id vpc-0b --vpc-endpoint-type Interface")
    assert seen.policy_class == "prod"


def test_newer_metrics_decide_the_status_and_the_report_keeps_its_details() -> None:
    report = from_report(
        _report("vpc-0b", healthy=False, missing=True, at=NOW - timedelta(minutes=5)), "111122223333/r.json"
    )
    assert report is not None
    still = summarise([report, _seen("vpc-0b", healthy=False)], now=NOW).vpcs[0]
    assert still.status == "unhealthy" and still.seen.account == "111122223333"  # joined though metrics lack it
    assert still.seen.missing and still.seen.at == NOW and still.sources == ("111122223333/r.json", "metrics")
    fixed = summarise([report, _seen("vpc-0b", healthy=True)], now=NOW).vpcs[0]
    assert fixed.status == "healthy" and not fixed.seen.missing and not fixed.seen.codes  # the old report is past


def test_the_same_vpc_id_in_two_accounts_stays_two_vpcs() -> None:
    a = from_report(_report("vpc-0b", healthy=True), "111111111111/us-east-1/vpc-0b.json")
    b = from_report(_report("vpc-0b", healthy=False), "222222222222/us-east-1/vpc-0b.json")
    assert a is not None and b is not None
    fleet = summarise([a, b, _seen("vpc-0b", healthy=True)], now=NOW)
    assert [(v.seen.account, v.status) for v in fleet.vpcs] == [
        ("222222222222", "unhealthy"),
        (None, "healthy"),  # which account's metrics these are cannot be told: kept apart, not guessed
        ("111111111111", "healthy"),
    ]


def test_account_in_a_location() -> None:
    assert account_in("s3://b/p/123456789012/eu-west-1/vpc-1.json") == "123456789012"
    assert account_in("reports/vpc-1.json") is None


def test_the_table_and_the_json_schema() -> None:
    report = from_report(_report("vpc-0b", healthy=False, missing=True), "111122223333/us-east-1/vpc-0b.json")
    assert report is not None
    fleet = summarise([report, _seen("vpc-0a", healthy=True)], now=NOW, sources=["a source"])
    text = render_fleet.render(fleet)
    lines = text.splitlines()
    assert lines[0] == "fleet: 2 VPCs: 1 unhealthy, 0 silent, 1 healthy (silent: nothing for 900 s)"
    assert lines[1].split() == ["STATUS", "ACCOUNT", "REGION", "VPC", "UNHEALTHY", "LAST", "SEEN", "WHAT"]
    assert lines[2].split()[:5] == ["UNHEALTHY", "111122223333", "us-east-1", "vpc-0b", "1/2"]
    assert lines[2].endswith("sts  ENDPOINT_MISSING")
    assert lines[4].startswith(
        "  vpc-0b lacks sts (interface com.amazonaws.us-east-1.sts): aws ec2 create-vpc-endpoint"
    )
    jsonschema.Draft202012Validator(schemas.fleet(strict=True)).validate(fleet.to_dict())


def test_the_cli_over_report_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    for account, vpc, healthy in (("111111111111", "vpc-0a", True), ("222222222222", "vpc-0b", False)):
        folder = tmp_path / account / "us-east-1"
        folder.mkdir(parents=True)
        (folder / f"{vpc}.json").write_text(json.dumps(_report(vpc, healthy=healthy, at=now, missing=not healthy)))
    (tmp_path / "broken.json").write_text("{not json")
    assert cli.main(["fleet", "--no-metrics", "--reports", str(tmp_path), "--format", "json"]) == 1
    out = load_fleet(capsys.readouterr().out)
    assert [(v["account"], v["status"]) for v in out["vpcs"]] == [
        ("222222222222", "unhealthy"),
        ("111111111111", "healthy"),
    ]
    assert out["vpcs"][0]["missing"][0]["command"].startswith("aws ec2 create-vpc-endpoint --vpc-id vpc-0b")
    assert any(n.startswith(f"{tmp_path / 'broken.json'}: skipped:") for n in out["notes"])


def test_the_cli_refuses_what_it_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["fleet", "--no-metrics"]) == 2
    assert "--no-metrics leaves nothing to read" in capsys.readouterr().err
    assert cli.main(["fleet", "--no-metrics", "--reports", str(tmp_path / "nowhere")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["fleet", "--stale", "5"])
    assert "expected 60 to 1296000 seconds" in capsys.readouterr().err
