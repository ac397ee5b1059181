"""What the CLI and the Lambda handler import before their first DNS packet (issue 14: start to first packet).

The installed program runs in a child process with `socket.connect` replaced by a recorder that stops it
before anything is sent: the modules loaded by then are what every run pays for before its first probe.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Needed only after the sweep (publishing, judging, logging's renderers, the report's model and JSON, the
# control plane's read and AWS's model) or for another command, an HTTP phase or a topology error.
AFTER_THE_FIRST_PACKET = (
    "vpc_verify.report",
    "vpc_verify.findings",
    "vpc_verify.aws.control_plane",
    "vpc_verify.aws.model",
    "vpc_verify.aws.whereami",
    "vpc_verify.publish.sink",
    "vpc_verify.publish.cloudwatch",
    "vpc_verify.publish.emf",
    "vpc_verify.publish.metrics",
    "vpc_verify.judge",
    "vpc_verify.checks.http",
    "structlog",
    "importlib.resources",
    "zipfile",
    "difflib",
    "boto3",
    "pathlib",  # only for a relative ca_bundle or an unusual Lambda topology path
    "shutil",  # argparse's, for the terminal's width: vpc_verify.cli.Parser gives it
    "random",  # the Lambda's start jitter
    "vpc_verify.redact",  # the log lines' processor, with structlog
)
# The Lambda handler parses no command line.
NOT_IN_LAMBDA = ("argparse", "gettext")

RECORDER = """
import os, socket, sys
def first_packet(self, *args):
    print(" ".join(sorted(sys.modules)), file=sys.stderr)
    os._exit(0)
socket.socket.connect = first_packet
"""

CLI = (
    RECORDER
    + """
import runpy
sys.argv = ["vpc-verify", "check", "-t", sys.argv[1], "--log-level", "error"]
runpy.run_module("vpc_verify", run_name="__main__")
"""
)

LAMBDA = (
    RECORDER
    + """
os.environ.update(VPC_VERIFY_TOPOLOGY_FILE=sys.argv[1], VPC_VERIFY_PUBLISH="none", VPC_VERIFY_AWS="false")
sys.path.insert(0, {lambda_dir!r})
import handler
class Context:
    aws_request_id = "test"
    def get_remaining_time_in_millis(self): return 60000
handler.handler({{}}, Context())
"""
)


@pytest.mark.parametrize("shell", ["cli", "lambda", "cli_with_aws"])
def test_nothing_needed_later_is_imported_before_the_first_packet(shell: str, tmp_path: Path) -> None:
    # With a vpc.id the CLI reads the control plane, in a thread started after its first DNS question.
    vpc = "{id: vpc-0123456789abcdef0, cidrs: [10.0.0.0/16]}" if shell == "cli_with_aws" else "{cidrs: [10.0.0.0/16]}"
    topology = tmp_path / "topology.yaml"
    topology.write_text(
        f"version: 1\nregion: us-east-1\nvpc: {vpc}\n"
        "resolver: {nameservers: [127.0.0.1], timeout_ms: 200}\n"
        "endpoints:\n  - {name: sts, service: com.amazonaws.us-east-1.sts, addresses: [10.0.1.10]}\n"
    )
    code = LAMBDA.format(lambda_dir=str(ROOT / "lambda")) if shell == "lambda" else CLI
    done = subprocess.run(
        [sys.executable, "-c", code, str(topology)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded = set(done.stderr.strip().splitlines()[-1].split())
    assert "vpc_verify.checks.dns" in loaded  # the recorder stopped the run at its first question
    later = AFTER_THE_FIRST_PACKET + (NOT_IN_LAMBDA if shell == "lambda" else ())
    early = sorted(m for m in loaded if m.split(".")[0] in later or m in later)
    assert early == [], f"imported before the first packet: {early}"
