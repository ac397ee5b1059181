"""Pure parts of the gate: the properties (as CloudFormation stringifies them), the verdict fitted to a limit, the
wait's healthy streak."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.gate.events import stringify
from vpc_verify.findings import Code, Finding
from vpc_verify.render import verdict
from vpc_verify.report import EndpointReport, Report
from vpc_verify.shells.spec import GateSpecError, parse_spec
from vpc_verify.wait import run_until_healthy

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def endpoint(name: str, *codes: Code, message: str = "it broke") -> EndpointReport:
    findings = tuple(Finding.make(c, name, f"{message} ({c.value})") for c in codes)
    return EndpointReport(name=name, type="interface", service=None, findings=findings, dns=(), addresses=())


def report(*endpoints: EndpointReport, run: tuple[Finding, ...] = ()) -> Report:
    return Report(started_at=NOW, duration_ms=1234.0, endpoints=endpoints, run_findings=run)


def test_properties_from_cloudformation_are_read_back_from_strings() -> None:
    topology = {
        "version": 1,
        "resolver": {"nameservers": ["10.0.0.2"], "port": 53, "timeout_ms": 500},
        "endpoints": [{"name": "api", "type": "service", "dns_names": ["api.example.com"], "port": 8443}],
        "defaults": {"tls": {"verify": False}, "http": {"status": [200, 403]}, "latency_budget_ms": 12.5},
    }
    props = {"Topology": topology, "WaitSeconds": 90, "HealthyRuns": 3, "ControlPlane": False, "Only": "api, db"}
    spec = parse_spec(stringify(props), source="Properties", strings=True)
    assert spec.topology == topology
    assert (spec.wait_s, spec.healthy_runs, spec.control_plane, spec.only) == (90.0, 3, False, ("api", "db"))
    # Without `strings` (a pipeline's JSON, a direct invocation) values stay as given.
    assert parse_spec({"Topology": {"version": "1"}}).topology == {"version": "1"}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"HealthyRuns": "2.5"}, "Properties.HealthyRuns: expected a whole number from 1 to 20, got '2.5'"),
        ({"WaitSeconds": "-1"}, "Properties.WaitSeconds: expected a number from 0 to 3600, got '-1'"),
        ({"ControlPlane": "maybe"}, "Properties.ControlPlane: expected true or false, got 'maybe'"),
        ({"TopologyS3Url": "s3://bucket"}, "Properties.TopologyS3Url: expected s3://bucket/key (with a key)"),
        ({"TopologyS3Url": "https://x/y"}, "Properties.TopologyS3Url: expected s3://bucket/key, got 'https://x/y'"),
        ({"Only": ["ok", "bad name!"]}, "Properties.Only: expected endpoint names, got 'bad name!'"),
        ({"Topologies": "x"}, "Properties.Topologies: expected one of Topology, "),
        ({"Topology": "x", "TopologyS3Url": "s3://b/k"}, "TopologyS3Url: expected one topology source at most"),
    ],
)
def test_bad_properties_name_the_key_and_the_expectation(props: dict[str, Any], message: str) -> None:
    with pytest.raises(GateSpecError) as caught:
        parse_spec(props, source="Properties", strings=True)
    assert message in str(caught.value)


def test_the_unknown_key_hint_suggests_the_close_name() -> None:
    with pytest.raises(GateSpecError, match=r"did you mean WaitSeconds\?"):
        parse_spec({"WaitSecond": "3"})


def test_failing_lines_put_the_run_first_and_the_whole_endpoint_finding_on_top() -> None:
    sqs = EndpointReport(
        name="sqs",
        type="interface",
        service=None,
        findings=(
            Finding.make(Code.DNS_PUBLIC_ADDRESS, "sqs", "answers public 52.46.1.1", address="52.46.1.1"),
            Finding.make(Code.PRIVATE_DNS_DISABLED, "sqs", "vpce-1 has private DNS off"),
        ),
        dns=(),
        addresses=(),
    )
    r = report(endpoint("kms"), sqs, run=(Finding.make(Code.AWS_API_ERROR, "*", "ec2 denied"),))
    assert verdict.failing(r) == [
        "(run): AWS_API_ERROR - ec2 denied",
        "sqs: DNS_PUBLIC_ADDRESS, PRIVATE_DNS_DISABLED - vpce-1 has private DNS off",
    ]
    assert verdict.headline(r, attempts=3, waited_s=41.2, converged=False) == (
        "vpc-verify: 1 of 2 endpoints unhealthy after 3 runs in 41 s"
    )


def test_a_healthy_last_run_short_of_the_streak_says_so() -> None:
    r = report(endpoint("a"))
    line = verdict.headline(r, attempts=4, waited_s=30, converged=False, healthy_runs=3)
    assert line == (
        "vpc-verify: all 1 endpoints healthy in the last run, but not 3 runs in a row within the wait (4 runs in 30 s)"
    )


@settings(max_examples=200, deadline=None)
@given(
    head=st.text(min_size=0, max_size=300),
    items=st.lists(st.text(min_size=0, max_size=500), max_size=60),
    tail=st.text(max_size=300),
    limit=st.integers(min_value=20, max_value=5000),
)
def test_fit_never_exceeds_the_limit_measured_as_json_bytes(head: str, items: list[str], tail: str, limit: int) -> None:
    def size(text: str) -> int:
        return len(json.dumps({"Reason": text}).encode())

    text = verdict.fit(head, items, tail, limit=limit, size=size)
    assert size(text) <= limit


def test_fit_keeps_head_and_tail_and_counts_what_it_leaves_out() -> None:
    items = [f"endpoint{i}: DNS_TIMEOUT - nothing answered" for i in range(100)]
    text = verdict.fit("vpc-verify: 100 of 100 endpoints unhealthy", items, "Full report: s3://b/k", limit=500)
    assert len(text) <= 500
    assert text.startswith("vpc-verify: 100 of 100 endpoints unhealthy: endpoint0: DNS_TIMEOUT")
    assert text.endswith("more. Full report: s3://b/k")
    shown = text.count("DNS_TIMEOUT")
    assert f"+{100 - shown} more" in text


def test_the_wait_needs_healthy_runs_in_a_row() -> None:
    healthy, sick = report(endpoint("a")), report(endpoint("a", Code.TCP_REFUSED))
    runs = iter([sick, healthy, sick, healthy, healthy, healthy])
    clock = [0.0]
    result = run_until_healthy(
        lambda d: next(runs),
        100,
        run_deadline_s=10,
        interval_s=1,
        healthy_runs=2,
        clock=lambda: clock[0],
        sleep=lambda s: clock.__setitem__(0, clock[0] + s),
    )
    assert result.converged and result.attempts == 5 and result.healthy_streak == 2


def test_a_streak_carried_from_another_invocation_counts() -> None:
    healthy = report(endpoint("a"))
    result = run_until_healthy(lambda d: healthy, 0, run_deadline_s=5, healthy_runs=3, streak=2)
    assert result.converged and result.attempts == 1
    short = run_until_healthy(lambda d: healthy, 0, run_deadline_s=5, healthy_runs=3, streak=0)
    assert short.report.healthy and not short.converged
