"""Every VPC's last result from the metrics the fleet publishes (docs/metrics.md), read in one Region.

In a monitoring account (CloudWatch cross-account observability: an OAM sink, a link from every source account),
ListMetrics with IncludeLinkedAccounts lists every source account's metrics and says whose each is
(OwningAccounts); GetMetricData reads them with each query's AccountId. Per VPC (dimension VpcId): RunHealthy and
EndpointsUnhealthy; per endpoint (Endpoint, VpcId): Healthy, to name the unhealthy ones. The queries go in batches
of 500 (GetMetricData's limit), so 500 VPCs of 20 endpoints cost about 22 calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from vpc_verify.fleet.summary import Seen

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

QUERIES_PER_CALL = 500
PERIOD_S = 60


@dataclass(frozen=True, slots=True)
class _Series:
    """One metric to read: whose, which VPC, which endpoint (None: the run's), which name."""

    account: str | None
    vpc_id: str
    endpoint: str | None
    name: str


def read(
    cloudwatch: CloudWatchClient, namespace: str, *, now: datetime, window_s: float, linked: bool = True
) -> list[Seen]:
    """The last RunHealthy of every VPC with a datum in the window, its unhealthy endpoints named."""
    from vpc_verify.aws.errors import calling

    series: list[_Series] = []
    for name in ("RunHealthy", "EndpointsUnhealthy", "Healthy"):
        with calling("cloudwatch", "ListMetrics"):
            series.extend(_listed(cloudwatch, namespace, name, linked))
    last = _last_values(cloudwatch, namespace, series, now=now, window_s=window_s)
    region = str(cloudwatch.meta.region_name)
    out = []
    for s in series:
        if s.name != "RunHealthy" or s not in last:
            continue
        at, value = last[s]
        count = last.get(_Series(s.account, s.vpc_id, None, "EndpointsUnhealthy"))
        endpoints = {
            e.endpoint: last[e][1]
            for e in series
            if e.name == "Healthy"
            and (e.account, e.vpc_id) == (s.account, s.vpc_id)
            and e.endpoint
            and e in last
            # only the endpoints of this run: an endpoint removed since keeps its old datums for a while
            and last[e][0] == at
        }
        out.append(
            Seen(
                account=s.account,
                region=region,
                vpc_id=s.vpc_id,
                at=at,
                healthy=value >= 1.0,
                source="metrics",
                unhealthy_endpoints=tuple(sorted(str(n) for n, v in endpoints.items() if v < 1.0)),
                endpoints_unhealthy=int(count[1]) if count is not None and count[0] == at else None,
            )
        )
    return out


def _listed(cloudwatch: CloudWatchClient, namespace: str, name: str, linked: bool) -> Iterator[_Series]:
    kwargs: dict[str, Any] = {"Namespace": namespace, "MetricName": name}
    if linked:
        kwargs["IncludeLinkedAccounts"] = True
    for page in cloudwatch.get_paginator("list_metrics").paginate(**kwargs):
        owners = page.get("OwningAccounts") or []
        for i, metric in enumerate(page.get("Metrics") or []):
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions") or []}
            if "VpcId" not in dims or set(dims) - {"VpcId", "Endpoint"}:
                continue  # a run without a VPC, or a per-address metric
            if (name == "Healthy") != ("Endpoint" in dims):
                continue
            owner = str(owners[i]) if i < len(owners) and owners[i] else None
            yield _Series(owner, str(dims["VpcId"]), dims.get("Endpoint"), name)


def _last_values(
    cloudwatch: CloudWatchClient, namespace: str, series: list[_Series], *, now: datetime, window_s: float
) -> dict[_Series, tuple[datetime, float]]:
    """Each series' latest datum in the window (1-minute periods, the newest first)."""
    from vpc_verify.aws.errors import calling

    out: dict[_Series, tuple[datetime, float]] = {}
    start, end = now - timedelta(seconds=window_s), now + timedelta(seconds=PERIOD_S)
    for first in range(0, len(series), QUERIES_PER_CALL):
        batch = series[first : first + QUERIES_PER_CALL]
        queries = [_query(f"m{i}", namespace, s) for i, s in enumerate(batch)]
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampDescending",
        }
        with calling("cloudwatch", "GetMetricData"):
            for page in cloudwatch.get_paginator("get_metric_data").paginate(**kwargs):
                for result in page.get("MetricDataResults") or []:
                    s = batch[int(str(result["Id"])[1:])]
                    for at, value in zip(result.get("Timestamps") or [], result.get("Values") or [], strict=False):
                        if s not in out or at > out[s][0]:
                            out[s] = (at, float(value))
    return out


def _query(qid: str, namespace: str, s: _Series) -> dict[str, Any]:
    dims = [{"Name": "VpcId", "Value": s.vpc_id}]
    if s.endpoint is not None:
        dims.insert(0, {"Name": "Endpoint", "Value": s.endpoint})
    query: dict[str, Any] = {
        "Id": qid,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": s.name, "Dimensions": dims},
            "Period": PERIOD_S,
            # A minute with one failed run (of two) reads as failed; a count as its largest.
            "Stat": "Maximum" if s.name == "EndpointsUnhealthy" else "Minimum",
        },
        "ReturnData": True,
    }
    if s.account:
        query["AccountId"] = s.account
    return query
