"""The fleet's CloudFormation templates: lambda/oam-link.yaml (a member account's link to the monitoring account's
sink) and lambda/monitoring.yaml (the sink, the fleet alarm and dashboard) lint clean, the sink admits only the
organization's accounts and the two resource types the links share, and the dashboard body is JSON once
CloudFormation substitutes it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
LINK = ROOT / "lambda" / "oam-link.yaml"
MONITORING = ROOT / "lambda" / "monitoring.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, ...) as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _any_tag)


def _load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # type: ignore[no-any-return]


def test_both_templates_lint_clean() -> None:
    exe = Path(sys.executable).parent / "cfn-lint"
    done = subprocess.run([str(exe), str(LINK), str(MONITORING)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_sink_admits_the_organization_and_the_shared_types_only() -> None:
    sink = _load(MONITORING)["Resources"]["Sink"]["Properties"]["Policy"]
    (statement,) = sink["Statement"]
    assert set(statement["Action"]) == {"oam:CreateLink", "oam:UpdateLink"}
    assert statement["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}
    shared = statement["Condition"]["ForAllValues:StringEquals"]["oam:ResourceTypes"]
    link = _load(LINK)["Resources"]["Link"]["Properties"]
    assert set(link["ResourceTypes"]["If"][1]) == set(shared)  # what a link asks is what the sink admits
    assert link["LinkConfiguration"]["MetricConfiguration"]["Filter"] == {"Sub": "Namespace = '${Namespace}'"}


def test_the_dashboard_is_json_and_the_alarm_watches_every_vpc() -> None:
    template = _load(MONITORING)
    body, _ = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Sub"]
    values = {"AWS::Region": "eu-west-1", "Namespace": "VpcVerify", "PeriodSeconds": "300"}
    dashboard = json.loads(re.sub(r"\$\{([\w:]+)\}", lambda m: values[m[1]], body))
    queries = [
        m[0]["expression"] for w in dashboard["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]
    ]
    assert any("GROUP BY AWS.AccountId, VpcId" in q and "RunHealthy" in q for q in queries)
    assert all('FROM SCHEMA("VpcVerify", VpcId)' in q for q in queries)
    alarm = template["Resources"]["FleetUnhealthyAlarm"]["Properties"]
    assert alarm["Metrics"][0]["Expression"] == {"Sub": 'SELECT MIN(RunHealthy) FROM SCHEMA("${Namespace}", VpcId)'}
    assert alarm["TreatMissingData"] == "breaching" and alarm["ComparisonOperator"] == "LessThanThreshold"
