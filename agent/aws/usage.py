"""What the endpoints carried: AWS/PrivateLinkEndpoints metrics over a window, read with GetMetricData in
batches for every endpoint at once. Facts only; vpc_verify.judge.usage judges them.

AWS publishes these metrics (free, one-minute) for interface and Gateway Load Balancer endpoints, never for
gateway endpoints, and only for minutes in which the endpoint received traffic: an endpoint with no datapoint
in the window carried nothing. Dimensions: Endpoint Type, Service Name, VPC Endpoint Id, VPC Id (and Subnet Id
for the per-subnet series). One GetMetricData call takes at most 500 queries and returns at most 100,800
datapoints, so the window is read hourly (336 points a query over 14 days) and only the peak hour of an
endpoint that dropped packets or received resets is read again per minute, to name the peak minute.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from vpc_verify.aws.capacity import Quota, SubnetCapacity
from vpc_verify.aws.errors import calling
from vpc_verify.aws.model import VpcEndpoint, VpcState
from vpc_verify.pricing.prices import RegionPrice

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_service_quotas import ServiceQuotasClient

NAMESPACE = "AWS/PrivateLinkEndpoints"
MAX_QUERIES = 500
MAX_DATAPOINTS = 100_800
HOUR_S, MINUTE_S = 3600, 60
# The statistic that answers each question: totals for counts and bytes, the peak for concurrent connections.
STATS = {
    "BytesProcessed": "Sum",
    "NewConnections": "Sum",
    "ActiveConnections": "Maximum",
    "PacketsDropped": "Sum",
    "RstPacketsReceived": "Sum",
}
PEAKED = ("PacketsDropped", "RstPacketsReceived")  # named with their peak minute
USD_PER_METRIC_REQUESTED = Decimal("0.00001")  # GetMetricData: $0.01 per 1,000 metrics requested
_ENDPOINT_TYPES = {"interface": "Interface", "gatewayloadbalancer": "GatewayLoadBalancer"}


@dataclass(frozen=True, slots=True)
class Window:
    """The span the metrics cover, in whole minutes."""

    start: dt.datetime
    end: dt.datetime

    @classmethod
    def last(cls, days: float, now: dt.datetime | None = None) -> Window:
        """The `days` up to the current minute."""
        end = (now or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)
        return cls(end - dt.timedelta(days=days), end)

    @property
    def hours(self) -> float:
        """Its length in hours."""
        return (self.end - self.start).total_seconds() / 3600.0

    @property
    def days(self) -> float:
        """Its length in days."""
        return self.hours / 24.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"start": _iso(self.start), "end": _iso(self.end), "days": round(self.days, 3)}


@dataclass(frozen=True, slots=True)
class Peak:
    """The highest value of a series and the minute (or hour) it fell in."""

    value: float
    at: dt.datetime
    resolution_s: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"value": self.value, "at": _iso(self.at), "resolution_s": self.resolution_s}


@dataclass(frozen=True, slots=True)
class EndpointMetrics:
    """One endpoint's window: totals, the connection peak, per-subnet bytes, and the drop/reset peaks."""

    vpc_endpoint_id: str
    totals: Mapping[str, float]  # metric -> sum over the window (ActiveConnections: the maximum)
    datapoints: int  # datapoints of every series: 0 means no minute with traffic
    bytes_by_subnet: Mapping[str, float] = field(default_factory=dict)
    peaks: Mapping[str, Peak] = field(default_factory=dict)  # PacketsDropped, RstPacketsReceived when > 0

    def total(self, metric: str) -> float:
        """A metric's total (0 when there was no datapoint)."""
        return self.totals.get(metric, 0.0)

    @property
    def idle(self) -> bool:
        """No traffic in the whole window: no datapoint at all, or zero bytes and no connection."""
        return self.datapoints == 0 or (self.total("BytesProcessed") == 0 and self.total("NewConnections") == 0)


@dataclass(frozen=True, slots=True)
class MetricsRead:
    """Every metered endpoint's window, and what reading them took."""

    window: Window
    endpoints: Mapping[str, EndpointMetrics]
    calls: int
    metrics_requested: int

    @property
    def cost_usd(self) -> Decimal:
        """What the reads cost (GetMetricData is billed per metric requested)."""
        return self.metrics_requested * USD_PER_METRIC_REQUESTED


def metered(state: VpcState) -> tuple[VpcEndpoint, ...]:
    """The endpoints AWS publishes metrics for: interface and Gateway Load Balancer endpoints."""
    return tuple(e for e in state.endpoints if e.type in _ENDPOINT_TYPES)


@dataclass(frozen=True, slots=True)
class _Query:
    id: str
    vpce: VpcEndpoint
    metric: str
    subnet_id: str | None = None


def read_metrics(cw: CloudWatchClient, state: VpcState, window: Window) -> MetricsRead:
    """The window's metrics of every metered endpoint of the VPC (blocking; raises AwsError)."""
    queries: list[_Query] = []
    for vpce in metered(state):
        for metric in STATS:
            queries.append(_Query(f"q{len(queries)}", vpce, metric))
        for subnet_id in vpce.subnet_ids:
            queries.append(_Query(f"q{len(queries)}", vpce, "BytesProcessed", subnet_id))
    calls = 0
    series: dict[str, list[tuple[dt.datetime, float]]] = {}
    for batch_calls, got in _fetch(cw, state, queries, window, HOUR_S):
        calls += batch_calls
        series.update(got)
    endpoints: dict[str, EndpointMetrics] = {}
    hourly_peaks: dict[tuple[str, str], dt.datetime] = {}
    for vpce in metered(state):
        mine = [q for q in queries if q.vpce.id == vpce.id]
        totals: dict[str, float] = {}
        points = 0
        by_subnet: dict[str, float] = {}
        for q in mine:
            values = series.get(q.id, [])
            if q.subnet_id is not None:
                by_subnet[q.subnet_id] = sum(v for _, v in values)
                continue
            points += len(values)
            stat = STATS[q.metric]
            totals[q.metric] = (
                max((v for _, v in values), default=0.0) if stat == "Maximum" else sum(v for _, v in values)
            )
            if q.metric in PEAKED and totals[q.metric] > 0:
                hourly_peaks[(vpce.id, q.metric)] = max(values, key=lambda tv: tv[1])[0]
        endpoints[vpce.id] = EndpointMetrics(vpce.id, totals, points, by_subnet)
    peaks, more_calls, more_metrics = _peak_minutes(cw, state, hourly_peaks, window)
    for vpce_id, found in peaks.items():
        m = endpoints[vpce_id]
        endpoints[vpce_id] = EndpointMetrics(m.vpc_endpoint_id, m.totals, m.datapoints, m.bytes_by_subnet, found)
    return MetricsRead(window, endpoints, calls + more_calls, len(queries) + more_metrics)


def _peak_minutes(
    cw: CloudWatchClient, state: VpcState, hourly: Mapping[tuple[str, str], dt.datetime], window: Window
) -> tuple[dict[str, dict[str, Peak]], int, int]:
    """For each (endpoint, metric) with a peak hour, the peak minute within that hour (one read per hour)."""
    by_vpce = {e.id: e for e in metered(state)}
    out: dict[str, dict[str, Peak]] = {}
    calls = metrics = 0
    for hour in sorted(set(hourly.values())):
        wanted = [(vpce_id, metric) for (vpce_id, metric), at in hourly.items() if at == hour]
        queries = [_Query(f"m{i}", by_vpce[v], metric) for i, (v, metric) in enumerate(wanted)]
        span = Window(max(hour, window.start), min(hour + dt.timedelta(seconds=HOUR_S), window.end))
        for batch_calls, got in _fetch(cw, state, queries, span, MINUTE_S):
            calls += batch_calls
            for q in queries:
                values = got.get(q.id) or []
                if values:
                    at, value = max(values, key=lambda tv: tv[1])
                    out.setdefault(q.vpce.id, {})[q.metric] = Peak(value, at, MINUTE_S)
        metrics += len(queries)
    for (vpce_id, metric), at in hourly.items():  # a minute read that found nothing keeps the hour
        out.setdefault(vpce_id, {}).setdefault(metric, Peak(0.0, at, HOUR_S))
    return out, calls, metrics


def _fetch(
    cw: CloudWatchClient, state: VpcState, queries: Sequence[_Query], window: Window, period_s: int
) -> Iterator[tuple[int, dict[str, list[tuple[dt.datetime, float]]]]]:
    """GetMetricData in batches that respect both per-call limits; yields (calls made, id -> points)."""
    points = max(1, int((window.end - window.start).total_seconds() // period_s) + 1)
    per_call = max(1, min(MAX_QUERIES, MAX_DATAPOINTS // points))
    for i in range(0, len(queries), per_call):
        batch = queries[i : i + per_call]
        request = [_metric_query(q, state, period_s) for q in batch]
        got: dict[str, list[tuple[dt.datetime, float]]] = {}
        calls, token = 0, None
        while True:
            kwargs: dict[str, Any] = {"MetricDataQueries": request, "StartTime": window.start, "EndTime": window.end}
            if token:
                kwargs["NextToken"] = token
            with calling("cloudwatch", "GetMetricData"):
                answer = cw.get_metric_data(**kwargs)
            calls += 1
            for result in answer.get("MetricDataResults") or []:
                stamps, values = result.get("Timestamps") or [], result.get("Values") or []
                got.setdefault(str(result.get("Id")), []).extend(
                    (_utc(t), float(v)) for t, v in zip(stamps, values, strict=False)
                )
            token = answer.get("NextToken")
            if not token:
                break
        yield calls, got


def _metric_query(q: _Query, state: VpcState, period_s: int) -> dict[str, Any]:
    metric = {
        "Namespace": NAMESPACE,
        "MetricName": q.metric,
        "Dimensions": dimensions(q.vpce, state.vpc_id, q.subnet_id),
    }
    return {
        "Id": q.id,
        "MetricStat": {"Metric": metric, "Period": period_s, "Stat": STATS[q.metric]},
        "ReturnData": True,
    }


def dimensions(vpce: VpcEndpoint, vpc_id: str, subnet_id: str | None = None) -> list[dict[str, str]]:
    """The dimensions AWS publishes an endpoint's (or one of its subnets') metrics under."""
    dims = [
        {"Name": "Endpoint Type", "Value": _ENDPOINT_TYPES.get(vpce.type, vpce.type)},
        {"Name": "Service Name", "Value": vpce.service},
        {"Name": "VPC Endpoint Id", "Value": vpce.id},
        {"Name": "VPC Id", "Value": vpc_id},
    ]
    if subnet_id is not None:
        dims.append({"Name": "Subnet Id", "Value": subnet_id})
    return dims


def _utc(t: Any) -> dt.datetime:
    if isinstance(t, dt.datetime):
        return t.astimezone(dt.UTC) if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(t)).astimezone(dt.UTC)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class UsageRead:
    """Everything read about the VPC's use: metrics, subnet capacity, the quota, the clients' AZs, the price."""

    metrics: MetricsRead
    subnets: Mapping[str, SubnetCapacity]
    quota: Quota
    client_azs: Mapping[str, int]
    price: RegionPrice | None
    min_free_addresses: int = 4


@dataclass(frozen=True, slots=True)
class UsageOptions:
    """What `usage` and `check --usage` ask for: the window, price overrides and the subnet threshold."""

    days: float = 14.0
    az_hour: Decimal | None = None
    per_gb: Decimal | None = None
    min_free_addresses: int = 4
    quotas: bool = True  # ask Service Quotas (else the documented default)


def read_usage(
    state: VpcState,
    options: UsageOptions,
    *,
    ec2: EC2Client,
    cw: CloudWatchClient,
    sq: ServiceQuotasClient | None = None,
    now: dt.datetime | None = None,
) -> UsageRead:
    """Read the VPC's metrics, its endpoint subnets' capacity, its quota and its clients (blocking)."""
    from vpc_verify.aws import capacity
    from vpc_verify.pricing.prices import price_for

    subnet_ids = sorted({s for e in state.endpoints if e.type != "gateway" for s in e.subnet_ids})
    eni_ids = {i for e in state.endpoints for i in e.eni_ids}
    return UsageRead(
        metrics=read_metrics(cw, state, Window.last(options.days, now)),
        subnets=capacity.subnet_capacity(ec2, subnet_ids),
        quota=capacity.endpoint_quota(sq if options.quotas else None),
        client_azs=capacity.client_azs(ec2, state.vpc_id, eni_ids),
        price=price_for(state.region, az_hour=options.az_hour, per_gb=options.per_gb),
        min_free_addresses=options.min_free_addresses,
    )
