"""lambda/template.yaml (scripts/check runs cfn-lint on it): its IAM policy grants exactly the calls the code
makes, its function's security group lets the checks out (evaluated by vpc-verify's own egress evaluator, for
the README's example and for a VPC with secondary, IPv6 CIDRs and other ports), and its alarms are M out of N."""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from vpc_verify.aws.model import PrefixList, Rule
from vpc_verify.checks import calls as signed_calls
from vpc_verify.evaluate.security_groups import Destination, outbound

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
        for service, operation in re.findall(
            r'calling\("(route53resolver|route53profiles|route53|sts|vpc-lattice)", "(\w+)"\)', text
        ):
            calls.add(f"{service}:{operation}")
        if ".get_function_configuration(" in text:
            calls.add("lambda:GetFunctionConfiguration")
        if ".put_metric_data(" in text:
            calls.add("cloudwatch:PutMetricData")
        if '"ssm"' in text and ".get_parameter(" in text:
            calls.add("ssm:GetParameter")
            if "WithDecryption=True" in text:  # a SecureString under a customer-managed key needs the key too
                calls.add("kms:Decrypt")
        if '"s3"' in text and ".get_object(" in text:
            calls.add("s3:GetObject")
        if '"s3"' in text and ".put_object(" in text:  # the fleet's reports (VPC_VERIFY_REPORT_S3)
            calls.add("s3:PutObject")
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
    # Every topology source the code supports is granted when the template is given it (SSM, S3, a KMS key).
    assert calls - code_grants == set(), f"called but never granted: {sorted(calls - code_grants)}"
    assert {"ec2:DescribeNetworkAcls", "ec2:DescribeAvailabilityZones"} <= ec2_calls
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


def test_alarms_treat_missing_data_as_breaching_on_m_out_of_n() -> None:
    """AWS: for metrics Lambda publishes through its logs (EMF), whose flush it cannot control, use M out of N
    alarms so a late datapoint does not page."""
    template = _template()
    resources, params = template["Resources"], template["Parameters"]
    per_endpoint = resources["Fn::ForEach::EndpointAlarms"][2]["EndpointHealthyAlarm&{EndpointName}"]
    assert resources["RunHealthyAlarm"]["Properties"]["MetricName"] == "RunHealthy"
    assert per_endpoint["Properties"]["MetricName"] == "Healthy"
    for alarm in (resources["RunHealthyAlarm"], per_endpoint):
        props = alarm["Properties"]
        assert props["TreatMissingData"] == "breaching"
        m = params[props["DatapointsToAlarm"]["Ref"]]["Default"]
        n = params[props["EvaluationPeriods"]["Ref"]]["Default"]
        assert (m, n) == (3, 5)
    heartbeat = resources["HeartbeatAlarm"]["Properties"]  # the monitor is down: no Heartbeat datum arrives
    assert heartbeat["MetricName"] == "Heartbeat" and heartbeat["TreatMissingData"] == "breaching"
    assert "Dashboard" in resources


def test_no_reserved_concurrency_by_default() -> None:
    """A new account has 10 concurrent executions in all: reserving one for vpc-verify is opt-in."""
    template = _template()
    reserved = template["Resources"]["Function"]["Properties"]["ReservedConcurrentExecutions"]
    params = _defaults(template)
    assert _resolve(reserved, params, template) is None


def test_the_fleet_policy_and_the_reports_are_told_and_granted_exactly() -> None:
    template = _template()
    env = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    params = {**_defaults(template), "PolicyLocation": "s3://org/policy.yaml", "ReportsS3Url": "s3://org/reports"}
    assert _resolve(env["VPC_VERIFY_POLICY"], params, template) == "s3://org/policy.yaml"
    assert _resolve(env["VPC_VERIFY_REPORT_S3"], params, template) == "s3://org/reports"
    assert _resolve(env["VPC_VERIFY_POLICY"], _defaults(template), template) is None
    granted = policy_actions()
    assert granted["ReadPolicy"] == {"ssm:GetParameter"} and granted["ReadPolicyS3"] == {"s3:GetObject"}
    assert granted["KeepReports"] == {"s3:PutObject"}  # under <prefix>/<its account>/<its Region>/ only


def test_the_function_is_told_its_topology_source_and_whether_to_read_aws() -> None:
    template = _template()
    env = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    params = {**_defaults(template), "TopologyS3Bucket": "conf", "TopologyS3Key": "vpc/t.yaml", "ControlPlane": "false"}
    assert _resolve(env["VPC_VERIFY_TOPOLOGY_S3"], params, template) == "s3://conf/vpc/t.yaml"
    assert _resolve(env["VPC_VERIFY_AWS"], params, template) == "false"
    assert _resolve(env["VPC_VERIFY_TOPOLOGY_S3"], _defaults(template), template) is None


# -------------------------------------------------------------- the function's security group, evaluated

S3_PREFIX_LIST = PrefixList("pl-63a5400a", "com.amazonaws.us-east-1.s3", ("52.216.0.0/15", "3.5.0.0/19"))


def _readme_parameters() -> dict[str, str]:
    """The --parameter-overrides of the deploy example in docs/guides/lambda.md."""
    text = (ROOT / "docs" / "guides" / "lambda.md").read_text()
    block = text[text.index("aws cloudformation deploy") :]
    block = block[: block.index("```")]
    words = shlex.split(block.replace("\\\n", " ").split("\n#")[0])
    return dict(w.split("=", 1) for w in words[words.index("--parameter-overrides") + 1 :] if "=" in w)


def _defaults(template: dict[str, Any]) -> dict[str, Any]:
    return {k: v.get("Default") for k, v in template["Parameters"].items()}


def _resolve(value: Any, params: dict[str, Any], template: dict[str, Any]) -> Any:
    """The few intrinsic functions the template's egress, environment and concurrency use."""
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return None if arg == "AWS::NoValue" else params.get(arg, f"<{arg}>")
        if fn == "If":
            chosen = arg[1] if _condition(arg[0], params, template) else arg[2]
            return _resolve(chosen, params, template)
        if fn == "Sub":
            return re.sub(r"\$\{([\w:]+)\}", lambda m: str(params.get(m[1], m[1])), arg)
        if fn == "GetAtt":
            return "sg-function"
    return value


def _condition(name: str, params: dict[str, Any], template: dict[str, Any]) -> bool:
    def ev(node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((fn, arg),) = node.items()
            if fn == "Not":
                return not ev(arg[0])
            if fn == "Equals":
                return ev(arg[0]) == ev(arg[1])
            if fn == "Join":
                items = ev(arg[1])
                return arg[0].join(items if isinstance(items, list) else [items])
            if fn == "Ref":
                return params.get(arg)
        return node

    return bool(ev(template["Conditions"][name]))


def _as_list(value: Any) -> list[str]:
    """A CommaDelimitedList parameter's value, as CloudFormation splits it."""
    return [x.strip() for x in value.split(",")] if isinstance(value, str) else list(value or [])


def _expand(resources: dict[str, Any], params: dict[str, Any], template: dict[str, Any]) -> list[dict[str, Any]]:
    """The egress rule resources the stack would create (Fn::ForEach expanded, conditions applied)."""
    out: list[dict[str, Any]] = []
    for key, value in resources.items():
        if key.startswith("Fn::ForEach::"):
            ident, collection, fragment = value
            for item in _as_list(_resolve(collection, params, template)):
                out += _expand(fragment, {**params, ident: item}, template)
        elif isinstance(value, dict) and value.get("Type") == "AWS::EC2::SecurityGroupEgress":
            if "Condition" in value and not _condition(value["Condition"], params, template):
                continue
            out.append({k: _resolve(v, params, template) for k, v in value["Properties"].items()})
    return out


def function_egress(overrides: dict[str, str]) -> tuple[Rule, ...]:
    """The function's security group's outbound rules for these parameters."""
    template = _template()
    params = {**_defaults(template), **overrides}
    for name, spec in template["Parameters"].items():
        if spec["Type"] == "CommaDelimitedList":
            params[name] = _as_list(params[name])
    inline = template["Resources"]["SecurityGroup"]["Properties"]["SecurityGroupEgress"]
    props = [{k: _resolve(v, params, template) for k, v in r.items()} for r in inline]
    props += _expand(template["Resources"], params, template)
    return tuple(
        Rule(
            "sg-function",
            p["IpProtocol"],
            int(p["FromPort"]),
            int(p["ToPort"]),
            cidr=p.get("CidrIp") or p.get("CidrIpv6"),
            prefix_list_id=p.get("DestinationPrefixListId"),
        )
        for p in props
    )


def lets_out(rules: tuple[Rule, ...], address: str, port: int) -> str:
    from vpc_verify.aws.model import SecurityGroup

    groups = {"sg-function": SecurityGroup("sg-function", "vpc-verify", (), rules)}
    to = Destination((ipaddress.ip_network(address),), ("sg-vpce",))
    lists = {S3_PREFIX_LIST.id: S3_PREFIX_LIST, S3_PREFIX_LIST.name: S3_PREFIX_LIST}
    return outbound(("sg-function",), groups, lists, to, port).verdict


def test_the_readme_example_lets_every_check_out() -> None:
    """The README deploys sqs, kms (interface endpoints in the VPC) and s3 (a gateway endpoint, which answers
    with S3's public addresses): the function's group must let all three out, or s3 alarms forever."""
    params = _readme_parameters()
    assert params["EndpointNames"] == "sqs,kms,s3" and params["GatewayPrefixListIds"] == S3_PREFIX_LIST.id
    rules = function_egress(params)
    assert lets_out(rules, "10.0.1.10", 443) == "admits"  # sqs, kms ENIs
    assert lets_out(rules, "52.217.3.4", 443) == "admits"  # s3, inside its prefix list
    assert lets_out(rules, "10.0.0.2", 53) == "admits"  # the VPC resolver
    assert lets_out(rules, "198.51.100.7", 443) == "blocks"  # nothing else


def test_secondary_and_ipv6_cidrs_and_the_topologys_ports_are_let_out() -> None:
    params = {
        **_readme_parameters(),
        "SecondaryCidrs": "100.64.0.0/16,10.1.0.0/16",
        "Ipv6Cidrs": "2600:1f18:a:b00::/56",
        "ProbePorts": "443,8443",
    }
    rules = function_egress(params)
    assert lets_out(rules, "100.64.3.9", 443) == "admits"  # a non-RFC 1918 secondary CIDR
    assert lets_out(rules, "10.1.7.7", 8443) == "admits"
    assert lets_out(rules, "2600:1f18:a:b01::10", 443) == "admits"
    assert lets_out(rules, "10.0.1.10", 9000) == "blocks"  # a port the topology does not use
    without = function_egress({**_readme_parameters(), "GatewayPrefixListIds": ""})
    assert lets_out(without, "52.217.3.4", 443) == "blocks"


# -------------------------------------------------------------- the metric set (issue 16, a metric budget)

BUDGET_METRICS = {"Healthy", "RunHealthy", "EndpointsUnhealthy", "Heartbeat"}


def _dashboard_widgets() -> list[dict[str, Any]]:
    body = _template()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Sub"][0]
    text = re.sub(r"\$\{[A-Za-z:.]+\}", lambda m: "60" if m.group(0) == "${Period}" else "X", body)
    return json.loads(text)["widgets"]  # type: ignore[no-any-return]


def test_the_metric_set_is_a_parameter_defaulting_to_budget() -> None:
    template = _template()
    param = template["Parameters"]["Metrics"]
    assert param["Default"] == "budget" and set(param["AllowedValues"]) == {"budget", "full"}
    env = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    assert env["VPC_VERIFY_METRICS"] == {"Ref": "Metrics"}


def test_alarms_and_metric_widgets_read_only_the_budget_set_and_the_rest_comes_from_logs_insights() -> None:
    """The default set must leave no alarm, dashboard widget or fleet view without data."""
    template = _template()
    resources = template["Resources"]
    per_endpoint = resources["Fn::ForEach::EndpointAlarms"][2]["EndpointHealthyAlarm&{EndpointName}"]
    alarmed = {resources[a]["Properties"]["MetricName"] for a in ("RunHealthyAlarm", "HeartbeatAlarm")}
    assert alarmed | {per_endpoint["Properties"]["MetricName"]} <= BUDGET_METRICS
    widgets = _dashboard_widgets()
    metric_text = json.dumps([w for w in widgets if w["type"] == "metric"]).replace('\\"', '"')
    searched = set(re.findall(r'MetricName="(\w+)"', metric_text))
    named = searched | set(re.findall(r'"X", "(\w+)", "VpcId"', metric_text))
    assert searched == {"Healthy"} and named == {"Healthy", "RunHealthy", "EndpointsUnhealthy"}
    assert named and named <= BUDGET_METRICS, named
    logs = [w["properties"] for w in widgets if w["type"] == "log"]
    queried = {f for w in logs for f in re.findall(r"ispresent\((\w+)\)", w["query"])} - {"Endpoint"}
    assert queried == {"RunDuration", "Reachable", "ConnectLatency", "TlsLatency", "DnsLatency"}
    assert all(w["query"].startswith("SOURCE 'X' |") and w["view"] == "timeSeries" for w in logs)
    assert "${LogGroup}" in resources["Dashboard"]["Properties"]["DashboardBody"]["Sub"][0]
    monitoring = (TEMPLATE.parent / "monitoring.yaml").read_text()
    assert set(re.findall(r"SELECT \w+\((\w+)\)", monitoring)) <= BUDGET_METRICS


def test_the_start_jitter_is_a_bounded_parameter_off_by_default() -> None:
    template = _template()
    param = template["Parameters"]["JitterSeconds"]
    assert (param["Default"], param["MinValue"], param["MaxValue"]) == (0, 0, 30)  # 30 of the 60-second timeout
    env = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    assert env["VPC_VERIFY_JITTER_SECONDS"] == {"Ref": "JitterSeconds"}
