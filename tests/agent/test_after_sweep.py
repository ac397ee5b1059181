"""What a whole CLI run imports after its sweep (issue 14: CPU per check at N = 1,000, where 60 ms of imports
after the sweep was 0.03 ms a check): only what the run uses.

The installed program runs to its end in a child process; at exit it prints the modules it loaded. The
topology's resolver is a closed port on loopback, so every check ends at once (a DNS finding) and is judged.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.schemas import load_report

RUNNER = """
import atexit, runpy, sys
atexit.register(lambda: print("MODULES " + " ".join(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["vpc-verify", "check", *sys.argv[1:]]
runpy.run_module("vpc_verify", run_name="__main__")
"""

# A run without a control plane (no vpc id, or --no-aws) that prints JSON and publishes nothing.
NOT_USED = (
    "vpc_verify.aws.model",
    "vpc_verify.aws.control_plane",
    "vpc_verify.aws.whereami",
    "vpc_verify.evaluate.path",
    "vpc_verify.evaluate.routes",
    "vpc_verify.evaluate.security_groups",
    "vpc_verify.evaluate.nacl",
    "vpc_verify.evaluate.dns_path",
    "vpc_verify.render.table",
    "vpc_verify.render.markdown",
    "vpc_verify.render.junit",
    "vpc_verify.render.dry_run",
    "vpc_verify.publishing",
    "vpc_verify.publish.sink",
    "vpc_verify.publish.files",
    "vpc_verify.publish.metrics",
    "boto3",
)


def _run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    topology = tmp_path / "topology.yaml"
    topology.write_text(
        "version: 1\nregion: us-east-1\nvpc: {cidrs: [10.0.0.0/16]}\n"
        "resolver: {nameservers: [127.0.0.1], port: 9, timeout_ms: 200}\n"
        "endpoints:\n  - {name: sts, service: com.amazonaws.us-east-1.sts, addresses: [10.0.1.10]}\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, "-t", str(topology), "--format", "json", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = done.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("MODULES "), done.stderr
    return done, set(lines[-1].split()[1:])


def test_a_run_without_aws_at_log_level_error_imports_no_aws_model_no_other_renderer_and_no_structlog(
    tmp_path: Path,
) -> None:
    done, loaded = _run(tmp_path, "--log-level", "error")
    report = load_report(done.stdout)
    assert [e["name"] for e in report["endpoints"]] == ["sts"]
    assert report["endpoints"][0]["findings"]  # judged: the resolver did not answer
    assert "vpc_verify.judge" in loaded and "vpc_verify.render.jsonreport" in loaded
    used = sorted(m for m in loaded if m in NOT_USED or m.split(".")[0] in NOT_USED or m == "structlog")
    assert used == []
    assert done.stderr.strip().splitlines()[:-1] == []  # no log line at this level


def test_the_canonical_lines_are_written_when_the_level_admits_them(tmp_path: Path) -> None:
    done, loaded = _run(tmp_path, "--log-level", "info")
    assert "structlog" in loaded
    lines = [json.loads(line) for line in done.stderr.strip().splitlines()[:-1]]
    events = [line["event"] for line in lines]
    assert events == ["endpoint_checked", "run_finished"]
    assert lines[0]["endpoint"] == "sts" and lines[0]["level"] == "info" and lines[0]["healthy"] is False
    assert lines[1]["endpoints"] == 1 and lines[1]["unhealthy"] == 1
    assert "vpc_verify.aws.model" not in loaded
