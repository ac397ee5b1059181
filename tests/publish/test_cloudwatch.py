"""PutMetricData: batching to the API's limits, read-back from the emulator, and publishing outages.

Outages are real HTTP failures from a proxy on 127.0.0.1 in front of the emulator (throttling, 5xx,
timeouts, resets) and a dead port; the retry pauses are recorded instead of slept, except where the test is
about time.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.publish.helpers import OutageProxy, closed_port_url, synthetic_report
from tests.testbed.emulator import Emulator
from vpc_verify.publish.cloudwatch import (
    CloudWatchPublisher,
    RetryPolicy,
    classify,
    entry_bytes,
    make_client,
    plan,
)
from vpc_verify.publish.metrics import Datum, from_report

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _datums(n: int, ts: dt.datetime = NOW) -> list[Datum]:
    return [Datum("Healthy", float(i % 2), "None", (("Endpoint", f"e{i}"), ("VpcId", "vpc-1")), ts) for i in range(n)]


class Counting:
    """A client wrapper that counts PutMetricData calls."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[int] = []

    def put_metric_data(self, **kwargs: Any) -> Any:
        self.calls.append(len(kwargs["MetricData"]))
        return self.client.put_metric_data(**kwargs)


def test_plan_2500_datums_is_3_calls() -> None:
    assert [len(b) for b in plan(_datums(2500))] == [1000, 1000, 500]
    assert plan([]) == []


def test_plan_respects_the_size_limit() -> None:
    big = [Datum("M", 1.0, "Count", tuple((f"D{j}", "v" * 250) for j in range(30)), NOW) for _ in range(1000)]
    batches = plan(big)
    assert len(batches) > 1
    assert all(sum(entry_bytes(d) for d in b) <= 1_000_000 for b in batches)
    assert sum(len(b) for b in batches) == 1000


def test_metrics_read_back_from_the_emulator(aws: Emulator) -> None:
    report = replace(synthetic_report(), started_at=NOW)
    counting = Counting(make_client("us-east-1"))
    result = CloudWatchPublisher("VpcVerify", client=counting).publish(from_report(report))
    assert result.ok and result.calls == 1 and counting.calls == [result.sent]

    import boto3

    cw = boto3.client("cloudwatch", region_name="us-east-1")
    listed = {
        (m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"]))
        for m in cw.list_metrics(Namespace="VpcVerify")["Metrics"]
    }
    vpc = ("VpcId", "vpc-0123456789abcdef0")
    assert ("Healthy", (("Endpoint", "sqs"), vpc)) in listed
    assert ("RunHealthy", (vpc,)) in listed
    assert len(listed) == result.sent

    def value(name: str, dims: list[tuple[str, str]]) -> float:
        answer = cw.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "q",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "VpcVerify",
                            "MetricName": name,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
                        },
                        "Period": 60,
                        "Stat": "Maximum",
                    },
                }
            ],
            StartTime=NOW - dt.timedelta(minutes=5),
            EndTime=NOW + dt.timedelta(minutes=5),
        )
        values = answer["MetricDataResults"][0]["Values"]
        assert len(values) == 1, (name, dims, values)
        return float(values[0])

    assert value("Healthy", [("Endpoint", "sqs"), vpc]) == 1.0
    assert value("Healthy", [("Endpoint", "kms"), vpc]) == 0.0
    assert value("Reachable", [("Endpoint", "kms"), vpc]) == 0.5
    assert value("TlsLatency", [("Endpoint", "sqs"), vpc]) == 3.5
    assert value("RunHealthy", [vpc]) == 0.0
    assert value("EndpointsUnhealthy", [vpc]) == 1.0


def test_2500_datums_take_3_calls_against_the_emulator(aws: Emulator) -> None:
    counting = Counting(make_client("us-east-1"))
    result = CloudWatchPublisher("Batch", client=counting).publish(_datums(2500))
    assert counting.calls == [1000, 1000, 500]
    assert result.sent == 2500 and result.calls == 3 and result.ok

    import boto3

    paginator = boto3.client("cloudwatch", region_name="us-east-1").get_paginator("list_metrics")
    assert sum(len(p["Metrics"]) for p in paginator.paginate(Namespace="Batch")) == 2500


@pytest.fixture
def proxy(aws: Emulator) -> Any:
    p = OutageProxy(aws.url, hold_s=1.0)
    yield p
    p.close()


def _publisher(
    url: str, *, cap: int = 100, attempts: int = 4, sleeps: list[float] | None = None, read_timeout_s: float = 5.0
) -> CloudWatchPublisher:
    client = make_client("us-east-1", endpoint_url=url, connect_timeout_s=0.5, read_timeout_s=read_timeout_s)
    record = sleeps if sleeps is not None else []
    return CloudWatchPublisher(
        "Outage",
        client=client,
        buffer_cap=cap,
        retry=RetryPolicy(attempts=attempts),
        sleep=record.append,
        rng=random.Random(7),
    )


def test_throttling_and_5xx_are_retried_with_backoff(proxy: OutageProxy) -> None:
    sleeps: list[float] = []
    pub = _publisher(proxy.url, sleeps=sleeps)
    proxy.script("throttle", "503", "500")
    result = pub.publish(_datums(10))
    assert result.ok and result.sent == 10 and result.attempts == 4
    assert proxy.seen["throttle"] == 1 and proxy.seen["503"] == 1 and proxy.seen["pass"] == 1
    assert len(sleeps) == 3 and all(0 <= s <= RetryPolicy().cap_s for s in sleeps)


def test_classification_of_real_failures(proxy: OutageProxy) -> None:
    client = make_client("us-east-1", endpoint_url=proxy.url)
    proxy.script("throttle", "503")
    kinds = []
    for _ in range(2):
        try:
            client.put_metric_data(Namespace="X", MetricData=[{"MetricName": "a", "Value": 1.0}])
        except Exception as exc:
            kinds.append(classify(exc).kind)
    assert kinds == ["throttled", "server"]


def test_timeouts_and_resets_are_retried(proxy: OutageProxy) -> None:
    pub = _publisher(proxy.url, read_timeout_s=0.3)
    proxy.script("timeout", "reset")
    result = pub.publish(_datums(5))
    assert result.ok and result.attempts == 3


def test_outage_buffers_then_publishes_later(proxy: OutageProxy) -> None:
    pub = _publisher(proxy.url, cap=100, attempts=3)
    proxy.mode = "503"
    first = pub.publish(_datums(30))
    assert not first.ok and first.sent == 0 and first.buffered == 30 and first.dropped == 0
    assert first.attempts == 3  # bounded: one call's retries, the rest kept without hammering
    proxy.mode = "pass"
    second = pub.publish(_datums(5))
    assert second.ok and second.sent == 35 and second.buffered == 0


def test_a_dead_endpoint_fills_the_buffer_drops_the_oldest_and_says_so(aws: Emulator) -> None:
    dead = _publisher(closed_port_url(), cap=20, attempts=2)
    with capture_logs() as logs:
        r1 = dead.publish(_datums(17))
        r2 = dead.publish(_datums(17))
    assert r1.buffered == 17 and r1.dropped == 0
    assert r2.buffered == 20 and r2.dropped == 14 and dead.dropped_total == 14
    dropped_lines = [e for e in logs if e["event"] == "metrics_dropped"]
    assert dropped_lines and dropped_lines[-1]["dropped"] == 14
    # The endpoint comes back: the backlog and a MetricsDropped datum go out.
    dead._client = make_client("us-east-1", endpoint_url=aws.url)
    r3 = dead.publish(_datums(1))
    assert r3.ok and r3.sent == 1 + 1 + 20

    import boto3

    cw = boto3.client("cloudwatch", region_name="us-east-1")
    answer = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "d",
                "MetricStat": {
                    "Metric": {"Namespace": "Outage", "MetricName": "MetricsDropped", "Dimensions": []},
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        # The datums carry NOW, taken when the module was imported: a long suite reaches this test minutes later.
        StartTime=NOW - dt.timedelta(minutes=5),
        EndTime=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
    )
    assert sum(answer["MetricDataResults"][0]["Values"]) == 14.0
    # Reported once: the next publish carries no MetricsDropped.
    r4 = dead.publish(_datums(1))
    assert r4.sent == 1


def test_budget_bounds_the_retries(proxy: OutageProxy) -> None:
    import time

    proxy.mode = "503"
    client = make_client("us-east-1", endpoint_url=proxy.url)
    pub = CloudWatchPublisher("Outage", client=client, buffer_cap=0, retry=RetryPolicy(attempts=10, base_s=0.2))
    t0 = time.monotonic()
    result = pub.publish(_datums(3), budget_s=1.0)
    assert time.monotonic() - t0 < 1.5
    assert not result.ok and result.dropped == 3 and len(result.unsent) == 3
