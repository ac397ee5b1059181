"""`check --publish/--dry-run/--junit/--output`: metrics reach the emulator; a publishing failure loses nothing."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.publish.helpers import dead_url
from tests.schemas import load_report
from tests.testbed.cli import run_cli
from tests.testbed.emulator import Emulator

pytestmark = pytest.mark.e2e
TOPOLOGY = (
    "version: 1\nregion: us-east-1\nresolver: {nameservers: [127.0.0.1], port: 1, timeout_ms: 200}\n"
    "endpoints:\n  - {name: billing, type: service, dns_names: [billing.example.com]}\n"
)


def _check(tmp_path: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    topo = tmp_path / "t.yaml"
    topo.write_text(TOPOLOGY)
    return run_cli("check", "-t", str(topo), "--log-level", "error", *extra, env=env)


def test_publish_cloudwatch_reaches_the_emulator(aws: Emulator, tmp_path: Path) -> None:
    proc = _check(tmp_path, aws.env(), "--publish", "cloudwatch", "--namespace", "Cli", "--metrics", "full")
    assert proc.returncode == 1, proc.stderr
    import boto3

    names = {m["MetricName"] for m in boto3.client("cloudwatch").list_metrics(Namespace="Cli")["Metrics"]}
    assert {
        "Healthy",
        "DnsPrivate",
        "Reachable",
        "Findings",
        "RunHealthy",
        "EndpointsUnhealthy",
        "RunDuration",
        "Heartbeat",
    } <= names


def test_the_budget_default_publishes_only_the_budget_set(aws: Emulator, tmp_path: Path) -> None:
    proc = _check(tmp_path, aws.env(), "--publish", "cloudwatch", "--namespace", "Budget")
    assert proc.returncode == 1, proc.stderr
    import boto3

    listed = boto3.client("cloudwatch").list_metrics(Namespace="Budget")["Metrics"]
    metrics = {(m["MetricName"], tuple(sorted(d["Name"] for d in m["Dimensions"]))) for m in listed}
    assert metrics == {
        ("Healthy", ("Endpoint",)),
        ("RunHealthy", ()),
        ("EndpointsUnhealthy", ()),
        ("Heartbeat", ()),
    }


def test_publish_failure_keeps_the_result_and_exit_code(tmp_path: Path) -> None:
    with dead_url() as url:
        proc = _check(
            tmp_path,
            {"AWS_ENDPOINT_URL": url, "AWS_EC2_METADATA_DISABLED": "true"},
            "--publish",
            "cloudwatch",
            "--junit",
            str(tmp_path / "j.xml"),
            "--output",
            str(tmp_path / "r.json"),
        )
    assert proc.returncode == 1
    assert "FAIL billing" in proc.stdout and "DNS_TIMEOUT" in proc.stdout
    assert "publishing metrics (cloudwatch) failed" in proc.stderr
    assert load_report((tmp_path / "r.json").read_text())["healthy"] is False
    assert ET.parse(tmp_path / "j.xml").getroot().find("testsuite") is not None


def test_dry_run_shows_datums_count_and_calls(tmp_path: Path) -> None:
    with dead_url() as url:
        proc = _check(tmp_path, {"AWS_ENDPOINT_URL": url}, "--dry-run", "--publish", "cloudwatch")
    assert "dry run: namespace VpcVerify, --metrics budget: 4 datums in 1 PutMetricData call(s)" in proc.stdout
    assert "billed: 4 custom metrics, about $1.20 a month at $0.30 each" in proc.stdout  # issue 16
    assert "not billed: 4 values kept as EMF properties" in proc.stdout  # DnsPrivate, Reachable, Findings, RunDuration
    assert "Healthy" in proc.stdout and "Endpoint=billing" in proc.stdout
    with dead_url() as url:
        proc = _check(tmp_path, {"AWS_ENDPOINT_URL": url}, "--dry-run", "--metrics", "full")
    assert "dry run: namespace VpcVerify, --metrics full: 8 datums in 1 PutMetricData call(s)" in proc.stdout
    assert "billed: 8 custom metrics, about $2.40 a month at $0.30 each" in proc.stdout
    proc = _check(tmp_path, {}, "--dry-run", "--format", "json")
    load_report(proc.stdout)  # stdout stays one JSON report; the dry run goes to stderr
    assert "dry run" in proc.stderr


def test_emf_lines(tmp_path: Path) -> None:
    proc = _check(tmp_path, {}, "--publish", "emf", "--format", "json")
    load_report(proc.stdout)
    lines = [json.loads(x) for x in proc.stderr.splitlines() if x.startswith('{"_aws"')]
    assert len(lines) == 2 and lines[0]["Endpoint"] == "billing"
