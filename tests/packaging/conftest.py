"""What users install, built once per session: the sdist and the wheel (from that sdist), and fresh venvs
holding nothing but the wheel (with or without the `aws` extra) and its dependencies.

The tests have no route out, so dependencies come from the wheelhouse scripts/setup fills
(VPC_VERIFY_WHEELHOUSE_PY, default ~/.cache/vpc-verify/wheelhouse), and the build runs without isolation
with the setuptools of this venv. The build reads a copy of the files git knows (tracked, or new and not
ignored): nothing a developer left in the work tree (build/, *.egg-info) can hide a missing file, and the
tree is left as it was. Under pytest-xdist the first worker that needs an artifact builds it, under a lock, in
the run's shared temporary directory; the others use it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.testbed.cli import run_cli
from tests.testbed.emulator import FAKE_ENV

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# A box of one private service (no AWS): what an installed program is first run against.
ONE_SERVICE = {
    "endpoints": [
        {
            "name": "billing",
            "type": "service",
            "dns_name": "billing.internal.example.com",
            "addresses": ["10.0.1.10"],
        }
    ]
}


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


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """`build(directory)` once per test run, shared by every xdist worker; the directory."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if "PYTEST_XDIST_WORKER" in os.environ else base
    target = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".built").exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            build(target)
            (target / ".built").touch()
    return target


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """`python -m build`: the sdist from a copy of the tree, then the wheel from that sdist."""
    out = built_once(tmp_path_factory, "dist", _build)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Dist(sdist=sdist, wheel=wheel)


def _build(out: Path) -> None:
    work = out.parent / f"{out.name}-work"
    shutil.rmtree(work, ignore_errors=True)
    src = work / "src"
    for rel in git_files():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@dataclass(frozen=True, slots=True)
class Venv:
    """A fresh virtual environment (no system site packages) with the project installed from its wheel.

    Commands run from `home`, an empty directory of their own; tests write their files in their tmp_path.
    """

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


def fresh_venv(tmp_path_factory: pytest.TempPathFactory, name: str, requirement: str) -> Venv:
    """A venv with `requirement` installed offline, built once per test run."""
    path = built_once(tmp_path_factory, name, lambda p: _install(p / "venv", requirement)) / "venv"
    home = tmp_path_factory.mktemp(f"{name}-home")
    return Venv(path=path, home=home)


def _install(path: Path, requirement: str) -> None:
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


@pytest.fixture(scope="session")
def core_venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """`pip install vpc-verify`: the wheel and its required dependencies, no boto3."""
    return fresh_venv(tmp_path_factory, "venv-core", str(dist.wheel))


@pytest.fixture(scope="session")
def aws_venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """`pip install 'vpc-verify[aws]'`: the control plane and CloudWatch publishing too."""
    return fresh_venv(tmp_path_factory, "venv-aws", f"{dist.wheel}[aws]")
