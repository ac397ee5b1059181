"""The fleet's metrics as a monitoring account sees them: ListMetrics with IncludeLinkedAccounts says whose each
metric is (OwningAccounts), and each GetMetricData query then names that account (AccountId). The emulator has no
cross-account observability, so CloudWatch's answers are given here with botocore's Stubber, in the shapes of the
CloudWatch API reference; the requests are checked as botocore would send them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from vpc_verify.fleet import metrics
from vpc_verify.fleet.summary import summarise

NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
A, B = "111111111111", "222222222222"


def _metric(name: str, vpc: str, endpoint: str | None = None) -> dict[str, Any]:
    dims = [{"Name": "Endpoint", "Value": endpoint}] if endpoint else []
    return {"Namespace": "VpcVerify", "MetricName": name, "Dimensions": [*dims, {"Name": "VpcId", "Value": vpc}]}


def test_linked_accounts_metrics_are_read_with_their_account() -> None:
    cloudwatch = boto3.client(
        "cloudwatch", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )  # never sends: every call is stubbed
    stub = Stubber(cloudwatch)
    listed = {
        "RunHealthy": ([_metric("RunHealthy", "vpc-0a"), _metric("RunHealthy", "vpc-0a")], [A, B]),
        "EndpointsUnhealthy": ([_metric("EndpointsUnhealthy", "vpc-0a")], [B]),
        "Healthy": ([_metric("Healthy", "vpc-0a", "sts"), _metric("Healthy", "vpc-0a", "sqs")], [B, B]),
    }
    for name, (found, owners) in listed.items():
        stub.add_response(
            "list_metrics",
            {"Metrics": found, "OwningAccounts": owners},
            {"Namespace": "VpcVerify", "MetricName": name, "IncludeLinkedAccounts": True},
        )
    at = NOW - timedelta(minutes=1)
    values = {0: 1.0, 1: 0.0, 2: 1.0, 3: 0.0, 4: 1.0}  # A healthy; B unhealthy, 1 endpoint (sts) down
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": [{"Id": f"m{i}", "Timestamps": [at], "Values": [v]} for i, v in values.items()]},
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampDescending"},
    )
    with stub:
        seen = metrics.read(cloudwatch, "VpcVerify", now=NOW, window_s=900)
    stub.assert_no_pending_responses()
    by_account = {s.account: s for s in seen}
    assert set(by_account) == {A, B}  # the same VPC id in two accounts: two VPCs
    assert by_account[A].healthy and by_account[A].region == "eu-west-1"
    assert not by_account[B].healthy
    assert by_account[B].unhealthy_endpoints == ("sts",) and by_account[B].endpoints_unhealthy == 1
    fleet = summarise(seen, now=NOW)
    assert [(v.seen.account, v.status) for v in fleet.vpcs] == [(B, "unhealthy"), (A, "healthy")]


def test_each_query_names_the_account_of_its_metric() -> None:
    series = metrics._Series(B, "vpc-0a", "sts", "Healthy")
    query = metrics._query("m0", "VpcVerify", series)
    assert query["AccountId"] == B and query["MetricStat"]["Stat"] == "Minimum"
    assert query["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "Endpoint", "Value": "sts"},
        {"Name": "VpcId", "Value": "vpc-0a"},
    ]
    own = metrics._query("m1", "VpcVerify", metrics._Series(None, "vpc-0a", None, "EndpointsUnhealthy"))
    assert "AccountId" not in own and own["MetricStat"]["Stat"] == "Maximum"
