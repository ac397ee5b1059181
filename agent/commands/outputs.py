"""What `check` does with a report: print it, write the report files, print a dry run, publish.

Every step after printing leaves the exit code alone: a file that cannot be written or metrics that cannot be
sent are a warning on stderr and a log line, never a lost run.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from vpc_verify.logs import get_logger
from vpc_verify.publish import sink as sinks
from vpc_verify.publish.files import write_atomic
from vpc_verify.publish.metrics import from_report
from vpc_verify.publish.sink import Outcome, SinkConfig
from vpc_verify.render import dry_run, jsonreport, junit, markdown, table
from vpc_verify.report import Report


def print_report(report: Report, form: str, *, pretty: bool = False) -> None:
    """The report on stdout: JSON for machines (compact unless on a terminal or `pretty`), Markdown for a CI
    summary, the table for people (coloured on a terminal)."""
    if form == "json":
        jsonreport.write(report, sys.stdout, pretty=pretty or sys.stdout.isatty())
    elif form == "markdown":
        sys.stdout.write(markdown.render(report))
    else:
        sys.stdout.write(table.render(report, color=sys.stdout.isatty()))


def write_outputs(report: Report, config: SinkConfig, args: argparse.Namespace, *, side: TextIO) -> Outcome | None:
    """Write --output/--junit files, print --dry-run, publish; `side` takes EMF and dry-run text."""
    if args.output:
        _write(args.output, jsonreport.render(report, pretty=getattr(args, "pretty", False)), "JSON report")
    if args.junit:
        _write(args.junit, junit.render(report), "JUnit report")
    if getattr(args, "summary", None):
        _append(args.summary, markdown.render(report), "Markdown summary")
    if args.dry_run:
        side.write(dry_run.render(from_report(report, per_address=config.per_address), config.namespace))
        side.flush()
        return None
    if config.name == "none":
        return None
    outcome = sinks.publish(
        report, sinks.make(config, region=report.region, stream=side), per_address=config.per_address
    )
    if not outcome.ok:
        print(
            f"vpc-verify: warning: publishing metrics ({config.name}) failed: {outcome.error}; the report above stands",
            file=sys.stderr,
        )
    return outcome


def _write(path: str, text: str, what: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as exc:
        get_logger().error("report_file_failed", path=path, what=what, error=str(exc))
        print(f"vpc-verify: warning: could not write the {what} to {path}: {exc}", file=sys.stderr)


def _append(path: str, text: str, what: str) -> None:
    # A job summary file is shared by the step's commands (GitHub appends each one's part): append, never replace.
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        get_logger().error("report_file_failed", path=path, what=what, error=str(exc))
        print(f"vpc-verify: warning: could not append the {what} to {path}: {exc}", file=sys.stderr)
