"""Custom::VpcVerify driven as CloudFormation drives it: Create/Update/Delete requests whose answers are PUT to an
HTTPS stand-in for the pre-signed S3 URL (tests/gate/standins.py), with a Lambda context whose time runs out.

What AWS documents and these hold: the answer is a JSON document of Status, Reason, PhysicalResourceId, StackId,
RequestId, LogicalResourceId (copied from the request), NoEcho and Data, at most 4096 bytes; the PUT carries an
empty content type; no answer before the timeout fails the stack operation, so every path must answer in time.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.gate.events import LOG_GROUP, LOG_STREAM, STACK_ID, FakeContext, cfn_event
from tests.gate.standins import CloudFormationApi, ResponseBucket
from vpc_verify.shells import cfn_resource, gate

Factory = Callable[[dict[str, Any]], Any]
KEYS = {"Status", "Reason", "PhysicalResourceId", "StackId", "RequestId", "LogicalResourceId", "NoEcho", "Data"}
# A resolver nobody answers: every endpoint fails with DNS_TIMEOUT within its 200 ms, no box needed.
DEAD_RESOLVER = {"nameservers": ["127.0.0.1"], "port": 9, "timeout_ms": 200}


def dead_topology(n: int = 2, name: str = "svc") -> dict[str, Any]:
    return {
        "version": 1,
        "region": "us-east-1",
        "resolver": DEAD_RESOLVER,
        "endpoints": [
            {"name": f"{name}{i}", "type": "service", "dns_names": [f"{name}{i}.internal.example.com"]}
            for i in range(n)
        ],
    }


def answer(bucket: ResponseBucket, n: int = 1) -> dict[str, Any]:
    """The one accepted answer (checking its size and content type on the way)."""
    answers = bucket.answers()
    assert len(answers) == n, [(r.method, r.headers) for r in bucket.requests]
    put = answers[-1]
    assert put.method == "PUT" and put.headers["content-type"] == ""
    assert int(put.headers["content-length"]) == len(put.body) <= 4096
    doc = put.json()
    assert set(doc) == KEYS
    return doc  # type: ignore[no-any-return]


def call(event: dict[str, Any], seconds: float, tls: ssl.SSLContext, **kw: Any) -> tuple[dict[str, Any], float]:
    context = FakeContext(seconds, request_id=kw.pop("request_id", None))
    result = cfn_resource.handle(event, context, tls=tls, **kw)
    return result, context.deadline


def healthy_box(testbed_factory: Factory, fault: str = "none", **extra: Any) -> Any:
    return testbed_factory(
        {
            "timeout_ms": 1000,
            **extra,
            "endpoints": [
                {
                    "name": "billing",
                    "type": "service",
                    "dns_name": "billing.internal.example.com",
                    "addresses": ["10.0.1.10"],
                },
                {
                    "name": "ledger",
                    "type": "service",
                    "dns_name": "ledger.internal.example.com",
                    "addresses": ["10.0.1.11"],
                    "fault": fault,
                },
            ],
        }
    )


@pytest.mark.netns
def test_create_update_delete_of_a_healthy_vpc(
    testbed_factory: Factory, bucket: ResponseBucket, tls: ssl.SSLContext
) -> None:
    box = healthy_box(testbed_factory)
    props = {"Topology": box.topology(), "WaitSeconds": 30, "IntervalSeconds": 1, "Watch": ["vpce-1", "sg-1"]}

    create = cfn_event("Create", bucket.url("create"), props)
    result, _ = call(create, 60, tls, request_id="req-create")
    doc = answer(bucket)
    assert result["answered"] and doc["Status"] == "SUCCESS", doc
    assert (doc["StackId"], doc["RequestId"], doc["LogicalResourceId"]) == (
        STACK_ID,
        create["RequestId"],
        "EndpointsVerified",
    )
    assert doc["NoEcho"] is False
    assert doc["Data"] == {
        "RunId": "req-create",
        "Healthy": "true",
        "Endpoints": "2",
        "Attempts": "1",
        "Report": f"CloudWatch Logs {LOG_GROUP} stream {LOG_STREAM}",
    }
    assert doc["Reason"].startswith("vpc-verify: all 2 endpoints healthy (1 run in ")
    physical = doc["PhysicalResourceId"]
    assert physical.startswith("vpc-verify-network-EndpointsVerified-") and len(physical.encode()) <= 1024

    # A retried Create gets the same id; an Update keeps it (CloudFormation would take another for a replacement).
    call(cfn_event("Create", bucket.url("create-again"), props), 60, tls)
    assert answer(bucket, 2)["PhysicalResourceId"] == physical
    update = cfn_event("Update", bucket.url("update"), {**props, "Watch": ["vpce-2"]}, physical=physical, old=props)
    call(update, 60, tls)
    doc = answer(bucket, 3)
    assert doc["Status"] == "SUCCESS" and doc["PhysicalResourceId"] == physical

    delete = cfn_event("Delete", bucket.url("delete"), props, physical=physical)
    start = time.monotonic()
    call(delete, 60, tls)
    doc = answer(bucket, 4)
    assert doc["Status"] == "SUCCESS" and doc["PhysicalResourceId"] == physical
    assert time.monotonic() - start < 2.0


@pytest.mark.netns
def test_an_unhealthy_endpoint_fails_the_create_naming_it_and_its_codes(
    testbed_factory: Factory, bucket: ResponseBucket, tls: ssl.SSLContext
) -> None:
    box = healthy_box(testbed_factory, fault="nxdomain")
    props = {"Topology": box.topology(), "WaitSeconds": 3, "IntervalSeconds": 1}
    call(cfn_event("Create", bucket.url(), props), 60, tls, request_id="req-bad")
    doc = answer(bucket)
    assert doc["Status"] == "FAILED"
    reason = doc["Reason"]
    assert reason.startswith("vpc-verify: 1 of 2 endpoints unhealthy after "), reason
    assert "ledger: DNS_NXDOMAIN - " in reason and "billing" not in reason
    assert reason.endswith(f"Full report: CloudWatch Logs {LOG_GROUP} stream {LOG_STREAM}")
    assert doc["Data"]["Healthy"] == "false" and doc["Data"]["RunId"] == "req-bad"


@pytest.mark.netns
def test_a_late_endpoint_converges_within_the_wait(
    testbed_factory: Factory, bucket: ResponseBucket, tls: ssl.SSLContext
) -> None:
    box = healthy_box(testbed_factory, fault="late", slow_ms=3000)
    props = {"Topology": box.topology(), "WaitSeconds": 40, "IntervalSeconds": 1, "HealthyRuns": 2}
    call(cfn_event("Create", bucket.url(), props), 60, tls)
    doc = answer(bucket)
    assert doc["Status"] == "SUCCESS", doc["Reason"]
    assert int(doc["Data"]["Attempts"]) >= 3  # refused at first, then two healthy runs in a row
    assert "2 in a row" in doc["Reason"]


def test_the_reason_fits_the_4096_bytes_however_many_endpoints_fail(
    bucket: ResponseBucket, tls: ssl.SSLContext
) -> None:
    topology = dead_topology(300, name="a-rather-long-endpoint-name-for-a-service-")
    call(cfn_event("Create", bucket.url(), {"Topology": topology, "WaitSeconds": 0}), 60, tls)
    doc = answer(bucket)
    reason = doc["Reason"]
    assert doc["Status"] == "FAILED"
    assert reason.startswith("vpc-verify: 300 of 300 endpoints unhealthy after 1 run in ")
    assert "a-rather-long-endpoint-name-for-a-service-0: DNS_TIMEOUT - " in reason
    assert " more. Full report: CloudWatch Logs " in reason
    shown = reason.count(": DNS_TIMEOUT - ")
    assert f"+{300 - shown} more" in reason
    body = bucket.answers()[0].body
    assert 3800 < len(body) <= 4096  # as full as the limit allows


def test_time_runs_out_before_the_wait_does(bucket: ResponseBucket, tls: ssl.SSLContext) -> None:
    props = {"Topology": dead_topology(), "WaitSeconds": 600, "IntervalSeconds": 1}
    _, deadline = call(cfn_event("Create", bucket.url(), props), 8, tls)
    doc = answer(bucket)
    assert bucket.answers()[0].at < deadline  # answered while the function still ran
    assert doc["Status"] == "FAILED"
    assert "svc0: DNS_TIMEOUT" in doc["Reason"] and "svc1: DNS_TIMEOUT" in doc["Reason"]
    assert "(the wait was cut to " in doc["Reason"] and " of 600 s by the timeout)" in doc["Reason"]


def test_a_check_that_hangs_is_answered_before_the_deadline(
    bucket: ResponseBucket, tls: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hang(*args: Any, **kwargs: Any) -> Any:
        time.sleep(30)

    monkeypatch.setattr(gate, "run_gate", hang)
    _, deadline = call(cfn_event("Create", bucket.url(), {"Topology": dead_topology()}), 5, tls)
    doc = answer(bucket)
    assert bucket.answers()[0].at < deadline
    assert doc["Status"] == "FAILED"
    assert doc["Reason"].startswith("vpc-verify could not check (Timeout): the check did not finish within ")
    assert f"See CloudWatch Logs {LOG_GROUP} stream {LOG_STREAM}." in doc["Reason"]


def test_an_internal_error_is_a_failed_answer(
    bucket: ResponseBucket, tls: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vpc_verify import plan

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the planner broke")

    monkeypatch.setattr(plan, "build", broken)
    call(cfn_event("Create", bucket.url(), {"Topology": dead_topology()}), 30, tls)
    doc = answer(bucket)
    assert doc["Status"] == "FAILED"
    assert "vpc-verify could not check (InternalError): RuntimeError: the planner broke" in doc["Reason"]


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"Topology": "version: 2\nendpoints: []\n"}, "(TopologyError): Properties.Topology: version: expected 1"),
        (
            {"Topology": {"version": 1, "endpoints": [{"name": "x", "type": "service"}]}},
            "endpoints[0].dns_names: expected a list of DNS names",
        ),
        ({"Topology": "{not: [yaml"}, "(TopologyError)"),
        ({"WaitSeconds": "soon"}, "bad properties: Properties.WaitSeconds: expected a number from 0 to 3600"),
        ({"Topology": "x", "TopologySsmParameter": "p"}, "TopologySsmParameter: expected one topology source at most"),
        ({"WaitSecond": 5}, "Properties.WaitSecond: expected one of Topology, "),
    ],
)
def test_a_bad_topology_or_property_fails_with_a_clear_reason(
    bucket: ResponseBucket, tls: ssl.SSLContext, props: dict[str, Any], expected: str
) -> None:
    call(cfn_event("Create", bucket.url(), props), 30, tls)
    doc = answer(bucket)
    assert doc["Status"] == "FAILED"
    assert expected in doc["Reason"], doc["Reason"]


def test_no_topology_anywhere_names_the_sources(bucket: ResponseBucket, tls: ssl.SSLContext, tmp_path: Any) -> None:
    call(cfn_event("Create", bucket.url(), {}), 30, tls, environ={"LAMBDA_TASK_ROOT": str(tmp_path)})
    doc = answer(bucket)
    assert doc["Status"] == "FAILED"
    assert "(TopologySourceError):" in doc["Reason"] and "VPC_VERIFY_TOPOLOGY_SSM" in doc["Reason"]


def test_too_little_time_left_fails_at_once(bucket: ResponseBucket, tls: ssl.SSLContext) -> None:
    _, deadline = call(cfn_event("Create", bucket.url(), {"Topology": dead_topology()}), 2.0, tls)
    doc = answer(bucket)
    assert bucket.answers()[0].at < deadline
    assert doc["Status"] == "FAILED" and "too little to check (raise the function's Timeout)" in doc["Reason"]


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_the_answer_put_is_retried(ca: Any, tls: ssl.SSLContext, mode: str) -> None:
    flaky = ResponseBucket(ca, fail_first=2, fail_mode=mode)
    flaky.start()
    try:
        result, _ = call(cfn_event("Delete", flaky.url(), {}, physical="p-1"), 30, tls)
        assert result["answered"] and result["put"]["attempts"] == 3
        assert len(flaky.requests) == 3
        assert answer(flaky)["Status"] == "SUCCESS"
    finally:
        flaky.stop()


def test_an_unreachable_response_url_gives_up_before_the_deadline(tls: ssl.SSLContext) -> None:
    event = cfn_event("Delete", "https://127.0.0.1:9/closed?X-Amz-Signature=x", {}, physical="p-1")
    start = time.monotonic()
    result, deadline = call(event, 6, tls)
    assert not result["answered"] and result["put"]["attempts"] == cfn_resource.PUT_ATTEMPTS
    assert time.monotonic() < deadline and time.monotonic() - start < 6


def test_an_update_during_a_rollback_is_not_checked(
    bucket: ResponseBucket, tls: ssl.SSLContext, cloudformation: CloudFormationApi
) -> None:
    cloudformation.status = "UPDATE_ROLLBACK_IN_PROGRESS"
    props = {"Topology": dead_topology(), "WaitSeconds": 600}
    start = time.monotonic()
    call(cfn_event("Update", bucket.url(), props, physical="vpc-verify-x", old={"Topology": "old"}), 60, tls)
    doc = answer(bucket)
    assert time.monotonic() - start < 5
    assert doc["Status"] == "SUCCESS" and doc["PhysicalResourceId"] == "vpc-verify-x"
    assert "rolling back (UPDATE_ROLLBACK_IN_PROGRESS)" in doc["Reason"] and doc["Data"]["Skipped"] == "rollback"
    (describe,) = cloudformation.requests
    assert f"StackName={STACK_ID.replace(':', '%3A').replace('/', '%2F')}" in describe.body.decode()


def test_an_update_while_updating_is_checked(
    bucket: ResponseBucket, tls: ssl.SSLContext, cloudformation: CloudFormationApi
) -> None:
    call(cfn_event("Update", bucket.url(), {"Topology": dead_topology(), "WaitSeconds": 0}, physical="p"), 60, tls)
    doc = answer(bucket)
    assert doc["Status"] == "FAILED" and "svc0: DNS_TIMEOUT" in doc["Reason"]
    assert len(cloudformation.requests) == 1


def test_requests_that_cannot_be_answered_are_logged_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    assert cfn_resource.handle({"RequestType": "Create"}, FakeContext(10))["answered"] is False
    assert cfn_resource.handle("nonsense", FakeContext(10))["answered"] is False
    refused = cfn_event("Create", "http://127.0.0.1:9/plain", {})
    assert cfn_resource.handle(refused, FakeContext(10))["error"] == "the ResponseURL is not https"
    logs = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert [x["event"] for x in logs] == [
        "cfn_request_unanswerable",
        "cfn_request_unanswerable",
        "cfn_response_url_refused",
    ]
    assert all("X-Amz-Signature" not in json.dumps(x) for x in logs)


def test_an_unknown_request_type_fails(bucket: ResponseBucket, tls: ssl.SSLContext) -> None:
    call(cfn_event("Import", bucket.url(), {}), 10, tls)
    assert answer(bucket)["Reason"] == "vpc-verify: unknown RequestType 'Import'"
