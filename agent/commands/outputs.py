"""What `check` does with a report: publish it, print it, write the report files, print a dry run.

Publishing comes first, so the printed report carries what publishing found (TELEMETRY_PATH_*, PUBLISH_FAILED);
metrics that cannot be sent are said loudly on stderr and in the exit code (4 when the report is otherwise
healthy), never a lost run. A file that cannot be written is a warning on stderr and a log line.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from vpc_verify.logs import get_logger

if TYPE_CHECKING:
    from vpc_verify import publishing
    from vpc_verify.publish.config import SinkConfig
    from vpc_verify.report import Report
    from vpc_verify.topology import Topology
# Each renderer, the publishing code and the file writer are imported by the output that uses them: a run prints
# one format and most publish nothing (every renderer and the sinks were 12 ms after the sweep).

EXIT_PUBLISH_FAILED = 4  # the checks ran and the report stands, healthy, but its metrics were not published


def print_report(report: Report, form: str, *, pretty: bool = False) -> None:
    """The report on stdout: JSON for machines (compact unless on a terminal or `pretty`), Markdown for a CI
    summary, the table for people (coloured on a terminal)."""
    if form == "json":
        from vpc_verify.render import jsonreport

        jsonreport.write(report, sys.stdout, pretty=pretty or sys.stdout.isatty())
    elif form == "markdown":
        from vpc_verify.render import markdown

        sys.stdout.write(markdown.render(report))
    else:
        from vpc_verify.render import table

        sys.stdout.write(table.render(report, color=sys.stdout.isatty()))


def publish_report(
    report: Report, config: SinkConfig, topology: Topology, args: argparse.Namespace, *, side: TextIO
) -> publishing.Publication | None:
    """Publish (unless --dry-run or --publish none): the report gains the findings about publishing it, and a
    failure is said on stderr. `side` takes EMF lines."""
    if args.dry_run or config.name == "none":
        return None
    from vpc_verify import publishing
    from vpc_verify.publish import sink as sinks

    publication = publishing.publish(
        report,
        sinks.make(config, region=report.region, stream=side),
        config,
        resolver=topology.resolver,
        cidrs=topology.vpc.cidrs,
        mode="cli",
    )
    if publication.failed:
        print(
            f"vpc-verify: error: publishing metrics ({config.name}) failed: {publication.outcome.error}; the report "
            f"stands (PUBLISH_FAILED; exit {EXIT_PUBLISH_FAILED} when it is otherwise healthy)",
            file=sys.stderr,
        )
    return publication


def write_outputs(report: Report, config: SinkConfig, args: argparse.Namespace, *, side: TextIO) -> None:
    """Write --output/--junit files and print --dry-run; `side` takes the dry-run text."""
    if args.output:
        from vpc_verify.render import jsonreport

        _write(args.output, jsonreport.render(report, pretty=getattr(args, "pretty", False)), "JSON report")
    if args.junit:
        from vpc_verify.render import junit

        _write(args.junit, junit.render(report), "JUnit report")
    if getattr(args, "summary", None):
        from vpc_verify.render import markdown

        _append(args.summary, markdown.render(report), "Markdown summary")
    if args.dry_run:
        from vpc_verify.publish.metrics import from_report
        from vpc_verify.render import dry_run

        datums = from_report(report, per_address=config.per_address, metrics=config.metrics)
        side.write(dry_run.render(datums, config.namespace, metrics=config.metrics))
        side.flush()


def exit_code(report: Report, publication: publishing.Publication | None) -> int:
    """The report's exit code (0 healthy, 1 unhealthy), or 4 when it is healthy but was not published."""
    code = report.exit_code
    if code == 0 and publication is not None and publication.failed:
        return EXIT_PUBLISH_FAILED
    return code


def _write(path: str, text: str, what: str) -> None:
    from vpc_verify.publish.files import write_atomic

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
