"""vpc_verify.lambda_entry: event validation, topology sources, deadline, structured errors, EMF fallback."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from vpc_verify import lambda_entry
from vpc_verify.lambda_entry import InvalidEvent, budgets, handle, parse_event

TOPOLOGY = (
    "version: 1\nregion: us-east-1\nresolver: {nameservers: [127.0.0.1], port: 1, timeout_ms: 200}\n"
    "endpoints:\n  - {name: a, type: service, dns_names: [a.example.com]}\n"
    "  - {name: b, type: service, dns_names: [b.example.com]}\n"
)


class Ctx:
    aws_request_id = "req-7"

    def __init__(self, ms: int = 20_000) -> None:
        self.ms = ms

    def get_remaining_time_in_millis(self) -> int:
        return self.ms


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "topology.yaml").write_text(TOPOLOGY)
    return {"LAMBDA_TASK_ROOT": str(tmp_path), "VPC_VERIFY_PUBLISH": "none"}


def test_summary_of_a_run_from_the_packaged_file(env: dict[str, str]) -> None:
    result = handle({}, Ctx(), env)
    assert result["ok"] and result["healthy"] is False and result["endpoints"] == 2
    assert result["unhealthy"] == [
        {"endpoint": "a", "codes": ["DNS_TIMEOUT"]},
        {"endpoint": "b", "codes": ["DNS_TIMEOUT"]},
    ]


def test_only_narrows_the_run(env: dict[str, str]) -> None:
    assert handle({"only": ["b"]}, Ctx(), env)["endpoints"] == 1
    assert handle({"only": "a,b"}, Ctx(), env)["endpoints"] == 2
    unknown = handle({"only": ["zzz"]}, Ctx(), env)
    assert unknown["ok"] is False and unknown["error"]["type"] == "TopologyError"


@pytest.mark.parametrize(
    "event",
    [{"targets": ["10.0.0.1"]}, {"only": 5}, {"only": [1]}, {"publish": "s3"}, [1], "x", {"topology": {"version": 1}}],
)
def test_bad_events_are_structured_errors(env: dict[str, str], event: Any) -> None:
    result = handle(event, Ctx(), env)
    assert result["ok"] is False and result["error"]["type"] == "InvalidEvent"


def test_event_topology_only_when_allowed(env: dict[str, str]) -> None:
    doc = {
        "version": 1,
        "resolver": {"nameservers": ["127.0.0.1"], "port": 1, "timeout_ms": 100},
        "endpoints": [{"name": "x", "type": "service", "dns_names": ["x.example.com"]}],
    }
    result = handle({"topology": doc}, Ctx(), {**env, "VPC_VERIFY_ALLOW_EVENT_TOPOLOGY": "true"})
    assert result["ok"] and result["endpoints"] == 1


def test_scheduled_event_envelope_runs_everything(env: dict[str, str]) -> None:
    event = {
        "version": "0",
        "id": "1",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "1",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }
    assert handle(event, Ctx(), env)["endpoints"] == 2


def test_missing_topology_is_a_structured_error(tmp_path: Path) -> None:
    result = handle({}, Ctx(), {"LAMBDA_TASK_ROOT": str(tmp_path)})
    assert result["error"]["type"] == "TopologySourceError"


@pytest.mark.parametrize("root", ["", "/var/task", "/var/task/", "//var//task", "/var/./task", "rel/root", "/a/../b"])
@pytest.mark.parametrize(
    "path",
    [
        "topology.yaml",
        "./topology.yaml",
        "conf//t.yaml",
        "/abs/t.yaml",
        "//abs/t.yaml",
        "///abs/t.yaml",
        "../up.yaml",
        "dir/",
        "/abs/./x.yaml",
        "a/../b.yaml",
        ".",
    ],
)
def test_the_packaged_file_is_named_as_pathlib_names_it(root: str, path: str) -> None:
    # Without pathlib on the way to the first packet, the file and the text naming it stay what pathlib made.
    base = Path(root or Path(lambda_entry.__file__).resolve().parent.parent)
    assert lambda_entry.packaged_path(path, root) == str(Path(path) if Path(path).is_absolute() else base / path)


def test_a_topology_path_that_is_a_folder_or_missing_is_a_structured_error(tmp_path: Path) -> None:
    (tmp_path / "topology.yaml").mkdir()
    result = handle({}, Ctx(), {"LAMBDA_TASK_ROOT": str(tmp_path)})
    assert result["error"]["type"] == "TopologySourceError"
    assert str(tmp_path / "topology.yaml") in result["error"]["message"]
    result = handle({}, Ctx(), {"LAMBDA_TASK_ROOT": str(tmp_path), "VPC_VERIFY_TOPOLOGY_FILE": "./nope//t.yaml"})
    assert str(tmp_path / "nope" / "t.yaml") in result["error"]["message"]


def test_deadline_from_the_remaining_time() -> None:
    deadline, publish = budgets(Ctx(60_000), {})
    assert publish == 5.0 and deadline == pytest.approx(52.0)
    deadline, publish = budgets(Ctx(3_000), {})
    assert deadline == 1.0 and publish == pytest.approx(0.6)


def test_context_is_cleared_per_invocation(env: dict[str, str]) -> None:
    structlog.contextvars.bind_contextvars(leaked="secret")
    handle({}, Ctx(), env)
    assert structlog.contextvars.get_contextvars() == {}


def test_cloudwatch_failure_falls_back_to_emf(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from vpc_verify.publish import cloudwatch

    class Broken:
        def put_metric_data(self, **kwargs: Any) -> None:
            raise ConnectionRefusedError("dead endpoint")

    real = cloudwatch.CloudWatchPublisher
    monkeypatch.setattr(
        cloudwatch,
        "CloudWatchPublisher",
        lambda ns, **kw: real(ns, client=Broken(), buffer_cap=0, sleep=lambda s: None),
    )
    out = io.StringIO()
    monkeypatch.setattr(lambda_entry.sys, "stdout", out)
    result = handle({}, Ctx(), {**env, "VPC_VERIFY_PUBLISH": "cloudwatch"})
    assert result["ok"] and result["publish"]["fallback"] and result["publish"]["ok"] is False
    lines = [json.loads(x) for x in out.getvalue().splitlines() if x.startswith('{"_aws"')]
    assert {o.get("Endpoint") for o in lines} == {"a", "b", None}


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4),
        max_leaves=20,
    )
)
def test_any_event_validates_or_is_rejected_cleanly(event: Any) -> None:
    with contextlib.suppress(InvalidEvent):
        parse_event(event, {})


@pytest.mark.parametrize(
    ("value", "declared"),
    [
        (None, {"Healthy", "RunHealthy", "EndpointsUnhealthy", "Heartbeat"}),
        ("budget", {"Healthy", "RunHealthy", "EndpointsUnhealthy", "Heartbeat"}),
        ("bogus", {"Healthy", "RunHealthy", "EndpointsUnhealthy", "Heartbeat"}),  # a typo must not raise the bill
        (
            "FULL",
            {
                "Healthy",
                "DnsPrivate",
                "Reachable",
                "Findings",
                "RunHealthy",
                "EndpointsUnhealthy",
                "RunDuration",
                "Heartbeat",
            },
        ),
    ],
)
def test_the_metric_set_from_vpc_verify_metrics(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, value: str | None, declared: set[str]
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(lambda_entry.sys, "stdout", out)
    extra = {"VPC_VERIFY_METRICS": value} if value is not None else {}
    result = handle({}, Ctx(), {**env, "VPC_VERIFY_PUBLISH": "emf", **extra})
    assert result["ok"], result
    objs = [json.loads(x) for x in out.getvalue().splitlines() if x.startswith('{"_aws"')]
    assert {m["Name"] for o in objs for m in o["_aws"]["CloudWatchMetrics"][0]["Metrics"]} == declared
    assert all("Reachable" in o for o in objs if "Endpoint" in o)  # a property when not a metric
