"""Publishing loudly: the agent's own telemetry path observed before publishing, PUBLISH_FAILED after a failed
publish, the CLI's exit code 4, the Lambda's `published` field, and the Heartbeat every run."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.publish.helpers import dead_url, synthetic_report
from tests.schemas import load_report
from tests.testbed.cli import run_cli
from tests.testbed.emulator import Emulator
from vpc_verify import judge, publishing
from vpc_verify.checks.tcp import TcpResult, TcpStatus
from vpc_verify.checks.tls import TlsResult, TlsStatus
from vpc_verify.findings import Code
from vpc_verify.judge.facts import Published, PublishFacts
from vpc_verify.observe import telemetry
from vpc_verify.observe.telemetry import Target, TelemetryPath
from vpc_verify.publish import sink as sinks
from vpc_verify.publish.config import SinkConfig
from vpc_verify.publish.metrics import from_report
from vpc_verify.topology import Resolver

ROOT = Path(__file__).resolve().parents[2]
HEALTHY = "version: 1\nregion: us-east-1\nallow_empty: true\nendpoints: []\n"


def path(answers: tuple[str, ...], tcp: TcpStatus = TcpStatus.OK, tls: TlsStatus | None = None) -> TelemetryPath:
    """A monitoring endpoint's path: what it resolved to, how the connect (and handshake) went."""
    connect = TcpResult(answers[0], 443, tcp, 1.0, "" if tcp is TcpStatus.OK else "timed out") if answers else None
    handshake = TlsResult(tls, error="" if tls is TlsStatus.OK else "bad") if tls else None
    return TelemetryPath(
        service="monitoring",
        url="https://monitoring.us-east-1.amazonaws.com",
        host="monitoring.us-east-1.amazonaws.com",
        answers=answers,
        dns_status="ok" if answers else "nxdomain",
        private=answers[0].startswith("10.") if answers else None,
        connect=connect,
        tls=handshake,
        error="" if answers else "nxdomain",
    )


@pytest.mark.unit
def test_the_paths_judged() -> None:
    cases = {
        "private and answering": (path(("10.0.1.5",), tls=TlsStatus.OK), []),
        "public, through a NAT": (path(("52.94.0.1",), tls=TlsStatus.OK), [Code.TELEMETRY_PATH_PUBLIC]),
        "not resolving": (path(()), [Code.TELEMETRY_PATH_BROKEN]),
        "not answering": (path(("10.0.1.5",), TcpStatus.TIMEOUT), [Code.TELEMETRY_PATH_BROKEN]),
        "a failed handshake": (path(("10.0.1.5",), tls=TlsStatus.UNTRUSTED), [Code.TELEMETRY_PATH_BROKEN]),
    }
    for name, (p, expected) in cases.items():
        report = judge.published(synthetic_report(), PublishFacts(paths=(p,)))
        added = [f for f in report.run_findings if f.code.value.startswith("TELEMETRY")]
        assert [f.code for f in added] == expected, name
        assert all(not f.is_error for f in added)  # the monitor's own path: warnings, the VPC's health stands


@pytest.mark.unit
def test_a_failed_publish_is_a_finding_with_what_went_out() -> None:
    failed = Published("cloudwatch", ok=False, datums=9, sent=0, failed=9, emf_lines=2, error="connection: refused")
    report = judge.published(synthetic_report(), PublishFacts(published=failed))
    (finding,) = [f for f in report.run_findings if f.code is Code.PUBLISH_FAILED]
    assert "9 metric datums (cloudwatch) failed: connection: refused" in finding.message
    assert "2 EMF lines" in finding.message and finding.evidence["fallback_emf_lines"] == 2
    assert judge.published(synthetic_report(), PublishFacts(published=Published("emf", ok=True))).run_findings == ()


@pytest.mark.unit
def test_every_run_publishes_a_heartbeat() -> None:
    report = synthetic_report()
    (beat,) = [d for d in from_report(report) if d.name == "Heartbeat"]
    assert beat.value == 1.0 and dict(beat.dimensions) == {"VpcId": "vpc-0123456789abcdef0"}


@pytest.mark.unit
def test_which_endpoints_a_sink_depends_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    cloudwatch, emf = SinkConfig("cloudwatch"), SinkConfig("emf")
    assert publishing.targets(cloudwatch, "eu-west-1", "cli") == (
        Target("monitoring", "https://monitoring.eu-west-1.amazonaws.com"),
    )
    assert publishing.targets(emf, "eu-west-1", "agent") == (Target("logs", "https://logs.eu-west-1.amazonaws.com"),)
    assert publishing.targets(emf, "eu-west-1", "lambda") == ()  # Lambda carries its logs outside the VPC
    assert publishing.targets(SinkConfig("none"), "eu-west-1", "cli") == ()
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:4566")
    assert publishing.targets(cloudwatch, "eu-west-1", "cli")[0].url == "http://127.0.0.1:4566"


@pytest.mark.unit
def test_observing_a_path_to_an_address(moto_server: Emulator) -> None:
    import asyncio

    up = Target("monitoring", moto_server.url)
    with dead_url() as url:
        seen_up, seen_down = asyncio.run(telemetry.observe((up, Target("monitoring", url)), Resolver(), ()))
    assert seen_up.dns_status == telemetry.LITERAL and seen_up.answered and seen_up.private is True
    assert not seen_down.answered and seen_down.connect is not None
    assert seen_down.connect.status is TcpStatus.REFUSED


@pytest.mark.unit
def test_publishing_through_a_cut_path_keeps_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    report = synthetic_report()
    config = SinkConfig("cloudwatch", buffer_cap=0)
    with dead_url() as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        publication = publishing.publish(report, sinks.make(config, region="us-east-1"), config, resolver=Resolver())
    assert publication.failed and publication.outcome.error
    codes = {f.code for f in publication.report.run_findings}
    assert codes == {Code.TELEMETRY_PATH_BROKEN, Code.PUBLISH_FAILED}
    assert publication.report.endpoints == report.endpoints and publication.report.healthy == report.healthy


def _check(tmp_path: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    topo = tmp_path / "t.yaml"
    topo.write_text(HEALTHY)
    return run_cli("check", "-t", str(topo), "--log-level", "error", *extra, env=env, cwd=ROOT)


def test_a_healthy_run_that_cannot_publish_exits_4_and_says_so(tmp_path: Path) -> None:
    with dead_url() as url:
        proc = _check(tmp_path, {"AWS_ENDPOINT_URL": url}, "--publish", "cloudwatch", "--format", "json")
    assert proc.returncode == 4, proc.stderr
    assert "vpc-verify: error: publishing metrics (cloudwatch) failed" in proc.stderr
    report = load_report(proc.stdout)  # the report stands, with what publishing found
    assert report["healthy"] is True
    assert {f["code"] for f in report["findings"]} == {"TELEMETRY_PATH_BROKEN", "PUBLISH_FAILED"}


def test_a_healthy_run_that_publishes_exits_0(aws: Emulator, tmp_path: Path) -> None:
    proc = _check(tmp_path, aws.env(), "--publish", "cloudwatch", "--namespace", "Beat", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert load_report(proc.stdout)["findings"] == []
    import boto3

    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    data = boto3.client("cloudwatch").get_metric_statistics(
        Namespace="Beat",
        MetricName="Heartbeat",
        StartTime=since,
        EndTime=since + dt.timedelta(minutes=20),
        Period=60,
        Statistics=["SampleCount"],
    )
    assert sum(p["SampleCount"] for p in data["Datapoints"]) == 1


def test_the_lambda_says_it_could_not_publish(tmp_path: Path) -> None:
    (tmp_path / "topology.yaml").write_text(HEALTHY)
    code = "import json; from vpc_verify.lambda_entry import handle; print(json.dumps(handle({})))"
    with dead_url() as url:
        env = {
            **os.environ,
            "LAMBDA_TASK_ROOT": str(tmp_path),
            "VPC_VERIFY_PUBLISH": "cloudwatch",
            "AWS_ENDPOINT_URL": url,
        }
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"] is True and result["healthy"] is True and result["published"] is False
    assert result["publish"]["fallback"] is True  # the metrics went out as EMF lines instead
    assert set(result["run_findings"]) == {"PUBLISH_FAILED", "TELEMETRY_PATH_BROKEN"}
