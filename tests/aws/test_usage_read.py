"""Reading the metrics of many endpoints against the emulator: one batch of GetMetricData calls that respects
both per-call limits (500 queries, 100,800 datapoints), every endpoint answered, nothing invented for an
endpoint with no datapoint."""

from __future__ import annotations

from typing import Any, cast

from tests.testbed import aws_seed, emulator
from vpc_verify.aws import clients, read
from vpc_verify.aws.usage import MAX_DATAPOINTS, MAX_QUERIES, Window, read_metrics


class Recording:
    """The emulator's CloudWatch client, recording each GetMetricData request."""

    def __init__(self, cw: Any) -> None:
        self.cw = cw
        self.requests: list[dict[str, Any]] = []

    def get_metric_data(self, **kwargs: Any) -> Any:
        self.requests.append(kwargs)
        return self.cw.get_metric_data(**kwargs)


def test_many_endpoints_in_few_calls_within_the_limits(aws: emulator.Emulator) -> None:
    ec2 = clients.ec2("us-east-1")
    facts = aws_seed.seed(ec2)
    subnets = list(facts.subnets.values())
    for i in range(45):
        ec2.create_vpc_endpoint(
            VpcId=facts.vpc_id,
            ServiceName=f"com.amazonaws.vpce.us-east-1.vpce-svc-{i:017x}",
            VpcEndpointType="Interface",
            SubnetIds=subnets,
        )
    state = read.read(ec2, facts.vpc_id)
    cw = Recording(clients.cloudwatch("us-east-1"))
    window = Window.last(14)
    got = read_metrics(cast(Any, cw), state, window)

    metered = [e for e in state.endpoints if e.type == "interface"]
    assert len(metered) == 47
    assert got.metrics_requested == 47 * (5 + 2)  # five metrics and the bytes of each of two subnets
    points = int((window.end - window.start).total_seconds() // 3600) + 1
    for request in cw.requests:
        queries = request["MetricDataQueries"]
        assert len(queries) <= MAX_QUERIES and len(queries) * points <= MAX_DATAPOINTS
        assert {q["MetricStat"]["Period"] for q in queries} == {3600}
    assert len(cw.requests) == got.calls == 2  # 329 queries, 299 a call at 337 datapoints each
    assert set(got.endpoints) == {e.id for e in metered}
    assert all(m.idle and m.datapoints == 0 and not m.peaks for m in got.endpoints.values())
