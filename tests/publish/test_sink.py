"""The sinks: the registry builds each kind, the CloudWatch sink falls back to EMF for what it could not send,
and `publish` never raises."""

from __future__ import annotations

import io
import json
from typing import Any

from tests.publish.helpers import synthetic_report
from vpc_verify.publish import sink as sinks
from vpc_verify.publish.cloudwatch import CloudWatchPublisher
from vpc_verify.publish.config import SINK_NAMES, SinkConfig
from vpc_verify.publish.sink import CloudWatchSink, EmfSink, NullSink


def test_the_registry_makes_each_kind() -> None:
    assert isinstance(sinks.make(SinkConfig("none")), NullSink)
    assert isinstance(sinks.make(SinkConfig("emf")), EmfSink)
    cw = sinks.make(SinkConfig("cloudwatch", emf_fallback=True, buffer_cap=7))
    assert isinstance(cw, CloudWatchSink) and cw.fallback is not None and cw.publisher.buffer.cap == 7
    assert set(sinks.SINKS) == set(SINK_NAMES)


def test_emf_lines_carry_every_datum() -> None:
    out = io.StringIO()
    outcome = sinks.publish(synthetic_report(), EmfSink("Test", out))
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert outcome.ok and outcome.emf_lines == len(lines) > 0
    assert {o["_aws"]["CloudWatchMetrics"][0]["Namespace"] for o in lines} == {"Test"}


def test_cloudwatch_falls_back_to_emf_for_what_it_could_not_send() -> None:
    class Dead:
        def put_metric_data(self, **kwargs: Any) -> None:
            raise ConnectionRefusedError("dead endpoint")

    out = io.StringIO()
    publisher = CloudWatchPublisher("Test", client=Dead(), buffer_cap=0, sleep=lambda s: None)
    outcome = sinks.publish(synthetic_report(), CloudWatchSink(publisher, EmfSink("Test", out)))
    assert not outcome.ok and outcome.fallback and outcome.emf_lines == len(out.getvalue().splitlines()) > 0
    assert "dead endpoint" in (outcome.error or "")


def test_publish_never_raises() -> None:
    class Exploding:
        def send(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("bug")

    outcome = sinks.publish(synthetic_report(), Exploding())
    assert not outcome.ok and "RuntimeError: bug" in (outcome.error or "")
