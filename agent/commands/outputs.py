"""What `check` (and the agent loop) do with a report besides printing it: files, dry run, publishing.

Every step here runs after the report is printed and none of them changes the exit code: a file that
cannot be written or metrics that cannot be sent are a warning on stderr and a log line, never a lost run.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from vpc_verify.logs import get_logger
from vpc_verify.publish.dispatch import Outcome, dry_run_text, publish
from vpc_verify.publish.files import write_atomic
from vpc_verify.publish.metrics import from_report
from vpc_verify.report import Report


def write_outputs(report: Report, args: argparse.Namespace, *, side: TextIO) -> Outcome | None:
    """Write --output/--junit files, print --dry-run, publish by --publish; `side` takes EMF and dry-run text."""
    if args.output:
        from vpc_verify.publish import jsonreport

        _write(args.output, jsonreport.render(report), "JSON report")
    if args.junit:
        from vpc_verify.publish import junit

        _write(args.junit, junit.render(report), "JUnit report")
    if args.dry_run:
        datums = from_report(report, per_address=args.per_address_metrics)
        side.write(dry_run_text(datums, args.namespace))
        side.flush()
        return None
    if args.publish == "none":
        return None
    outcome = publish(report, args.publish, namespace=args.namespace, per_address=args.per_address_metrics, stream=side)
    if not outcome.ok:
        print(
            f"vpc-verify: warning: publishing metrics ({args.publish}) failed: {outcome.error}; "
            "the report above stands",
            file=sys.stderr,
        )
    return outcome


def _write(path: str, text: str, what: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as exc:
        get_logger().error("report_file_failed", path=path, what=what, error=str(exc))
        print(f"vpc-verify: warning: could not write the {what} to {path}: {exc}", file=sys.stderr)
