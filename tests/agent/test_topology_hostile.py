"""Hostile and broken topology input: every input gives a Topology or a TopologyError, never anything else.

The CLI tests run `vpc-verify` in a child under resource limits (`resource.setrlimit`: data segment
`MEMORY_LIMIT`, CPU time), as a user's shell would: an input that overflows the C stack, eats memory or
hangs shows up as a signal, a MemoryError ("internal error", exit 3) or a timeout, not as a passing test.
The documented bound is about a second and well under 200 MB for any input up to MAX_FILE_BYTES; the limits
here leave room for a loaded CI machine.
"""

from __future__ import annotations

import contextlib
import json
import resource
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


# ------------------------------------------------------------------------------------------ the CLI, limited

MEMORY_LIMIT = 200 * 1024 * 1024
CPU_LIMIT_S = 20
WALL_LIMIT_S = 8.0  # measured ~0.3-1.4 s each on a 2-core machine; the rest is headroom for a loaded CI


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_DATA, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT_S, CPU_LIMIT_S))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def cli_limited(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "vpc_verify", *args],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limits,
    )
    return done, time.monotonic() - start


def assert_one_line_configuration_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr[-800:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vpc-verify"), done.stderr[-800:]
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    for word in words:
        assert word in lines[0], lines[0]


REPRODUCTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    # name: (file text, words the one-line error must hold)
    "block sequences 100,000 deep": ("version: 1\nendpoints:\n" + "- " * 100_000 + "x\n", ("nested at most", "line 3")),
    "complex keys 100,000 deep": ("version: 1\nendpoints:\n" + "? " * 100_000 + "x\n", ("nested at most", "line 3")),
    "flow brackets 100,000 deep": ("version: 1\nendpoints: " + "[" * 100_000 + "]" * 100_000 + "\n", ("line 2",)),
    "a flow list of 1.9 million items": ("version: 1\nendpoints: [" + "1," * 1_900_000 + "1]\n", ("values", "line 2")),
    "the same list anchored": ("version: 1\nendpoints: &e [" + "1," * 1_900_000 + "1]\n", ("values", "line 2")),
    "200,000 distinct keys": (
        "version: 1\nx: {" + ",".join(f"k{i}: 1" for i in range(199_000)) + "}\nendpoints: []\n",
        ("values", "line 2"),
    ),
    "ten thousand aliases": ("version: 1\na: &a [1]\nendpoints: [" + "*a," * 10_000 + "*a]\n", ("aliases",)),
    "a NUL byte in ca_bundle": (
        "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [a.example], "
        'tls: {ca_bundle: "/tmp/ca\\0.pem"}}\n',
        ("endpoints[0].tls.ca_bundle", "printable", "\\x00"),
    ),
    "endpoints twice": (
        "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [a.example]}\nendpoints: []\n",
        ("endpoints", "line 2 and again at line 4"),
    ),
    "no endpoints": ("version: 1\nendpoints: []\n", ("endpoints", "allow_empty")),
    "a 5,000-digit port": (
        "version: 1\nendpoints: [{name: a, type: service, dns_names: [a.example], port: " + "9" * 5000 + "}]\n",
        ("endpoints[0].port", "line 2"),
    ),
}


@pytest.mark.parametrize("command", ["validate", "check"])
@pytest.mark.parametrize("case", sorted(REPRODUCTIONS))
def test_reproductions_end_in_one_line_and_exit_2(tmp_path: Path, case: str, command: str) -> None:
    text, words = REPRODUCTIONS[case]
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    args = ["validate", str(path)] if command == "validate" else ["check", "-t", str(path), "--no-aws"]
    done, elapsed = cli_limited(*args)
    assert_one_line_configuration_error(done, str(path), *words)
    assert elapsed < WALL_LIMIT_S, elapsed


@pytest.mark.parametrize("command", ["validate", "check"])
@pytest.mark.parametrize("problem", ["directory", "empty file", "no PEM certificate"])
def test_an_unloadable_trust_store_is_exit_2_before_any_packet(tmp_path: Path, command: str, problem: str) -> None:
    bundle = tmp_path / "ca.pem"
    if problem == "directory":
        bundle.mkdir()
    elif problem == "empty file":
        bundle.write_bytes(b"")
    else:
        bundle.write_text("not a certificate\n")
    path = tmp_path / "t.yaml"
    path.write_text(
        "version: 1\nresolver: {nameservers: [127.0.0.1], port: 9}\nendpoints:\n"
        f"  - {{name: a, type: service, dns_names: [a.example], tls: {{ca_bundle: {bundle}}}}}\n"
    )
    args = ["validate", str(path)] if command == "validate" else ["check", "-t", str(path), "--no-aws"]
    done, _ = cli_limited(*args)
    assert_one_line_configuration_error(done, "endpoints[0].tls.ca_bundle")
    assert done.stdout == ""  # no report: nothing was sent


@pytest.mark.parametrize("command", ["validate", "check"])
def test_dev_zero_is_refused_at_the_size_limit(command: str) -> None:
    args = ["validate", "/dev/zero"] if command == "validate" else ["check", "-t", "/dev/zero", "--no-aws"]
    done, elapsed = cli_limited(*args)
    assert_one_line_configuration_error(done, "/dev/zero", f"at most {MAX_FILE_BYTES} bytes")
    assert elapsed < WALL_LIMIT_S


@pytest.mark.parametrize("flag", ["--deadline", "--wait", "--concurrency"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "1e400", "x", "1.5e3x"])
def test_numbers_on_the_command_line_are_validated_like_the_files(tmp_path: Path, flag: str, value: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [a.example]}\n")
    done = subprocess.run(
        [sys.executable, "-m", "vpc_verify", "check", "-t", str(path), f"{flag}={value}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"argument {flag}: expected " in done.stderr and "Traceback" not in done.stderr


# Pieces of YAML that stress a loader: nesting in every syntax, anchors and aliases, merge keys, tags, odd
# scalars; repeated up to 100,000 times in a row.
_PIECES = [
    "- ",
    "? ",
    ": ",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "\n",
    "  ",
    "&a ",
    "*a",
    "&b ",
    "*b",
    "<<: ",
    "!!set ",
    "!!map ",
    "!!python/object:os.system ",
    "a",
    "endpoints: ",
    "version: 1\n",
    "'q'",
    '"\\x00"',
    "~",
    ".nan",
    "1e400",
    "2001-02-30",
    "9" * 50,
    "|\n  x\n",
    "---\n",
    "%YAML 1.1\n",
    "\t",
    "#",
    "\ufeff",
    "\x85",
    "\x00",
]
_texts = st.lists(
    st.tuples(st.sampled_from(_PIECES), st.sampled_from([1, 1, 2, 3, 40, 1000, 100_000])), max_size=12
).map(lambda parts: "version: 1\nendpoints:\n" + "".join(piece * n for piece, n in parts))
_BATCH = (
    "import contextlib, io, json, sys\n"
    "from vpc_verify.cli import main\n"
    "for path in sys.argv[1:]:\n"
    "    err = io.StringIO()\n"
    "    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):\n"
    "        code = main(['validate', path])\n"
    "    print(json.dumps([code, err.getvalue()]), flush=True)\n"
)


def _run_batch(paths: list[Path]) -> list[tuple[int, str]]:
    done = subprocess.run(
        [sys.executable, "-c", _BATCH, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limits,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-800:])  # no signal, no MemoryError
    results = [tuple(json.loads(line)) for line in done.stdout.splitlines()]
    assert len(results) == len(paths)
    return results  # type: ignore[return-value]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_texts | st.binary(max_size=2000).map(lambda b: b.decode("latin-1")), min_size=1, max_size=25))
def test_the_cli_answers_any_generated_yaml_within_limits(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("gen")
    paths = []
    for i, text in enumerate(texts):
        path = folder / f"{i}.yaml"
        path.write_bytes(text.encode("utf-8", errors="surrogatepass")[: MAX_FILE_BYTES + 10])
        paths.append(path)
    for (code, err), path in zip(_run_batch(paths), paths, strict=True):
        assert code in (0, 2), (code, err[-500:])
        if code == 2:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"vpc-verify: error: {path}"), err[-500:]
            assert "internal error" not in err
