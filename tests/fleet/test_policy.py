"""The fleet policy: what loads, and what is refused with one line naming the source, the key path and what was
expected (exit 2 from the CLI), like the topology."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.testbed.cli import run_cli
from vpc_verify.fleet.policy import AzRule, exemptions, loads, service_name, short_name
from vpc_verify.reference import schemas
from vpc_verify.topology import TopologyError

GOOD = """\
version: 1
exemption_tag: team:exempt
resolver: {timeout_ms: 500}
defaults: {timeout_ms: 1500, latency_budget_ms: 250}
classes:
  - name: workload
    match: {environment: prod, tier: "*"}
    interface: [sts, logs, ecr.api, com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0]
    gateway: [s3]
    private_dns: false
    azs: {min: 2, agent: true}
  - name: default
    interface: [sts]
    azs: 1
"""


def test_a_policy_loads_with_every_key() -> None:
    policy = loads(GOOD, source="p.yaml")
    assert policy.exemption_tag == "team:exempt" and policy.resolver == {"timeout_ms": 500}
    workload, default = policy.classes
    assert workload.interface[:3] == ("sts", "logs", "ecr.api") and workload.gateway == ("s3",)
    assert workload.azs == AzRule(min=2, agent=True) and workload.private_dns is False
    assert default.azs == AzRule(min=1) and default.private_dns is True
    assert policy.classify({"environment": "prod", "tier": "web"}) is workload
    assert policy.classify({"environment": "prod"}) is default  # tier must be there, with any value
    assert policy.classify({}) is default


def test_a_policy_without_classes_checks_every_endpoint() -> None:
    assert loads("version: 1\n").classes == ()
    assert loads("version: 1\n").classify({"a": "b"}) is None


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        ("", "", "a policy mapping"),
        ("version: 2\n", "version", "1 (the only policy version"),
        ("classes: []\n", "version", "version: 1"),
        ("version: 1\nclassez: []\n", "classez", "did you mean classes?"),
        ("version: 1\nclasses: [{interface: [sts]}]\n", "classes[0].name", "a name for the class"),
        ("version: 1\nclasses: [{name: a, interface: [Not A Service]}]\n", "classes[0].interface[0]", "sqs, ecr.api"),
        ("version: 1\nclasses: [{name: a, interface: [sts, sts]}]\n", "classes[0].interface[1]", "each service once"),
        ("version: 1\nclasses: [{name: a, gateway: [sqs]}]\n", "classes[0].gateway[0]", "s3 or dynamodb"),
        ("version: 1\nclasses: [{name: a, azs: 99}]\n", "classes[0].azs", "from 0 to 16"),
        ("version: 1\nclasses: [{name: a, azs: {min: 2, most: 3}}]\n", "classes[0].azs.most", "one of the keys"),
        ("version: 1\nclasses: [{name: a, azs: {agent: yes please}}]\n", "classes[0].azs.agent", "true or false"),
        ("version: 1\nclasses: [{name: a, match: [env]}]\n", "classes[0].match", "a mapping of VPC tag keys"),
        ("version: 1\nclasses: [{name: a, match: {env: [x]}}]\n", "classes[0].match.env", "a tag value"),
        ("version: 1\nclasses: [{name: a}, {name: a}]\n", "classes[1].name", "a unique name (classes[0]"),
        ("version: 1\nclasses: [{name: a, private_dns: 1}]\n", "classes[0].private_dns", "true or false"),
        ("version: 1\ndefaults: {timeout_ms: 0}\n", "defaults.timeout_ms", "1 to 60000"),
        ("version: 1\nresolver: {port: 70000}\n", "resolver.port", "65535"),
        ("version: 1\ndefaults: {nmae: x}\n", "defaults.nmae", "one of the keys"),
        ("version: 1\nversion: 1\n", "version", "each key once"),
        ("version: 1\ndefaults: {service: sqs}\n", "defaults.service", "one of the keys port"),
        ("version: 1\nclasses: &a [*a]\n", "classes[0]", "an alias to an anchor defined before it"),
    ],
)
def test_bad_policies_name_the_key_path_and_the_expectation(text: str, path: str, expected: str) -> None:
    with pytest.raises(TopologyError) as info:
        loads(text, source="p.yaml")
    assert info.value.path == path, str(info.value)
    assert expected in str(info.value) and str(info.value).startswith("p.yaml")
    assert "\n" not in str(info.value)


def test_service_names_and_exemptions() -> None:
    assert service_name("ecr.api", "eu-west-1") == "com.amazonaws.eu-west-1.ecr.api"
    assert service_name("com.amazonaws.us-east-1.sqs", "eu-west-1") == "com.amazonaws.us-east-1.sqs"
    assert short_name("com.amazonaws.us-east-1.ecr.dkr") == "ecr.dkr"
    assert short_name("com.amazonaws.vpce.us-east-1.vpce-svc-1") == "com.amazonaws.vpce.us-east-1.vpce-svc-1"
    assert exemptions({"vpc-verify:exempt": "kms, ecr.dkr  sts,kms"}, "vpc-verify:exempt") == ("kms", "ecr.dkr", "sts")


def test_the_schema_agrees_with_the_loader() -> None:
    schema = schemas.policy()
    validator = jsonschema.Draft7Validator(schema)
    jsonschema.Draft7Validator.check_schema(schema)
    good = yaml.safe_load(GOOD)
    assert not list(validator.iter_errors(good))
    for bad in (
        {"classes": []},
        {"version": 1, "classes": [{"interface": ["sts"]}]},
        {"version": 1, "classes": [{"name": "a", "gateway": ["sqs"]}]},
        {"version": 1, "classes": [{"name": "a", "azs": {"min": 99}}]},
        {"version": 1, "extra": 1},
    ):
        assert list(validator.iter_errors(bad)), bad
        with pytest.raises(TopologyError):
            loads(yaml.safe_dump(bad))


def test_the_cli_refuses_a_bad_policy_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\nclasses: [{name: a, interface: [sts, sts]}]\n")
    done = run_cli("check", "--policy", str(bad), "--vpc-id", "vpc-0123456789abcdef0")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"vpc-verify: error: {bad}: classes[0].interface[1]: expected each service once "
        "(classes[0].interface[0] has it too), got 'sts'"
    )
    assert "Traceback" not in done.stderr


def test_schema_policy_is_printed(tmp_path: Path) -> None:
    done = run_cli("schema", "policy")
    assert done.returncode == 0
    assert yaml.safe_load(done.stdout)["title"].startswith("vpc-verify fleet policy")
