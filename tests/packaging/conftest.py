"""What users install, built once per session: the sdist and the wheel (from that sdist), and fresh venvs
holding nothing but the wheel (with or without the `aws` extra) and its dependencies.

The tests have no route out, so dependencies come from the wheelhouse scripts/setup fills
(VPC_VERIFY_WHEELHOUSE_PY, default ~/.cache/vpc-verify/wheelhouse), and the build runs without isolation
with the setuptools of this venv. The build reads a copy of the files git knows (tracked, or new and not
ignored): nothing a developer left in the work tree (build/, *.egg-info) can hide a missing file, and the
tree is left as it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.testbed.cli import run_cli
from tests.testbed.emulator import FAKE_ENV

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def git_files(*pathspecs: str) -> list[str]:
    """Files git knows under `pathspecs` (tracked or new and not ignored) that exist in the work tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *pathspecs],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    return sorted({p for p in listed if p and (ROOT / p).is_file()})


def wheelhouse() -> Path:
    """The dependency wheels scripts/setup downloaded."""
    path = Path(os.environ.get("VPC_VERIFY_WHEELHOUSE_PY") or Path.home() / ".cache" / "vpc-verify" / "wheelhouse")
    if not any(path.glob("*.whl")):
        pytest.fail(f"no dependency wheels in {path}: run `bash scripts/setup`, which fills it")
    return path


@dataclass(frozen=True, slots=True)
class Dist:
    """The built artifacts."""

    sdist: Path
    wheel: Path

    def wheel_names(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as zf:
            return zf.namelist()

    def sdist_names(self) -> list[str]:
        with tarfile.open(self.sdist) as tf:
            return tf.getnames()


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """`python -m build`: the sdist from a copy of the tree, then the wheel from that sdist."""
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    for rel in git_files():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    out = work / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Dist(sdist=sdist, wheel=wheel)


@dataclass(frozen=True, slots=True)
class Venv:
    """A fresh virtual environment (no system site packages) with the project installed from its wheel."""

    path: Path
    home: Path

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """A clean environment: no variable of this test process leaks in, only fake AWS credentials."""
        return {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            **FAKE_ENV,
            **(extra or {}),
        }

    def cli(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """This venv's `vpc-verify` console script, in a clean environment, run from its home directory."""
        return run_cli(
            *args, env=self.env(env), inherit_env=False, scripts_dir=self.bin, cwd=self.home, timeout=timeout
        )

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        """Python code in this venv (isolated mode: no user site, no PYTHON* variables)."""
        return subprocess.run(
            [str(self.bin / "python"), "-I", "-c", code],
            capture_output=True,
            text=True,
            cwd=self.home,
            env=self.env(),
            timeout=60,
        )


def _fresh_venv(path: Path, requirement: str) -> Venv:
    venv.EnvBuilder(system_site_packages=False, clear=True, with_pip=False).create(path)
    # This venv's pip installs into the fresh one (`--python`): the same files `pip install` would put
    # there, without bootstrapping a pip of its own, offline, from the wheelhouse only.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(path / "bin" / "python"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-index",
            "--find-links",
            str(wheelhouse()),
            requirement,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    home = path.parent / f"{path.name}-home"
    home.mkdir()
    return Venv(path=path, home=home)


@pytest.fixture(scope="session")
def core_venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """`pip install vpc-verify`: the wheel and its required dependencies, no boto3."""
    return _fresh_venv(tmp_path_factory.mktemp("venvs") / "core", str(dist.wheel))


@pytest.fixture(scope="session")
def aws_venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """`pip install 'vpc-verify[aws]'`: the control plane and CloudWatch publishing too."""
    return _fresh_venv(tmp_path_factory.mktemp("venvs") / "aws", f"{dist.wheel}[aws]")
