"""The deployment examples lint, and their vpc-verify commands parse with the real CLI.

- CloudFormation: cfn-lint.
- CDK (Python): the app is synthesized for real (aws-cdk-lib and node, installed by scripts/setup) and the
  template cfn-linted: the gate must come after the endpoints and their security group.
- Terraform: every file parses (python-hcl2) and the gate's invocation fails the apply on an unhealthy report
  (a postcondition on `healthy`). `terraform validate` needs the terraform binary and the AWS provider, which
  the project's scripts cannot install (neither is on PyPI, Debian or npm, and their registry is out of
  reach); where the machine already has both (the binary on PATH and a filesystem mirror of the provider,
  TF_PLUGIN_MIRROR or /opt/tf-plugins), it runs too, offline.
- CI snippets (CodeBuild, GitHub Actions, GitLab CI): YAML, and each `vpc-verify` line parses with the CLI's
  own argument parser, so a renamed flag breaks this test and not a user's pipeline.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TF_MIRROR = Path(os.environ.get("TF_PLUGIN_MIRROR", "/opt/tf-plugins"))


def cfn_lint(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, ...) as plain values."""


_CfnLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: {
        suffix: loader.construct_scalar(node)
        if isinstance(node, yaml.ScalarNode)
        else loader.construct_sequence(node, deep=True)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node, deep=True)
    },
)


def test_the_cloudformation_template_lints_and_gates_after_its_endpoints() -> None:
    template = EXAMPLES / "cloudformation" / "vpc-verify-gate.yaml"
    done = cfn_lint(str(template))
    assert done.returncode == 0, done.stdout + done.stderr
    resources = yaml.load(template.read_text(), Loader=_CfnLoader)["Resources"]
    gate = resources["EndpointsVerified"]
    assert gate["Type"] == "Custom::VpcVerify"
    assert set(gate["DependsOn"]) == {"SqsEndpoint", "KmsEndpoint", "EndpointSecurityGroup"}
    assert resources["GateFunction"]["Properties"]["Handler"] == "handler.cfn_handler"
    assert resources["GateFunction"]["Properties"]["Timeout"] == 900
    props = gate["Properties"]
    from vpc_verify.shells.spec import PROPERTIES

    assert set(props) - {"ServiceToken", "ServiceTimeout"} <= set(PROPERTIES)
    # The inline topology, with CloudFormation's substitutions made, is a valid topology.
    from vpc_verify import topology

    text = props["Topology"]["Sub"]
    for name, value in {
        "AWS::Region": "eu-west-1",
        "VpcId": "vpc-0123456789abcdef0",
        "VpcCidr": "10.0.0.0/16",
    }.items():
        text = text.replace("${" + name + "}", value)
    parsed = topology.loads(text, source="Topology")
    assert [e.name for e in parsed.endpoints] == ["sqs", "kms"]


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("cdk.out")
    env = {
        **os.environ,
        "CDK_OUTDIR": str(out),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1",
    }
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=EXAMPLES / "cdk", capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    template = out / "VpcVerifyGateExample.template.json"
    return {"path": template, "doc": json.loads(template.read_text())}


def test_the_cdk_app_synthesizes_a_template_that_lints(synthesized: dict[str, Any]) -> None:
    # W3005 (a DependsOn that a GetAtt already implies) is CDK's own: its Function depends on its role's policy.
    done = cfn_lint("--ignore-checks", "W3005", "--", str(synthesized["path"]))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_cdk_gate_comes_after_the_endpoints_and_their_group(synthesized: dict[str, Any]) -> None:
    resources = synthesized["doc"]["Resources"]
    (gate_id,) = [k for k, v in resources.items() if v["Type"] == "Custom::VpcVerify"]
    gate = resources[gate_id]
    kinds = {resources[d]["Type"] for d in gate["DependsOn"]}
    assert kinds == {"AWS::EC2::VPCEndpoint", "AWS::EC2::SecurityGroup"}
    endpoints = {
        resources[d]["Properties"]["ServiceName"]["Fn::Join"][1][-1]
        for d in gate["DependsOn"]
        if resources[d]["Type"] == "AWS::EC2::VPCEndpoint"
    }
    assert endpoints == {".sqs", ".kms"}
    props = gate["Properties"]
    assert set(props) == {"ServiceToken", "Topology", "WaitSeconds", "HealthyRuns", "Watch"}
    (function,) = [v for v in resources.values() if v["Type"] == "AWS::Lambda::Function"]
    assert function["Properties"]["Handler"] == "handler.cfn_handler" and function["Properties"]["Timeout"] == 900


def _hcl(path: Path) -> dict[str, Any]:
    with path.open() as f:
        return _unquote(hcl2.load(f))  # type: ignore[no-any-return]


def _unquote(value: Any) -> Any:
    """python-hcl2 (8.x) keeps the quotes of labels and string literals: drop them."""
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def test_the_terraform_files_parse_and_the_invocation_fails_an_unhealthy_apply() -> None:
    files = sorted((EXAMPLES / "terraform").rglob("*.tf"))
    assert len(files) >= 5
    docs = {f.relative_to(EXAMPLES / "terraform").as_posix(): _hcl(f) for f in files}
    main = docs["vpc-verify-gate/main.tf"]
    resources = {
        (kind, name): body
        for block in main["resource"]
        for kind, named in block.items()
        for name, body in named.items()
    }
    invocation = resources[("aws_lambda_invocation", "gate")]
    (lifecycle,) = invocation["lifecycle"]
    (postcondition,) = lifecycle["postcondition"]
    assert "jsondecode(self.result).healthy" in postcondition["condition"]
    assert "jsondecode(self.result).reason" in postcondition["error_message"]
    assert resources[("aws_lambda_function", "gate")]["handler"] == "handler.gate_handler"
    assert resources[("aws_lambda_function", "gate")]["timeout"] == 900
    (module,) = [m["vpc_verify_gate"] for m in docs["example/main.tf"]["module"]]
    assert module["source"] == "../vpc-verify-gate"
    assert any("aws_vpc_endpoint.interface" in str(d) for d in module["depends_on"])


def _terraform() -> str | None:
    exe = shutil.which("terraform")
    if exe and (TF_MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        return exe
    return None


@pytest.mark.skipif(
    _terraform() is None,
    reason="terraform and a local mirror of hashicorp/aws are not on this machine (the project's scripts cannot "
    "install them); the files were still parsed by python-hcl2",
)
def test_terraform_validate(tmp_path: Path) -> None:
    """The example calls the module: validating it validates both."""
    exe = _terraform()
    assert exe is not None
    shutil.copytree(EXAMPLES / "terraform", tmp_path / "tf")
    rc = tmp_path / "terraformrc"
    rc.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path    = "{TF_MIRROR}"\n'
        '    include = ["registry.terraform.io/*/*"]\n  }\n  direct {\n'
        '    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n'
    )
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(rc), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    cwd = tmp_path / "tf" / "example"
    for argv in (
        ["fmt", "-check", "-diff", "-recursive", ".."],
        ["init", "-backend=false", "-input=false"],
        ["validate"],
    ):
        done = subprocess.run([exe, *argv, "-no-color"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"terraform {argv[0]}: {done.stdout}{done.stderr}"


def _commands(text: str) -> list[list[str]]:
    out = []
    for line in text.splitlines():
        line = line.strip().removeprefix("- ").removeprefix("run: ").strip()
        if line.startswith("vpc-verify "):
            out.append(shlex.split(line)[1:])
    return out


@pytest.mark.parametrize("name", ["buildspec.yml", "github-actions.yml", "gitlab-ci.yml"])
def test_the_ci_snippets_parse_and_call_the_cli_as_it_is(name: str) -> None:
    from vpc_verify.cli import build_parser

    text = (EXAMPLES / "ci" / name).read_text()
    doc = yaml.safe_load(text)
    commands = _commands(text)
    assert commands, name
    for argv in commands:
        args = build_parser().parse_args(argv)
        assert args.command == "check" and args.wait and args.junit
    if name == "buildspec.yml":
        (group,) = doc["reports"].values()
        assert group["file-format"] == "JUNITXML"
        junit = Path(build_parser().parse_args(commands[0]).junit)
        assert junit.parent.as_posix() == group["base-directory"] and junit.name in group["files"]
    if name == "gitlab-ci.yml":
        job = doc["vpc-verify"]
        assert job["artifacts"]["reports"]["junit"] == build_parser().parse_args(commands[0]).junit
        assert job["artifacts"]["when"] == "always"
    if name == "github-actions.yml":
        assert build_parser().parse_args(commands[0]).summary == "$GITHUB_STEP_SUMMARY"
