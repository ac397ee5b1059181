"""The metric sets (issue 16, a metric budget): which datums are billed in `budget` and `full`, how the EMF lines
and the CloudWatch sink carry the rest, and what `--dry-run` counts and prices."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import pytest

from tests.publish.helpers import ok_address, synthetic_report
from vpc_verify.publish import emf
from vpc_verify.publish import sink as sinks
from vpc_verify.publish.cloudwatch import CloudWatchPublisher
from vpc_verify.publish.metrics import ENDPOINT_METRICS, RUN_METRICS, billed, from_report
from vpc_verify.publish.sink import CloudWatchSink, EmfSink
from vpc_verify.render import dry_run
from vpc_verify.report import Report

BUDGET_RUN = {"RunHealthy", "EndpointsUnhealthy", "Heartbeat"}


def _billed_names(report: Report, metrics: Any, **kw: Any) -> tuple[set[str], set[str]]:
    datums = billed(from_report(report, metrics=metrics, **kw))
    per_endpoint = {d.name for d in datums if any(k == "Endpoint" for k, _ in d.dimensions)}
    per_run = {d.name for d in datums if not d.dimensions or d.dimensions == (("VpcId", report.vpc_id),)}
    return per_endpoint, per_run


def test_budget_bills_healthy_per_endpoint_and_three_per_run() -> None:
    assert _billed_names(synthetic_report(), "budget") == ({"Healthy"}, BUDGET_RUN)
    assert _billed_names(synthetic_report(), "full") == (set(ENDPOINT_METRICS), set(RUN_METRICS))


def test_budget_is_the_default_and_keeps_every_value() -> None:
    budget, full = from_report(synthetic_report()), from_report(synthetic_report(), metrics="full")
    assert [(d.name, d.value, d.dimensions) for d in budget] == [(d.name, d.value, d.dimensions) for d in full]
    assert len(billed(budget)) == 2 + 3 and len(billed(full)) == len(full)


def test_per_address_metrics_are_billed_in_either_set() -> None:
    datums = from_report(synthetic_report(), per_address=True, metrics="budget")
    addressed = [d for d in datums if any(k == "Address" for k, _ in d.dimensions)]
    assert addressed and all(d.billed for d in addressed)


def test_emf_budget_declares_only_billed_metrics_and_keeps_the_rest_as_properties() -> None:
    objs = [json.loads(x) for x in emf.render(from_report(synthetic_report()), "VpcVerify")]
    sqs, run = objs[0], objs[-1]
    assert [m["Name"] for m in sqs["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == ["Healthy"]
    assert sqs["TlsLatency"] == 3.5 and sqs["ConnectLatency"] == 0.9 and sqs["Reachable"] == 1.0
    assert sqs["Findings"] == 0.0 and sqs["Endpoint"] == "sqs"
    assert {m["Name"] for m in run["_aws"]["CloudWatchMetrics"][0]["Metrics"]} == BUDGET_RUN
    assert run["RunDuration"] == 2012.5


def test_emf_full_declares_every_metric() -> None:
    objs = [json.loads(x) for x in emf.render(from_report(synthetic_report(), metrics="full"), "VpcVerify")]
    declared = {m["Name"] for o in objs for m in o["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert declared == set(ENDPOINT_METRICS) | set(RUN_METRICS)


def test_an_object_with_no_billed_value_is_a_plain_log_line() -> None:
    datums = [dataclasses.replace(d, billed=False) for d in from_report(synthetic_report())]
    objs = [json.loads(x) for x in emf.render(datums, "VpcVerify")]
    assert objs and all("_aws" not in o for o in objs)
    assert objs[0]["TlsLatency"] == 3.5


class _Recording:
    def __init__(self) -> None:
        self.names: list[str] = []

    def put_metric_data(self, **kwargs: Any) -> None:
        self.names.extend(m["MetricName"] for m in kwargs["MetricData"])


def test_cloudwatch_sends_only_the_billed_set_and_logs_every_value_as_properties() -> None:
    client, out = _Recording(), io.StringIO()
    publisher = CloudWatchPublisher("Test", client=client, buffer_cap=0, sleep=lambda s: None)
    outcome = sinks.publish(synthetic_report(), CloudWatchSink(publisher, EmfSink("Test", out)))
    assert outcome.ok and not outcome.fallback and outcome.datums == 5
    assert sorted(client.names) == sorted(["Healthy", "Healthy", *BUDGET_RUN])
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert lines and all("_aws" not in o for o in lines)  # no metric twice, no extra metric
    assert lines[0]["Endpoint"] == "sqs" and lines[0]["TlsLatency"] == 3.5


def test_cloudwatch_full_sends_every_metric() -> None:
    client = _Recording()
    publisher = CloudWatchPublisher("Test", client=client, buffer_cap=0, sleep=lambda s: None)
    outcome = sinks.publish(synthetic_report(), CloudWatchSink(publisher), metrics="full")
    assert outcome.ok and set(client.names) == set(ENDPOINT_METRICS) | set(RUN_METRICS)


def twenty_endpoints() -> Report:
    """docs/metrics.md's worked example: 20 interface endpoints, two ENIs each, TLS, no HTTP, `vpc.id` set."""
    base = synthetic_report().endpoints[0]
    addresses = (ok_address("10.0.1.23", "us-east-1a", 0.4, 2.0), ok_address("10.0.2.45", "us-east-1b", 0.9, 3.5))
    endpoints = tuple(dataclasses.replace(base, name=f"svc{i}", addresses=addresses) for i in range(20))
    return dataclasses.replace(synthetic_report(), endpoints=endpoints)


@pytest.mark.parametrize(
    ("metrics", "count", "usd"),
    [("budget", 23, "$6.90"), ("full", 144, "$43.20")],
)
def test_dry_run_counts_and_prices_the_chosen_set(metrics: Any, count: int, usd: str) -> None:
    text = dry_run.render(from_report(twenty_endpoints(), metrics=metrics), "VpcVerify", metrics=metrics)
    assert f"--metrics {metrics}: {count} datums in 1 PutMetricData call(s), {count} distinct metrics" in text
    assert f"billed: {count} custom metrics, about {usd} a month at $0.30 each" in text
    listed = [line.split()[0] for line in text.splitlines() if line.startswith("  ")]
    assert len(listed) == count
    if metrics == "budget":
        assert "not billed: 121 values kept as EMF properties" in text
        assert "DnsPrivate, Reachable, DnsLatency, ConnectLatency, TlsLatency, Findings, RunDuration" in text
    else:
        assert "not billed" not in text


@pytest.mark.parametrize(("argv", "expected"), [((), "budget"), (("--metrics", "full"), "full")])
def test_the_agent_and_check_take_the_set_from_the_command_line(
    tmp_path: Any, argv: tuple[str, ...], expected: str
) -> None:
    from vpc_verify.cli import build_parser
    from vpc_verify.commands.agent import config_from_args
    from vpc_verify.commands.check import sink_config

    topo = tmp_path / "t.yaml"
    topo.write_text("version: 1\nregion: us-east-1\nendpoints:\n  - {name: a, type: service, dns_names: [a.example]}\n")
    agent_args = build_parser().parse_args(["agent", "-t", str(topo), "--no-aws", *argv])
    assert config_from_args(agent_args).metrics == expected
    check_args = build_parser().parse_args(["check", "-t", str(topo), *argv])
    assert sink_config(check_args).metrics == expected
    with pytest.raises(SystemExit):
        build_parser().parse_args(["check", "-t", str(topo), "--metrics", "some"])
