"""Run the CLI as users do: the installed `vpc-verify` console script, in a child process.

Never `python -m vpc_verify`: the console script is what `pip install` gives users (its entry point, its
shebang, its import of the installed package), and only running it tests that.
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
from collections.abc import Mapping
from pathlib import Path


def executable(scripts_dir: str | Path | None = None) -> Path:
    """The `vpc-verify` console script of this interpreter's environment (or of `scripts_dir`)."""
    path = Path(scripts_dir or sysconfig.get_path("scripts")) / "vpc-verify"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install the project (bash scripts/setup)")
    return path


def _environment(env: Mapping[str, str] | None, inherit_env: bool) -> dict[str, str]:
    return {**(os.environ if inherit_env else {}), **(env or {}), **_coverage()}


def _coverage() -> dict[str, str]:
    """When this process measures coverage (scripts/test), the CLI it starts is measured too: coverage's own
    start-up hook (a .pth file in the venv) reads COVERAGE_PROCESS_START, and the data is combined at the end."""
    try:
        import coverage
    except ImportError:
        return {}
    current = coverage.Coverage.current()
    config_file = current.config.config_file if current is not None else None
    return {"COVERAGE_PROCESS_START": str(Path(config_file).resolve())} if config_file else {}


def run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    inherit_env: bool = True,
    timeout: float = 60.0,
    cwd: str | Path | None = None,
    scripts_dir: str | Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`vpc-verify ARGS...` to completion, output captured as text.

    `env` is laid over this process's environment, or is the whole environment with `inherit_env=False`.
    """
    return subprocess.run(
        [str(executable(scripts_dir)), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=_environment(env, inherit_env),
    )


def start_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    inherit_env: bool = True,
    cwd: str | Path | None = None,
) -> subprocess.Popen[str]:
    """`vpc-verify ARGS...` started in the background (the agent loop), stdout and stderr piped as text."""
    return subprocess.Popen(
        [str(executable()), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=_environment(env, inherit_env),
    )
