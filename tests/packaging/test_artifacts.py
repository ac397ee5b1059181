"""The sdist and the wheel: complete, nothing else in them, metadata that PyPI accepts."""

from __future__ import annotations

import email.parser
import subprocess
import sys
import zipfile

from tests.packaging.conftest import PROJECT, Dist, git_files

DIST_INFO = f"vpc_verify-{PROJECT['version']}.dist-info"


def installed_name(source: str) -> str:
    """Where a source file of the tree lands in the wheel: agent/ is vpc_verify/, checks/ is vpc_verify/checks/."""
    top, rest = source.split("/", 1)
    return {"agent": "vpc_verify/", "checks": "vpc_verify/checks/"}[top] + rest


def test_twine_check_is_clean(dist: Dist) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dist.sdist), str(dist.wheel)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_wheel_holds_every_module_of_the_tree_and_nothing_else(dist: Dist) -> None:
    names = dist.wheel_names()
    sources = git_files("agent/*.py", "checks/*.py")
    assert {installed_name(p) for p in sources} == {n for n in names if n.endswith(".py")}
    assert "vpc_verify/py.typed" in names
    assert {n.split("/", 1)[0] for n in names} == {"vpc_verify", DIST_INFO}


def test_the_wheel_metadata(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as zf:
        metadata = email.parser.Parser().parsestr(zf.read(f"{DIST_INFO}/METADATA").decode())
        entry_points = zf.read(f"{DIST_INFO}/entry_points.txt").decode()
        licence = zf.read(f"{DIST_INFO}/licenses/LICENSE").decode()
    assert metadata["Name"] == "vpc-verify" and metadata["Version"] == PROJECT["version"]
    assert metadata["License-Expression"] == "Apache-2.0" and metadata["License-File"] == "LICENSE"
    assert metadata["Requires-Python"] == ">=3.11"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert sorted(metadata.get_all("Provides-Extra") or []) == sorted(PROJECT["optional-dependencies"])
    assert "vpc-verify = vpc_verify.cli:main" in entry_points
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence


def test_the_sdist_holds_what_the_wheel_is_built_from(dist: Dist) -> None:
    # The wheel fixture was built from this sdist (`python -m build`), so the build itself proves the sdist
    # sufficient; this names what must be there for a person reading it too.
    root = dist.sdist.name.removesuffix(".tar.gz")
    names = {n.removeprefix(f"{root}/") for n in dist.sdist_names()}
    assert {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO", "agent/py.typed"} <= names
    assert set(git_files("agent/*.py", "checks/*.py")) <= names
