"""Plain scalars in a topology file read as PyYAML's safe loader reads them (YAML 1.1), whatever shortcut the
topology's composer takes before asking PyYAML's resolver (decimals, text that no implicit type starts with, text
with two dots), except dates and times, which a topology keeps as text."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from vpc_verify.topology import load_yaml

SCALARS = [
    "10.0.1.10",
    "10.0.0.0/8",
    "1.2.3",
    "1.2.",
    "1..2",
    "..",
    "...",
    ".5",
    "1.5",
    "1.5e+3",
    "1e3",
    "+1.5",
    "-.inf",
    ".inf",
    ".NaN",
    "1_000.5",
    "190:20:30.15",
    "190:20:30",
    "0x1F",
    "0o17",
    "017",
    "0",
    "1000",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10",
    "2001-12-14.1.2",
    "fd00::1",
    "2001:db8::10",
    "1:2:3.4.5",
    "yes",
    "off",
    "null",
    "~",
    "svc0.us-east-1.amazonaws.com",
    "vpce-0123.sqs.us-east-1.vpce.amazonaws.com",
    "1.example.com",
    "-1.2.3",
    "+.1.2",
]


def expected(text: str) -> Any:
    value = yaml.safe_load(f"k: {text}\n")["k"]
    return text if isinstance(value, dt.date) else value  # a topology holds no dates: they stay text


def same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and (a == b or (a != a and b != b))  # NaN is itself


@pytest.mark.parametrize("text", SCALARS)
def test_a_plain_scalar_reads_as_pyyaml_reads_it(text: str) -> None:
    got = load_yaml(f"k: {text}\n", "t.yaml")
    assert isinstance(got, dict) and same(got["k"], expected(text)), (text, got, expected(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.-+:eE_xob~ntyfNTYF", min_size=1, max_size=12))
def test_any_short_number_like_scalar_reads_as_pyyaml_reads_it(text: str) -> None:
    try:
        want = expected(text)
    except yaml.YAMLError:
        return  # not a plain scalar (": " or a leading "-"): the composer's errors are tested elsewhere
    got = load_yaml(f"k: {text}\n", "t.yaml")
    assert isinstance(got, dict) and same(got["k"], want), (text, got, want)
