"""Hostile and broken topology input: every input gives a Topology or a TopologyError, never anything else."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.testbed.cli import run_cli
from vpc_verify.topology import MAX_FILE_BYTES, TopologyError, loads, parse

VALID: dict[str, Any] = {
    "version": 1,
    "region": "us-east-1",
    "vpc": {"id": "vpc-0123456789abcdef0", "cidrs": ["10.0.0.0/16"]},
    "resolver": {"nameservers": ["10.0.0.2"], "port": 53, "timeout_ms": 1000},
    "defaults": {
        "port": 443,
        "timeout_ms": 2000,
        "latency_budget_ms": 100,
        "tls": {"verify": True, "ca_bundle": None},
        "http": None,
    },
    "endpoints": [
        {
            "name": "sqs",
            "type": "interface",
            "service": "com.amazonaws.us-east-1.sqs",
            "dns_names": ["sqs.us-east-1.amazonaws.com"],
            "addresses": ["10.0.1.23"],
            "azs": ["us-east-1a"],
            "port": 443,
            "tls": {"server_name": "sqs.us-east-1.amazonaws.com"},
        },
        {"name": "web", "type": "service", "dns_names": ["web.internal"], "http": {"path": "/", "status": [200]}},
    ],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.sampled_from(
        [
            "10.0.0.0/16",
            "::1",
            "fd00::/8",
            "10.0.0.2",
            "vpc-0123456789abcdef0",
            "interface",
            "gateway",
            "service",
            "x" * 300,
            "bücher.example",
            "a." * 130,
            "-bad-.example",
            "com.amazonaws.us-east-1.s3",
            "10.0.0.0/8",
            "2001:db8::/32",
        ]
    ),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(st.text(max_size=20) | st.sampled_from(list(VALID)), children, max_size=6),
    ),
    max_leaves=40,
)


def _mutations() -> st.SearchStrategy[Any]:
    """The valid document with one value somewhere replaced by anything."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))

    walk(VALID, ())

    def mutate(path: tuple[Any, ...], value: Any) -> Any:
        doc = json.loads(json.dumps(VALID))
        if not path:
            return value
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return doc

    return st.builds(mutate, st.sampled_from(paths), documents)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(documents, _mutations()))
def test_any_document_validates_or_explains(document: Any) -> None:
    try:
        topo = parse(document, source="fuzz.yaml")
    except TopologyError as exc:
        assert str(exc).startswith("fuzz.yaml")
        assert "expected" in str(exc)
    else:
        assert topo.version == 1
        names = [e.name for e in topo.endpoints]
        assert len(names) == len(set(names))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_validates_or_explains(text: str) -> None:
    with contextlib.suppress(TopologyError):
        loads(text, source="t.yaml")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=500))
def test_yaml_quirks_from_bytes(data: bytes) -> None:
    with contextlib.suppress(TopologyError):
        loads(data.decode("utf-8", errors="replace"), source="b.yaml")


def test_billion_laughs_is_refused_fast() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghijklmnop":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    lines.append(f"endpoints: *{prev}\nversion: 1")
    start = time.perf_counter()
    with pytest.raises(TopologyError, match=r"^bomb\.yaml"):
        loads("\n".join(lines), source="bomb.yaml")
    assert time.perf_counter() - start < 2.0


def test_too_many_aliases_are_refused() -> None:
    text = "version: 1\nx: &x 1\nendpoints: [" + ", ".join(["*x"] * 500) + "]\n"
    with pytest.raises(TopologyError, match="aliases"):
        loads(text, source="aliases.yaml")


def test_wide_alias_fanout_is_bounded() -> None:
    # Few aliases but a wide shared list: the per-list caps stop the walk.
    doc = {
        "version": 1,
        "endpoints": [{"name": f"e{i}", "type": "service", "dns_names": ["x.example"] * 1000} for i in range(3)],
    }
    with pytest.raises(TopologyError, match=r"endpoints\[0\]\.dns_names"):
        parse(doc)


@pytest.mark.e2e
def test_huge_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\nendpoints: []\n# " + "x" * (MAX_FILE_BYTES + 10) + "\n")
    result = run_cli("validate", str(big))
    assert result.returncode == 2
    assert "expected a file of at most" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("depth", [5000, 200_000])
def test_deep_nesting_is_an_error_not_a_crash(depth: int) -> None:
    # In a child: a C-stack overflow in a YAML parser would kill the process, not raise.
    deep = "version: 1\nendpoints: " + "[" * depth + "]" * depth + "\n"
    code = (
        "import sys; from vpc_verify.topology import loads, TopologyError\n"
        "try:\n    loads(sys.stdin.read(), source='deep.yaml')\nexcept TopologyError as e:\n    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], input=deep, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.startswith("deep.yaml")


def test_valid_document_roundtrips_through_yaml() -> None:
    topo = loads(yaml.safe_dump(VALID))
    assert [e.name for e in topo.endpoints] == ["sqs", "web"]
