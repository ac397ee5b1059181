"""lambda/template.yaml: cfn-lint clean, and its IAM policy grants exactly the calls the code makes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from vpc_verify.checks import calls as signed_calls

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "lambda" / "template.yaml"
# The Lambda service needs these to put the function in the VPC; the code never calls them.
LAMBDA_VPC_NETWORKING = {
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !If, ...) as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _any_tag)


def _template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # type: ignore[no-any-return]


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def code_calls() -> set[str]:
    """IAM actions of every AWS call in agent/ (the Lambda runs vpc_verify.lambda_entry over vpc_verify.run)."""
    calls: set[str] = set()
    for path in (ROOT / "agent").rglob("*.py"):
        text = path.read_text()
        for method in re.findall(r'_pages\(\s*\w+,\s*"(\w+)"', text):
            calls.add(f"ec2:{_camel(method)}")
        for method in re.findall(r"\bec2\.(describe_\w+)\(", text):
            calls.add(f"ec2:{_camel(method)}")
        if ".get_function_configuration(" in text:
            calls.add("lambda:GetFunctionConfiguration")
        if ".put_metric_data(" in text:
            calls.add("cloudwatch:PutMetricData")
        if '"ssm"' in text and ".get_parameter(" in text:
            calls.add("ssm:GetParameter")
        if '"s3"' in text and ".get_object(" in text:
            calls.add("s3:GetObject")
    return calls


def policy_actions() -> dict[str, set[str]]:
    """Sid -> actions of the function's role."""
    role = _template()["Resources"]["Role"]["Properties"]
    out: dict[str, set[str]] = {}
    for statement in role["Policies"][0]["PolicyDocument"]["Statement"]:
        if "If" in statement:  # !If [cond, statement, NoValue]
            statement = statement["If"][1]
        actions = statement["Action"]
        out[statement["Sid"]] = {actions} if isinstance(actions, str) else set(actions)
    return out


def test_policy_grants_nothing_beyond_the_calls_the_code_makes() -> None:
    calls = code_calls()
    assert "ec2:DescribeVpcEndpoints" in calls and "cloudwatch:PutMetricData" in calls
    granted = policy_actions()
    code_grants = set().union(
        *(a for sid, a in granted.items() if sid not in ("LambdaVpcNetworking", "Logs", "SignedCalls"))
    )
    assert granted["LambdaVpcNetworking"] == LAMBDA_VPC_NETWORKING
    assert granted["Logs"] == LOGS
    assert code_grants <= calls, f"granted but never called: {sorted(code_grants - calls)}"
    ec2_calls = {c for c in calls if c.startswith("ec2:")}
    assert granted["ControlPlaneRead"] == ec2_calls, "the EC2 reads granted must be exactly the ones made"
    # s3:GetObject is only used with VPC_VERIFY_TOPOLOGY_S3, which this template does not set.
    assert calls - code_grants <= {"s3:GetObject"}
    assert all(a.split(":")[1].startswith(("Describe", "Get", "List")) for a in ec2_calls)


def test_signed_calls_grant_exactly_the_call_table() -> None:
    # With SignedCalls=true the role may make the table's calls (checks/calls.py), nothing more.
    assert policy_actions()["SignedCalls"] == set(signed_calls.actions())
    assert all(a.split(":")[1].startswith(("Describe", "Get", "List")) for a in signed_calls.actions())
    function = _template()["Resources"]["Function"]["Properties"]
    assert function["Environment"]["Variables"]["VPC_VERIFY_AUTHORIZE"]["If"][0] == "HasSignedCalls"


def test_put_metric_data_is_limited_to_the_namespace() -> None:
    role = _template()["Resources"]["Role"]["Properties"]
    statement = next(
        s
        for s in role["Policies"][0]["PolicyDocument"]["Statement"]
        if isinstance(s, dict) and s.get("Sid") == "PublishMetrics"
    )
    assert statement["Condition"]["StringEquals"]["cloudwatch:namespace"] == {"Ref": "Namespace"}


def test_alarms_treat_missing_data_as_breaching() -> None:
    resources = _template()["Resources"]
    assert resources["RunHealthyAlarm"]["Properties"]["TreatMissingData"] == "breaching"
    assert resources["RunHealthyAlarm"]["Properties"]["MetricName"] == "RunHealthy"
    per_endpoint = resources["Fn::ForEach::EndpointAlarms"][2]["EndpointHealthyAlarm&{EndpointName}"]
    assert per_endpoint["Properties"]["MetricName"] == "Healthy"
    assert per_endpoint["Properties"]["TreatMissingData"] == "breaching"
    heartbeat = resources["HeartbeatAlarm"]["Properties"]  # the monitor is down: no Heartbeat datum arrives
    assert heartbeat["MetricName"] == "Heartbeat" and heartbeat["TreatMissingData"] == "breaching"
    assert "Dashboard" in resources


def test_cfn_lint() -> None:
    exe = str(Path(sys.executable).parent / "cfn-lint")
    if not Path(exe).exists():
        exe = shutil.which("cfn-lint") or exe
    if not Path(exe).exists():
        pytest.skip("cfn-lint is not installed")
    proc = subprocess.run([exe, str(TEMPLATE)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
