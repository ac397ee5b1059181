"""Plain YAML from libyaml's events: what yaml.safe_load builds, without the node graph; the rest falls back."""

from __future__ import annotations

import pytest
import yaml

from vpc_verify import plainyaml

DOCUMENTS = [
    "a: 1\nb: [x, 'y', 2.5, true, null, ~, 0x1F, 1_000, .inf, 2020-01-01, '2020', \"q\"]\n",
    "c: {d: {e: [1, [2, {f: g}]]}}\n",
    "",
    "- 1\n- 2\n",
    "k: v\nk: w\n",  # a repeated key: the last wins, as safe_load has it
    "x: !!str 5\n",  # a tag: the full loader
    "base: &b {a: 1}\nother: *b\n",  # an anchor and an alias: the full loader
    "<<: {a: 1}\nb: 2\n",  # a merge key: the full loader
    "version: 1\nendpoints:\n  - name: sqs\n    service: com.amazonaws.us-east-1.sqs\n    port: 443\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_plain_documents_load_as_safe_load_loads_them(text: str) -> None:
    assert plainyaml.load(text) == yaml.safe_load(text)


def test_broken_yaml_is_a_yaml_error_with_its_place() -> None:
    with pytest.raises(yaml.MarkedYAMLError):
        plainyaml.load("a: [1, 2\nb: 3\n")


def test_an_unhashable_key_is_a_yaml_error() -> None:
    with pytest.raises(yaml.YAMLError):
        plainyaml.load("? [1, 2]\n: x\n")
