"""The CodePipeline Lambda invoke action against a stand-in for CodePipeline's JSON protocol (moto has no
PutJobSuccessResult/PutJobFailureResult): the results reported, their size limits, the continuation of a wait
across invocations, configuration errors, retries, and the artifact credentials never written to the log."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.gate.events import LOG_GROUP, LOG_STREAM, SECRET, FakeContext, pipeline_event
from tests.gate.standins import CodePipelineApi
from tests.gate.test_cfn_resource import dead_topology, healthy_box
from vpc_verify.shells import pipeline_action

Factory = Callable[[dict[str, Any]], Any]


def params(**props: Any) -> str:
    return json.dumps(props)


@pytest.mark.netns
def test_a_healthy_vpc_reports_success_with_output_variables(
    testbed_factory: Factory, codepipeline: CodePipelineApi
) -> None:
    box = healthy_box(testbed_factory)
    event = pipeline_event(params(Topology=box.topology(), WaitSeconds=20, IntervalSeconds=1))
    result = pipeline_action.handle(event, FakeContext(60, request_id="req-ok"))
    assert result["reported"] and result["verdict"] == "SUCCESS"
    ((operation, request),) = codepipeline.results()
    assert operation == "PutJobSuccessResult"
    assert request["jobId"] == event["CodePipeline.job"]["id"]
    details = request["executionDetails"]
    assert details["summary"].startswith("vpc-verify: all 2 endpoints healthy (1 run in ")
    assert details["summary"].endswith(f"Full report: CloudWatch Logs {LOG_GROUP} stream {LOG_STREAM}")
    assert details["externalExecutionId"] == "req-ok" and details["percentComplete"] == 100
    assert request["outputVariables"] == {
        "Healthy": "true",
        "Endpoints": "2",
        "Attempts": "1",
        "RunId": "req-ok",
        "Report": f"CloudWatch Logs {LOG_GROUP} stream {LOG_STREAM}",
    }
    assert "continuationToken" not in request


@pytest.mark.netns
def test_an_unhealthy_endpoint_fails_the_job_naming_it(testbed_factory: Factory, codepipeline: CodePipelineApi) -> None:
    box = healthy_box(testbed_factory, fault="drop")
    event = pipeline_event(params(Topology=box.topology(), WaitSeconds=2, IntervalSeconds=1))
    pipeline_action.handle(event, FakeContext(60, request_id="req-bad"))
    ((operation, request),) = codepipeline.results()
    assert operation == "PutJobFailureResult"
    failure = request["failureDetails"]
    assert failure["type"] == "JobFailed" and failure["externalExecutionId"] == "req-bad"
    assert failure["message"].startswith("vpc-verify: 1 of 2 endpoints unhealthy after ")
    assert "ledger: TCP_TIMEOUT - " in failure["message"] and "billing" not in failure["message"]


def test_the_failure_message_fits_5000_characters(codepipeline: CodePipelineApi) -> None:
    event = pipeline_event(params(Topology=dead_topology(200, name="endpoint-with-a-long-name-"), WaitSeconds=0))
    pipeline_action.handle(event, FakeContext(60))
    ((operation, request),) = codepipeline.results()
    message = request["failureDetails"]["message"]
    assert operation == "PutJobFailureResult" and 4500 < len(message) <= 5000
    assert "more. Full report: CloudWatch Logs" in message


@pytest.mark.netns
def test_a_wait_longer_than_the_invocation_continues_in_the_next(
    testbed_factory: Factory, codepipeline: CodePipelineApi
) -> None:
    box = healthy_box(testbed_factory, fault="late", slow_ms=9000)
    user = params(Topology=box.topology(), WaitSeconds=120, IntervalSeconds=1)
    job_id = "6c4f0a3e-1d2b-4c5d-8e9f-0a1b2c3d4e5f"
    first = pipeline_action.handle(pipeline_event(user, job_id=job_id), FakeContext(9, request_id="req-1"))
    assert first["verdict"] == "CONTINUE", first
    ((operation, request),) = codepipeline.results()
    assert operation == "PutJobSuccessResult" and "outputVariables" not in request
    token = request["continuationToken"]
    assert json.loads(token)["run"] == "req-1" and json.loads(token)["attempts"] >= 1
    assert (
        "waiting" in request["executionDetails"]["summary"]
        and "ledger: TCP_REFUSED" in request["executionDetails"]["summary"]
    )
    assert 0 <= request["executionDetails"]["percentComplete"] < 100

    second = pipeline_action.handle(
        pipeline_event(user, token=token, job_id=job_id), FakeContext(60, request_id="req-2")
    )
    assert second["verdict"] == "SUCCESS", second
    operation, request = codepipeline.results()[-1]
    assert operation == "PutJobSuccessResult" and "continuationToken" not in request
    assert request["outputVariables"]["RunId"] == "req-1"  # the wait keeps its first invocation's id
    assert int(request["outputVariables"]["Attempts"]) > json.loads(token)["attempts"]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("{not json", "vpc-verify: bad UserParameters: UserParameters.: expected a JSON object of properties"),
        (params(Wait=5), "UserParameters.Wait: expected one of Topology, "),
        (params(Topology="version: 7\nendpoints: []"), "(TopologyError): UserParameters.Topology: version: expected 1"),
        (params(HealthyRuns=0), "UserParameters.HealthyRuns: expected a whole number from 1 to 20"),
    ],
)
def test_bad_user_parameters_are_a_configuration_error(codepipeline: CodePipelineApi, user: str, expected: str) -> None:
    pipeline_action.handle(pipeline_event(user), FakeContext(30))
    ((operation, request),) = codepipeline.results()
    assert operation == "PutJobFailureResult"
    assert request["failureDetails"]["type"] == "ConfigurationError"
    assert expected in request["failureDetails"]["message"], request["failureDetails"]["message"]


def test_reporting_is_retried_on_server_errors(codepipeline: CodePipelineApi) -> None:
    codepipeline.fail_first = 2
    result = pipeline_action.handle(pipeline_event(params(Topology=dead_topology(), WaitSeconds=0)), FakeContext(60))
    assert result["reported"] and result["verdict"] == "FAILED"
    assert [op for op, _ in codepipeline.results()] == ["PutJobFailureResult"] * 3


def test_a_job_that_cannot_be_reported_is_logged(
    codepipeline: CodePipelineApi, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = "0f1e2d3c-4b5a-4968-8776-655443322110"
    codepipeline.finished.add(job_id)  # CodePipeline already timed the job out
    event = pipeline_event(params(Topology=dead_topology(), WaitSeconds=0), job_id=job_id)
    result = pipeline_action.handle(event, FakeContext(60))
    assert result["reported"] is False and "InvalidJobStateException" in result["error"]
    logs = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    assert any(x["event"] == "pipeline_report_failed" for x in logs)


def test_the_artifact_credentials_are_never_logged(
    codepipeline: CodePipelineApi, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline_action.handle(pipeline_event(params(Topology=dead_topology(), WaitSeconds=0)), FakeContext(60))
    pipeline_action.handle(pipeline_event("{broken"), FakeContext(60))
    err = capsys.readouterr().err
    assert "pipeline_reported" in err
    assert SECRET not in err and "FwoGZXIvYXdzEXAMPLE" not in err


def test_not_a_job_is_not_answered(codepipeline: CodePipelineApi) -> None:
    assert pipeline_action.handle({"RequestType": "Create"}, FakeContext(5))["reported"] is False
    assert codepipeline.results() == []
