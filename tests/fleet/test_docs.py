"""The policy examples of the docs load with the policy loader and validate against docs/schema/policy.json, and
the fleet guide's commands parse with the real CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import jsonschema
import yaml

from vpc_verify import cli
from vpc_verify.fleet.policy import loads
from vpc_verify.reference import schemas

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guides" / "fleet.md"


def _policy_blocks() -> list[str]:
    blocks = re.findall(r"```ya?ml\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)
    return [b for b in blocks if re.search(r"^classes:", b, re.M)]


def test_the_guides_policies_load_and_validate() -> None:
    blocks = _policy_blocks()
    assert blocks
    validator = jsonschema.Draft7Validator(schemas.policy())
    for block in blocks:
        policy = loads(block, source="docs/guides/fleet.md")
        assert policy.classes
        assert not [e.message for e in validator.iter_errors(yaml.safe_load(block))]


def test_the_guides_vpc_verify_commands_parse() -> None:
    parser = cli.build_parser()
    text = GUIDE.read_text(encoding="utf-8")
    commands = re.findall(r"^\$ (vpc-verify .+)$", text, flags=re.M)
    commands += re.findall(r"`(vpc-verify (?:check|fleet|diagnose|schema)[^`]*)`", text)
    assert len(commands) >= 5
    for command in commands:
        if re.search(r"[<|\[]", command):
            continue  # a synopsis or a placeholder stands for what the reader fills in
        parser.parse_args(shlex.split(command)[1:])
