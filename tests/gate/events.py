"""Events shaped as AWS sends them, and a Lambda context whose remaining time runs down with the clock."""

from __future__ import annotations

import time
import uuid
from typing import Any

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/network/5b7e9f20-aa11-11ef-9c1e-0a1b2c3d4e5f"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:vpc-verify-gate"
LOG_GROUP = "/aws/lambda/vpc-verify-gate"
LOG_STREAM = "2026/11/26/[$LATEST]0123456789abcdef0123456789abcdef"


class FakeContext:
    """The parts of the Lambda context the shells read; the remaining time follows time.monotonic()."""

    def __init__(self, seconds: float, request_id: str | None = None) -> None:
        self.deadline = time.monotonic() + seconds
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = LOG_GROUP
        self.log_stream_name = LOG_STREAM
        self.function_name = "vpc-verify-gate"

    def get_remaining_time_in_millis(self) -> int:
        return int(max(0.0, self.deadline - time.monotonic()) * 1000)


def stringify(value: Any) -> Any:
    """What CloudFormation does to a custom resource's properties: every scalar, nested or not, becomes a string."""
    if isinstance(value, dict):
        return {k: stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cfn_event(
    kind: str,
    url: str,
    props: dict[str, Any],
    *,
    physical: str | None = None,
    old: dict[str, Any] | None = None,
    logical: str = "EndpointsVerified",
) -> dict[str, Any]:
    """A custom resource request as CloudFormation sends it to a Lambda function."""
    event: dict[str, Any] = {
        "RequestType": kind,
        "ServiceToken": FUNCTION_ARN,
        "ResponseURL": url,
        "StackId": STACK_ID,
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": logical,
        "ResourceType": "Custom::VpcVerify",
        "ResourceProperties": {"ServiceToken": FUNCTION_ARN, **stringify(props)},
    }
    if physical is not None:
        event["PhysicalResourceId"] = physical
    if old is not None:
        event["OldResourceProperties"] = {"ServiceToken": FUNCTION_ARN, **stringify(old)}
    return event


SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY-artifact"


def pipeline_event(
    user_parameters: str | None, *, token: str | None = None, job_id: str | None = None
) -> dict[str, Any]:
    """A CodePipeline Lambda invoke action's event (with the artifact credentials it always carries)."""
    data: dict[str, Any] = {
        "actionConfiguration": {"configuration": {"FunctionName": "vpc-verify-gate"}},
        "inputArtifacts": [],
        "outputArtifacts": [],
        "artifactCredentials": {
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "secretAccessKey": SECRET,
            "sessionToken": "FwoGZXIvYXdzEXAMPLE",
        },
    }
    if user_parameters is not None:
        data["actionConfiguration"]["configuration"]["UserParameters"] = user_parameters
    if token is not None:
        data["continuationToken"] = token
    return {"CodePipeline.job": {"id": job_id or str(uuid.uuid4()), "accountId": "123456789012", "data": data}}
