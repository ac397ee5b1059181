"""Embedded Metric Format shape: one object per dimension set, ≤100 metrics each, values at the root."""

from __future__ import annotations

import datetime as dt
import io
import json

from tests.publish.helpers import STARTED, synthetic_report
from vpc_verify.publish import emf
from vpc_verify.publish.metrics import Datum, from_report


def test_one_object_per_dimension_set_with_the_values_at_the_root() -> None:
    lines = emf.render(from_report(synthetic_report(), metrics="full"), "VpcVerify")
    objs = [json.loads(line) for line in lines]
    assert len(objs) == 3  # sqs, kms, the run
    sqs = objs[0]
    directive = sqs["_aws"]["CloudWatchMetrics"][0]
    assert sqs["_aws"]["Timestamp"] == int(STARTED.timestamp() * 1000)
    assert directive["Namespace"] == "VpcVerify"
    assert directive["Dimensions"] == [["Endpoint", "VpcId"]]
    assert sqs["Endpoint"] == "sqs" and sqs["VpcId"] == "vpc-0123456789abcdef0"
    names = [m["Name"] for m in directive["Metrics"]]
    assert sqs["Healthy"] == 1.0 and sqs["TlsLatency"] == 3.5
    assert {"Healthy", "DnsPrivate", "Reachable", "Findings"} <= set(names)
    assert all(name in sqs for name in names)
    run = objs[2]
    assert run["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["VpcId"]]
    assert run["RunHealthy"] == 0.0 and run["EndpointsUnhealthy"] == 1.0


def test_at_most_100_metrics_per_object() -> None:
    ts = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    datums = [Datum(f"M{i}", float(i), "Count", (("Endpoint", "x"),), ts) for i in range(250)]
    objs = [json.loads(line) for line in emf.render(datums, "N")]
    assert [len(o["_aws"]["CloudWatchMetrics"][0]["Metrics"]) for o in objs] == [100, 100, 50]
    assert sum(1 for o in objs for k in o if k.startswith("M")) == 250


def test_emit_writes_lines() -> None:
    out = io.StringIO()
    assert emf.emit(["{}", "{}"], out) == 2
    assert out.getvalue() == "{}\n{}\n"
