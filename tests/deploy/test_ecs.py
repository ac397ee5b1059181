"""deploy/ecs: the task definition registers with ECS (the emulator, behind botocore's own validation of every
field against the ECS API model) as a non-root, read-only, awsvpc task that logs to CloudWatch Logs; its task
role grants the read-only calls the code makes and nothing else."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from tests.testbed import emulator

# tests/lambda/test_template.py reads the calls the code makes and the Lambda role's grants (`lambda` is a
# keyword: imported by name).
_lambda_template = importlib.import_module("tests.lambda.test_template")
code_calls = _lambda_template.code_calls
policy_actions = _lambda_template.policy_actions

ROOT = Path(__file__).resolve().parents[2]
TASK = ROOT / "deploy" / "ecs" / "task-definition.json"
ROLE = ROOT / "deploy" / "ecs" / "task-role-policy.json"
DOCKERFILE = ROOT / "deploy" / "container" / "Dockerfile"


def task() -> dict[str, Any]:
    return json.loads(TASK.read_text())  # type: ignore[no-any-return]


def image_user() -> str:
    (line,) = [line for line in DOCKERFILE.read_text().splitlines() if line.startswith("USER ")]
    return line.split()[1]


def test_the_task_definition_registers_with_ecs(aws: emulator.Emulator) -> None:
    import boto3

    ecs = boto3.client("ecs", region_name="us-east-1")
    registered = ecs.register_task_definition(**task())["taskDefinition"]
    assert registered["family"] == "vpc-verify" and registered["revision"] == 1
    described = ecs.describe_task_definition(taskDefinition="vpc-verify:1")["taskDefinition"]
    (container,) = described["containerDefinitions"]
    assert described["networkMode"] == "awsvpc"
    assert container["user"] == image_user()  # the image's uid, stated again so ECS never runs it as root
    assert container["readonlyRootFilesystem"] is True
    assert {m["containerPath"] for m in container["mountPoints"]} == {"/tmp"}  # the one writable place
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    assert container["command"][0] == "check"


def test_the_task_definition_is_what_the_guide_says() -> None:
    doc = task()
    (container,) = doc["containerDefinitions"]
    env = {e["name"]: e["value"] for e in container["environment"]}
    # The task's credentials come from the task role (the ECS agent's endpoint), never the instance's role:
    # boto3 must not fall back to instance metadata (docs/guides/containers.md).
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
    assert "privileged" not in container
    assert doc["taskRoleArn"] != doc["executionRoleArn"]
    assert not any(k in json.dumps(doc) for k in ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"))


def test_the_task_role_grants_the_read_only_calls_the_code_makes() -> None:
    statements = {s["Sid"]: s for s in json.loads(ROLE.read_text())["Statement"]}

    def actions(sid: str) -> set[str]:
        value = statements[sid]["Action"]
        return {value} if isinstance(value, str) else set(value)

    calls = code_calls()
    assert actions("ControlPlaneRead") == {c for c in calls if c.startswith("ec2:")}
    lambda_role = policy_actions()
    for sid in ("DnsPathRead", "LatticeRead"):  # the same reads as the Lambda's role, statement by statement
        assert actions(sid) == lambda_role[sid], sid
    granted = set().union(*(actions(sid) for sid in statements))
    assert granted <= calls, f"granted but never called: {sorted(granted - calls)}"
    # Every call the code makes is granted but those this example does not need: the Lambda's own configuration,
    # a topology or policy in S3 or under a customer-managed key, the kept reports, a hub account's role.
    not_needed = {"lambda:GetFunctionConfiguration", "s3:GetObject", "s3:PutObject", "kms:Decrypt", "sts:AssumeRole"}
    assert calls - granted == not_needed, sorted(calls - granted)
    writes = {a for a in granted if not a.split(":")[1].startswith(("Describe", "Get", "List"))}
    assert writes == {"cloudwatch:PutMetricData"}
    assert statements["PublishMetrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "VpcVerify"}}
    assert all(s["Effect"] == "Allow" and "*" not in actions(s["Sid"]) for s in statements.values())
