"""Gateway Load Balancer endpoints (issue 12, item 7): a route target, never resolved or probed; matched to the
VPC's endpoint of that type, and a warning when no route table sends traffic to it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.judge.builders import aws, facts, judged, observation, report, state, vpce
from vpc_verify.aws.model import Route, RouteTable
from vpc_verify.findings import Code
from vpc_verify.topology import Endpoint, TopologyError, parse

SVC = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"
GLB = Endpoint(name="glb", type="gatewayloadbalancer", service=SVC, dns_names=(), tls=None)
VPCE = replace(vpce(service=SVC), id="vpce-0glb", type="gatewayloadbalancer", group_ids=())


def with_tables(*routes: Route) -> object:
    vpc = state(endpoints=(VPCE,))
    return aws(replace(vpc, route_tables=(*vpc.route_tables, RouteTable("rtb-inspect", False, (), routes))))


def test_a_routed_gwlb_endpoint_is_healthy_and_never_probed() -> None:
    f = facts(observation(GLB), aws=with_tables(Route("0.0.0.0/0", "vpce-0glb")))  # type: ignore[arg-type]
    assert f.aws is not None and f.aws.vpce == VPCE
    assert judged(f) == [] and f.observation.dns == ()


def test_an_unrouted_one_is_a_warning_naming_the_tables() -> None:
    out = report(facts(observation(GLB), aws=with_tables(Route("0.0.0.0/0", "vpce-0glb", "blackhole"))))  # type: ignore[arg-type]
    (f,) = out.findings
    assert f.code is Code.GWLB_ENDPOINT_UNROUTED and out.healthy
    assert f.evidence == {"vpc_endpoint_id": "vpce-0glb", "route_table_ids": ["rtb-a", "rtb-main", "rtb-inspect"]}


def test_a_missing_one_says_its_type() -> None:
    out = report(facts(observation(GLB), aws=aws(state(endpoints=()))))
    (f,) = out.findings
    assert f.code is Code.ENDPOINT_MISSING and "no gatewayloadbalancer endpoint" in f.message


def test_the_topology_refuses_what_a_route_target_cannot_have() -> None:
    doc = {"version": 1, "endpoints": [{"name": "glb", "type": "gatewayloadbalancer", "service": SVC}]}
    (e,) = parse(doc).endpoints
    assert e.route_target and e.dns_names == () and e.tls is None and e.server_name == ""
    with pytest.raises(TopologyError, match=r"endpoints\[0\]\.dns_names: .*route target"):
        parse({"version": 1, "endpoints": [{**doc["endpoints"][0], "dns_names": ["x.example"]}]})
