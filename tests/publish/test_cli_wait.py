"""`check --wait` against a testbed endpoint that becomes healthy after a delay (inside `unshare -rn`)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.publish.minibox import unshare_available

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not unshare_available(), reason="needs `unshare -rn` (user namespaces)")


def _drive(tmp_path: Path, *args: str) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run(["unshare", "-rn", sys.executable, "-m", "tests.publish.minibox", *args,
                           "--workdir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("DRIVER ")]
    assert lines, proc.stderr[-3000:]
    return json.loads(lines[-1][7:])  # type: ignore[no-any-return]


def test_wait_until_a_late_endpoint_is_healthy(tmp_path: Path) -> None:
    out = _drive(tmp_path, "wait", "--delay", "3", "--wait", "30")
    assert out["rc"] == 0, out
    assert 2.5 < out["elapsed"] < 20
    progress = [x for x in out["stderr"].splitlines() if "attempt" in x]
    assert any("waiting for billing (TCP_REFUSED)" in x for x in progress), out["stderr"]
    assert "all 1 endpoints healthy" in progress[-1]
    suite = ET.fromstring(out["junit"]).find("testsuite")
    assert suite is not None and suite.get("failures") == "0"


def test_wait_runs_out_of_time_with_exit_1(tmp_path: Path) -> None:
    out = _drive(tmp_path, "wait", "--delay", "60", "--wait", "3")
    assert out["rc"] == 1, out
    assert out["elapsed"] < 12
    assert "out of time" in out["stderr"]
    suite = ET.fromstring(out["junit"]).find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
