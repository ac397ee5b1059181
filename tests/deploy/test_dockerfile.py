"""deploy/container/Dockerfile and scripts/build-rootfs stay in step: the script reads the Dockerfile and executes
each of its instructions (tests/packaging/test_container.py runs the result), refuses any it could not execute,
and the Dockerfile keeps the image small, non-root and free of secrets."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tomllib
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "container" / "Dockerfile"
SCRIPT = ROOT / "scripts" / "build-rootfs"


@pytest.fixture(scope="module")
def rootfs() -> ModuleType:
    """scripts/build-rootfs as a module (it has no .py suffix: it is a command)."""
    loader = SourceFileLoader("build_rootfs", str(SCRIPT))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    sys.modules[loader.name] = module  # its dataclasses look their module up
    loader.exec_module(module)
    return module


def instruction_lines() -> list[str]:
    """The Dockerfile's instructions counted independently of the script: lines that start with a keyword."""
    return [line for line in DOCKERFILE.read_text().splitlines() if re.match(r"[A-Z]+ ", line)]


def test_the_script_executes_every_instruction_of_the_dockerfile(rootfs: ModuleType) -> None:
    instructions = rootfs.parse(DOCKERFILE.read_text())
    assert [i.keyword for i in instructions] == [line.split()[0] for line in instruction_lines()]
    assert {i.keyword for i in instructions} <= set(rootfs.KNOWN)
    base, rest = rootfs.split_base(instructions)
    assert base[0].keyword == "FROM" and rest[0].keyword == "COPY"
    assert [i.keyword for i in base].count("RUN") >= 1  # the apt layer is the cached one


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("FROM debian:bookworm-slim\nADD https://example.com/x /x\n", "ADD is not an instruction"),
        ("FROM debian:bookworm-slim\nARG VERSION\n", "ARG is not an instruction"),
        ("FROM debian:bookworm-slim AS build\nFROM debian:bookworm-slim\n", "one stage only"),
        ("RUN true\n", "the first instruction must be FROM"),
        ("FROM debian:bookworm-slim\nRUN true \\\n", "ends inside a continued instruction"),
    ],
)
def test_an_instruction_the_script_cannot_execute_is_refused(rootfs: ModuleType, text: str, why: str) -> None:
    with pytest.raises(rootfs.BuildError, match=why) as caught:
        rootfs.parse(text)
    assert caught.value.usage


def test_the_cache_key_covers_the_base_layers_only(rootfs: ModuleType) -> None:
    text = DOCKERFILE.read_text()
    key = rootfs.base_key(rootfs.split_base(rootfs.parse(text))[0])
    changed_base = text.replace("ca-certificates", "ca-certificates tzdata")
    changed_layer = text.replace("PYTHONUNBUFFERED=1", "PYTHONUNBUFFERED=0")
    assert rootfs.base_key(rootfs.split_base(rootfs.parse(changed_base))[0]) != key
    assert rootfs.base_key(rootfs.split_base(rootfs.parse(changed_layer))[0]) == key


def test_the_dockerignore_sends_the_wheel_and_nothing_else(rootfs: ModuleType) -> None:
    ignored = rootfs.dockerignore(ROOT)
    assert not ignored("dist/vpc_verify-0.1.0-py3-none-any.whl")
    for path in (".git/config", ".venv/bin/python", ".env", "secret.env", "agent/cli.py", "dist/other-1.0.tar.gz"):
        assert ignored(path), path


def test_the_image_is_small_non_root_and_holds_no_secret(rootfs: ModuleType) -> None:
    instructions = rootfs.parse(DOCKERFILE.read_text())
    by_keyword: dict[str, list[str]] = {}
    for ins in instructions:
        by_keyword.setdefault(ins.keyword, []).append(ins.args)
    assert re.fullmatch(r"debian:[a-z]+-slim", by_keyword["FROM"][0])
    (user,) = by_keyword["USER"]
    uid, gid = (int(part) for part in user.split(":"))  # numeric: runAsNonRoot can verify it
    assert uid >= 10000 and gid >= 10000
    runs = " ".join(by_keyword["RUN"])
    assert f"--uid {uid}" in runs and f"--gid {gid}" in runs
    assert "--no-install-recommends" in runs and "rm -rf /var/lib/apt/lists/*" in runs
    assert "pip install --no-cache-dir" in runs
    (entrypoint,) = by_keyword["ENTRYPOINT"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert json.loads(entrypoint) == ["vpc-verify"] and "vpc-verify" in scripts  # exec form: signals reach it
    assert by_keyword["HEALTHCHECK"] == ["NONE"]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    (wanted,) = re.findall(r"\[([a-z,]+)\]", runs)
    assert set(wanted.split(",")) <= set(extras)
    secrets = re.compile(r"SECRET|PASSWORD|TOKEN|AWS_ACCESS_KEY|AWS_SESSION|PRIVATE_KEY", re.IGNORECASE)
    for keyword in ("ENV", "LABEL", "RUN"):
        for args in by_keyword.get(keyword, []):
            assert not secrets.search(args), f"{keyword} {args}"
