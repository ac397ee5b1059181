"""Importing the CLI, the run and every command must not import boto3 (docs/architecture.md: it costs ~200 ms)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cli_and_run_do_not_import_boto3() -> None:
    code = (
        "import sys\n"
        "import vpc_verify.cli, vpc_verify.run, vpc_verify.plan, vpc_verify.aws.control_plane\n"
        "import vpc_verify.aws.discover, vpc_verify.aws.read, vpc_verify.aws.whereami\n"
        "import vpc_verify.diagnose, vpc_verify.judge, vpc_verify.lambda_entry, vpc_verify.loop\n"
        "vpc_verify.cli.build_parser()\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore'))\n"
        "print(','.join(leaked))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
