"""The usage rules on hand-made facts: idle, drops and resets with their peak, cross-AZ placement, a gateway
endpoint instead of an S3 interface endpoint, subnets short of addresses, the quota, an unread usage."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from tests.judge.builders import NOW, REGION, VPC_ID, aws, state, topology, vpce
from vpc_verify import judge
from vpc_verify.aws.capacity import Quota, SubnetCapacity
from vpc_verify.aws.control_plane import AwsFacts
from vpc_verify.aws.usage import EndpointMetrics, MetricsRead, Peak, UsageRead, Window
from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import RunFacts
from vpc_verify.judge.rules import USAGE_RULES
from vpc_verify.pricing import prices

WINDOW = Window(NOW - dt.timedelta(days=14), NOW)
GIB = 2**30
QUOTA = Quota(50, "service-quotas")
PRICE = dataclasses.replace(prices.PRICES["us-east-1"], region=REGION)


def busy(vpce_id: str = "vpce-0aaa", **totals: float) -> EndpointMetrics:
    base = {"BytesProcessed": 16.8 * GIB, "NewConnections": 100.0, "ActiveConnections": 3.0}
    return EndpointMetrics(vpce_id, {**base, **totals}, datapoints=200)


def usage_facts(
    metrics: Mapping[str, EndpointMetrics],
    *,
    price: prices.RegionPrice | None = PRICE,
    clients: Mapping[str, int] | None = None,
    subnets: Mapping[str, SubnetCapacity] | None = None,
    quota: Quota = QUOTA,
    aws_facts: AwsFacts | None = None,
) -> RunFacts:
    read = UsageRead(
        metrics=MetricsRead(WINDOW, dict(metrics), calls=1, metrics_requested=7),
        subnets=dict(subnets or {}),
        quota=quota,
        client_azs=dict(clients if clients is not None else {f"{REGION}a": 3, f"{REGION}b": 2}),
        price=price,
    )
    base = aws_facts or aws()
    return RunFacts(topology=topology(), aws=dataclasses.replace(base, usage=read), partial=True)


def judged(facts: RunFacts) -> list[Finding]:
    """Every usage rule, checking that each makes only the codes it declares."""
    out: list[Finding] = []
    for rule in USAGE_RULES:
        made = list(rule.judge(facts))
        assert {f.code for f in made} <= set(rule.codes), rule.name
        out += made
    assert [f.code for f in out] == [f.code for f in judge.usage_findings(facts)]
    return out


def only(findings: list[Finding], code: Code) -> Finding:
    found = [f for f in findings if f.code is code]
    assert len(found) == 1, [f.code for f in findings]
    return found[0]


def test_nothing_without_a_usage_read() -> None:
    assert judged(RunFacts(topology=topology(), aws=aws())) == []
    assert judged(RunFacts(topology=topology(), aws=None)) == []


def test_a_busy_well_placed_endpoint_says_nothing() -> None:
    assert judged(usage_facts({"vpce-0aaa": busy()})) == []


def test_idle_names_the_saving_and_its_source() -> None:
    idle = only(judged(usage_facts({"vpce-0aaa": EndpointMetrics("vpce-0aaa", {}, 0)})), Code.ENDPOINT_IDLE)
    assert idle.endpoint == "sqs"  # the topology's name
    assert idle.evidence["monthly_saving_usd"] == 14.6 and "$14.60 a month" in idle.message
    assert idle.evidence["price_source"] == PRICE.source and idle.evidence["window"]["days"] == 14.0
    assert "delete-vpc-endpoints --vpc-endpoint-ids vpce-0aaa" in idle.hint


def test_idle_without_a_price_names_no_figure() -> None:
    idle = only(judged(usage_facts({"vpce-0aaa": EndpointMetrics("vpce-0aaa", {}, 0)}, price=None)), Code.ENDPOINT_IDLE)
    assert idle.evidence["monthly_saving_usd"] is None and "$" not in idle.message


def test_drops_and_resets_with_their_peaks() -> None:
    at = dt.datetime(2026, 11, 20, 14, 7, tzinfo=dt.UTC)
    m = dataclasses.replace(
        busy(PacketsDropped=52.0, RstPacketsReceived=4.0),
        peaks={"PacketsDropped": Peak(37.0, at, 60), "RstPacketsReceived": Peak(4.0, at.replace(minute=0), 3600)},
    )
    found = judged(usage_facts({"vpce-0aaa": m}))
    drops = only(found, Code.ENDPOINT_PACKETS_DROPPED)
    assert "dropped 52 packets" in drops.message and "minute of 2026-11-20 14:07 UTC (37)" in drops.message
    assert drops.evidence["peak"] == {"value": 37.0, "at": "2026-11-20T14:07:00Z", "resolution_s": 60}
    resets = only(found, Code.ENDPOINT_RESETS_RECEIVED)
    assert "hour of 2026-11-20 14:00 UTC" in resets.message  # only the hour is known


def test_cross_az_both_ways_with_the_saving() -> None:
    m = dataclasses.replace(busy(), bytes_by_subnet={"subnet-a": 10 * GIB, "subnet-b": 6.8 * GIB})
    cross = only(
        judged(usage_facts({"vpce-0aaa": m}, clients={f"{REGION}a": 4, f"{REGION}c": 2})), Code.ENDPOINT_CROSS_AZ
    )
    assert cross.evidence["azs_without_endpoint"] == [f"{REGION}c"]
    assert cross.evidence["azs_without_clients"] == [f"{REGION}b"]
    assert cross.evidence["bytes_by_az"] == {f"{REGION}a": 10 * GIB, f"{REGION}b": 6.8 * GIB}
    assert cross.evidence["monthly_saving_usd"] == 7.3 and "6.80 GB" in cross.message


def test_an_endpoint_keeps_one_az() -> None:
    cross = only(judged(usage_facts({"vpce-0aaa": busy()}, clients={f"{REGION}c": 1})), Code.ENDPOINT_CROSS_AZ)
    assert cross.evidence["monthly_saving_usd"] == 7.3  # two lonely AZs, one may go


def test_s3_interface_endpoint_where_a_gateway_would_do() -> None:
    s3i = dataclasses.replace(vpce(service=f"com.amazonaws.{REGION}.s3"), id="vpce-0s3i")
    vpc = state(endpoints=(s3i, *state().endpoints[1:]))
    found = judged(usage_facts({"vpce-0s3i": busy("vpce-0s3i")}, aws_facts=aws(vpc)))
    g = only(found, Code.ENDPOINT_GATEWAY_WOULD_DO)
    assert g.evidence["gateway_endpoint_id"] == "vpce-0gw"
    assert g.evidence["monthly_saving_usd"] == 14.97  # $14.60 + 36.5 GB x $0.01 = $14.965, half up
    assert g.evidence["gb_month"] == 36.5


def test_subnets_short_of_addresses() -> None:
    subnets = {
        "subnet-a": SubnetCapacity("subnet-a", f"{REGION}a", "10.1.1.0/28", 0, 11),
        "subnet-b": SubnetCapacity("subnet-b", f"{REGION}b", "10.1.2.0/28", 2, 11),
        "subnet-c": SubnetCapacity("subnet-c", f"{REGION}c", "10.1.3.0/24", 200, 251),
    }
    low = [
        f for f in judged(usage_facts({"vpce-0aaa": busy()}, subnets=subnets)) if f.code is Code.SUBNET_ADDRESSES_LOW
    ]
    assert [f.evidence["subnet_id"] for f in low] == ["subnet-a", "subnet-b"]
    assert "cannot hold another ENI" in low[0].message and "2 free addresses (under 4)" in low[1].message
    assert low[0].evidence["vpc_endpoint_ids"] == ["vpce-0aaa"]


def test_quota_near() -> None:
    many = tuple(dataclasses.replace(vpce(), id=f"vpce-{i:04x}") for i in range(4))
    vpc = state(endpoints=many)
    metrics = {e.id: busy(e.id) for e in many}
    assert not [
        f
        for f in judged(usage_facts(metrics, quota=Quota(6, "default"), aws_facts=aws(vpc)))
        if f.code is Code.ENDPOINT_QUOTA_NEAR
    ]
    near = only(
        judged(usage_facts(metrics, quota=Quota(5, "default", "denied"), aws_facts=aws(vpc))), Code.ENDPOINT_QUOTA_NEAR
    )
    assert near.evidence["interface_endpoints"] == 4 and near.evidence["quota_source"] == "default"
    assert "--quota-code L-29B6F2EB" in near.hint


def test_usage_unread() -> None:
    facts = RunFacts(topology=topology(), aws=dataclasses.replace(aws(), usage_error=PermissionError("denied")))
    unread = only(judged(facts), Code.USAGE_UNREAD)
    assert unread.evidence == {"vpc_id": VPC_ID, "error": "PermissionError", "detail": "denied"}
