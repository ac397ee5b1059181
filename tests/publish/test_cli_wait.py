"""`check --wait`, the post-deploy smoke test, against a box endpoint that only starts answering after a delay."""

from __future__ import annotations

import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.testbed.cli import run_cli

pytestmark = [pytest.mark.netns, pytest.mark.slow]


def wait(box: Any, tmp_path: Path, seconds: float) -> tuple[subprocess.CompletedProcess[str], float, Path]:
    junit = tmp_path / "junit.xml"
    start = time.monotonic()
    done = run_cli(
        "check",
        "-t",
        str(box.write_topology()),
        "--wait",
        str(seconds),
        "--junit",
        str(junit),
        "--log-level",
        "error",
        timeout=seconds + 60,
    )
    return done, time.monotonic() - start, junit


def late_box(testbed_factory: Callable[[dict[str, Any]], Any], delay_ms: int) -> Any:
    return testbed_factory(
        {
            "slow_ms": delay_ms,
            "timeout_ms": 1000,
            "endpoints": [
                {
                    "name": "billing",
                    "type": "service",
                    "dns_name": "billing.internal.example.com",
                    "addresses": ["10.0.1.10"],
                    "fault": "late",
                }
            ],
        }
    )


def test_wait_until_a_late_endpoint_is_healthy(
    testbed_factory: Callable[[dict[str, Any]], Any], tmp_path: Path
) -> None:
    done, elapsed, junit = wait(late_box(testbed_factory, 3000), tmp_path, 30)
    assert done.returncode == 0, done.stderr
    assert 2.5 < elapsed < 20
    progress = [x for x in done.stderr.splitlines() if "attempt" in x]
    assert any("waiting for billing (TCP_REFUSED)" in x for x in progress), done.stderr
    assert "all 1 endpoints healthy" in progress[-1]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"


def test_wait_runs_out_of_time_with_exit_1(testbed_factory: Callable[[dict[str, Any]], Any], tmp_path: Path) -> None:
    done, elapsed, junit = wait(late_box(testbed_factory, 60_000), tmp_path, 3)
    assert done.returncode == 1, done.stderr
    assert elapsed < 12
    assert "out of time" in done.stderr
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
