"""The Markdown summary: failing endpoints first with each finding and its fix, hostile text escaped."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from vpc_verify.findings import Code, Finding
from vpc_verify.render import markdown
from vpc_verify.report import AwsEndpointFacts, EndpointReport, Report

NOW = dt.datetime(2026, 11, 26, 8, 30, tzinfo=dt.UTC)


def ep(name: str, *findings: Finding, vpce: str | None = None) -> EndpointReport:
    aws = AwsEndpointFacts(vpc_id="vpc-1", vpc_endpoint_id=vpce) if vpce else None
    return EndpointReport(
        name=name,
        type="interface",
        service=f"com.amazonaws.eu-west-1.{name}",
        findings=findings,
        dns=(),
        addresses=(),
        aws=aws,
    )


def test_failing_endpoints_first_each_finding_with_its_fix() -> None:
    off = Finding.make(
        Code.PRIVATE_DNS_DISABLED,
        "sqs",
        "interface endpoint vpce-0abc has private DNS off",
        hint="aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-0abc --private-dns-enabled",
    )
    public = Finding.make(Code.DNS_PUBLIC_ADDRESS, "sqs", "answers 52.46.1.1", address="52.46.1.1")
    slow = Finding.make(
        Code.LATENCY_OVER_BUDGET, "kms", "connect+TLS 180 ms over the 100 ms budget", address="10.0.1.5"
    )
    report = Report(
        started_at=NOW,
        duration_ms=2310.0,
        endpoints=(ep("kms", slow), ep("sqs", public, off, vpce="vpce-0abc"), ep("s3")),
        region="eu-west-1",
        vpc_id="vpc-0123",
    )
    text = markdown.render(report)
    lines = text.splitlines()
    assert lines[0] == "### vpc-verify: ❌ 1 of 3 endpoints unhealthy"
    assert lines[2] == "`eu-west-1` · `vpc-0123` · 2.3 s · 2026-11-26 08:30:00 UTC"
    sqs = lines.index("#### ❌ sqs (interface, `com.amazonaws.eu-west-1.sqs`, `vpce-0abc`)")
    assert lines[sqs + 1] == "- **DNS_PUBLIC_ADDRESS** `52.46.1.1`: answers 52.46.1.1"
    assert lines[sqs + 2].startswith("  - fix: Enable private DNS on the interface endpoint")
    assert lines[sqs + 3] == "- **PRIVATE_DNS_DISABLED**: interface endpoint vpce-0abc has private DNS off"
    assert lines[sqs + 4] == "  - fix: `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-0abc --private-dns-enabled`"
    assert "✅ healthy: kms, s3" in lines
    assert "<details><summary>1 warning</summary>" in lines
    assert "- kms: **LATENCY_OVER_BUDGET** `10.0.1.5`: connect+TLS 180 ms over the 100 ms budget" in lines
    assert lines.index("#### ❌ sqs (interface, `com.amazonaws.eu-west-1.sqs`, `vpce-0abc`)") < lines.index(
        "✅ healthy: kms, s3"
    )


def test_a_healthy_report_is_one_verdict() -> None:
    text = markdown.render(Report(started_at=NOW, duration_ms=10.0, endpoints=(ep("a"), ep("b"))))
    assert text.splitlines()[0] == "### vpc-verify: ✅ all 2 endpoints healthy"
    assert "#### " not in text and "<details>" not in text


def test_text_from_the_network_cannot_inject_markdown() -> None:
    evil = Finding.make(Code.HTTP_UNEXPECTED_STATUS, "api", "body <img src=x> | [click](http://x) # `rm`\nnext")
    text = markdown.render(Report(started_at=NOW, duration_ms=1.0, endpoints=(ep("api", evil),)))
    line = next(x for x in text.splitlines() if "HTTP_UNEXPECTED_STATUS" in x)
    assert re.search(r"(?<!\\)<img", line) is None and "\\<img src=x\\>" in line
    assert "\\[click\\](http://x)" in line and "\\|" in line and "\\`rm\\`" in line
    assert "next" in line  # a newline cannot start a new block


def test_many_failing_endpoints_are_named_not_detailed() -> None:
    bad = tuple(ep(f"svc{i}", Finding.make(Code.TCP_TIMEOUT, f"svc{i}", "dropped")) for i in range(60))
    text = markdown.render(Report(started_at=NOW, duration_ms=1.0, endpoints=bad), max_endpoints=5)
    assert text.count("#### ❌") == 5
    assert "…and 55 more unhealthy: svc5, svc6," in text


def test_run_level_errors_come_first() -> None:
    denied = Finding.make(Code.AWS_API_ERROR, "*", "ec2:DescribeVpcEndpoints was denied")
    text = markdown.render(Report(started_at=NOW, duration_ms=1.0, endpoints=(ep("a"),), run_findings=(denied,)))
    assert text.splitlines()[0] == "### vpc-verify: ❌ the run itself failed"
    assert text.index("**The run**") < text.index("✅ healthy: a")


def test_check_prints_markdown_and_appends_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vpc_verify import cli

    topology = tmp_path / "topology.yaml"
    topology.write_text(
        "version: 1\nresolver: {nameservers: [127.0.0.1], port: 9, timeout_ms: 200}\n"
        "endpoints:\n  - {name: billing, type: service, dns_names: [billing.internal.example.com]}\n"
    )
    summary = tmp_path / "step_summary.md"
    summary.write_text("## Earlier step\n")
    args = ["check", "-t", str(topology), "--no-aws", "--log-level", "error", "--summary", str(summary)]
    assert cli.main([*args, "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("### vpc-verify: ❌ 1 of 1 endpoints unhealthy\n")
    assert "#### ❌ billing (service)" in out and "- **DNS_TIMEOUT**: no answer for billing.internal.example.com" in out
    # The table on stdout, the summary appended again: a step's summary file collects every command's part.
    assert cli.main(args) == 1
    assert "1 endpoints, 0 healthy, 1 unhealthy" in capsys.readouterr().out.splitlines()[0]
    text = summary.read_text()
    assert text.startswith("## Earlier step\n### vpc-verify: ❌")
    assert text.count("### vpc-verify: ❌ 1 of 1 endpoints unhealthy") == 2
