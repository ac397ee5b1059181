"""`vpc-verify check`: run every check of a topology once and report."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from vpc_verify import topology as topology_mod
from vpc_verify.errors import UsageError
from vpc_verify.logs import configure as configure_logs
from vpc_verify.ranges import CONCURRENCY_RANGE, SECONDS_RANGE
from vpc_verify.run import DEFAULT_CONCURRENCY, DEFAULT_DEADLINE_S, RunOptions, run


def register(sub: Any) -> None:
    """Add the `check` subcommand."""
    p = sub.add_parser(
        "check",
        help="check every endpoint of a topology and report (exit 0 healthy, 1 unhealthy)",
        description="Resolve every endpoint's names, classify the answers, probe every address "
        "(TCP -> TLS -> HTTP) and report findings with evidence and fix hints.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 healthy, 1 unhealthy, 2 usage or configuration error",
    )
    p.add_argument(
        "-t",
        "--topology",
        default=os.environ.get("VPC_VERIFY_TOPOLOGY"),
        help="topology file (default: $VPC_VERIFY_TOPOLOGY)",
    )
    p.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table for people (default), json for machines (docs/report.md)",
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="check only this endpoint (repeat, or comma-separate)",
    )
    p.add_argument(
        "--deadline",
        type=_positive,
        default=DEFAULT_DEADLINE_S,
        metavar="SECONDS",
        help=f"the whole run's deadline (default {DEFAULT_DEADLINE_S:g})",
    )
    p.add_argument(
        "--concurrency",
        type=CONCURRENCY_RANGE.cli_type(),
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"probes in flight at most (default {DEFAULT_CONCURRENCY})",
    )
    p.add_argument(
        "--log-level",
        default=None,
        choices=("debug", "info", "warning", "error"),
        help="stderr log level (default: info when stderr is not a terminal, warning on one)",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    p.add_argument(
        "--no-aws",
        action="store_true",
        help="skip the AWS control-plane comparison even when the topology names vpc.id",
    )
    p.add_argument(
        "--subnet-id",
        default=None,
        help="the agent's subnet, for security group and route checks (default: instance metadata)",
    )
    p.add_argument("--az", default=None, help="the agent's availability zone (default: instance metadata)")
    add_output_arguments(p)
    p.add_argument(
        "--wait",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="re-run until every endpoint is healthy or SECONDS have passed (progress on stderr); "
        "exit 0 as soon as healthy, 1 when time runs out",
    )
    p.set_defaults(handler=handle)


def add_output_arguments(p: argparse.ArgumentParser) -> None:
    """The publishing and report-file flags (shared with `vpc-verify agent`)."""
    p.add_argument(
        "--publish",
        choices=("cloudwatch", "emf", "none"),
        default="none",
        help="send the run's metrics: cloudwatch (PutMetricData), emf (Embedded Metric Format lines "
        "on stdout, or stderr with --format json), none (default)",
    )
    p.add_argument("--namespace", default="VpcVerify", help="CloudWatch namespace (default VpcVerify)")
    p.add_argument(
        "--per-address-metrics",
        action="store_true",
        help="also publish latency per address (dimensions Address, AZ: more billed metrics)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the datums that would be published, their count and the PutMetricData calls; send nothing",
    )
    p.add_argument("--junit", default=None, metavar="FILE", help="also write a JUnit XML report to FILE")
    p.add_argument("--output", default=None, metavar="FILE", help="also write the JSON report to FILE")


_positive = SECONDS_RANGE.cli_type()  # finite, above 0, at most a day: nan and inf are refused


def load_topology(args: argparse.Namespace) -> topology_mod.Topology:
    """The topology named on the command line, narrowed by --only."""
    if not args.topology:
        raise UsageError("no topology: pass --topology FILE or set VPC_VERIFY_TOPOLOGY")
    topo = topology_mod.load(args.topology)
    only = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    return topo.only(only) if only else topo


def handle(args: argparse.Namespace) -> int:
    """Run once, print the report, return its exit code."""
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    configure_logs(args.log_level or ("warning" if sys.stderr.isatty() else "info"))
    topo = load_topology(args)
    agent: dict[str, Any] = {"mode": "cli"}
    control_plane: Any = None
    if topo.vpc.id and not args.no_aws:
        from vpc_verify.aws.compare import for_cli

        control_plane, place = for_cli(subnet_id=args.subnet_id, az=args.az, partial=bool(args.only))
        agent.update(place)
    options = RunOptions(
        concurrency=args.concurrency, deadline_s=args.deadline, agent=agent, control_plane=control_plane
    )
    if args.wait is not None:
        from dataclasses import replace

        from vpc_verify.wait import run_until_healthy

        report = run_until_healthy(
            lambda deadline: run(topo, replace(options, deadline_s=deadline)),
            args.wait,
            run_deadline_s=args.deadline,
            progress=_progress,
        ).report
    else:
        report = run(topo, options)
    if args.format == "json":
        from vpc_verify.publish import jsonreport

        sys.stdout.write(jsonreport.render(report))
    else:
        from vpc_verify.publish import table

        sys.stdout.write(table.render(report, color=sys.stdout.isatty()))
    from vpc_verify.commands.outputs import write_outputs

    write_outputs(report, args, side=sys.stderr if args.format == "json" else sys.stdout)
    return report.exit_code


def _progress(line: str) -> None:
    print(f"vpc-verify: {line}", file=sys.stderr, flush=True)
