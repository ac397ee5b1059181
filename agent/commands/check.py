"""`vpc-verify check`: run every check of a topology once (or until it is healthy, `--wait`) and report.

Exit codes: vpc_verify.commands.exits (0 healthy, 1 unhealthy, 2 usage, 3 internal, 4 the control plane
could not be read and nothing else is wrong). When the control plane could not be read, one line on stderr
says why and which IAM action is missing, whatever the format of the report on stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vpc_verify import locations
from vpc_verify import plan as plan_mod
from vpc_verify import topology as topology_mod
from vpc_verify.commands.exits import EXIT_CODES, EXIT_UNHEALTHY
from vpc_verify.errors import UsageError
from vpc_verify.logs import configure as configure_logs
from vpc_verify.plan import DEFAULT_DEADLINE_S, Plan
from vpc_verify.publish.config import (
    DEFAULT_BUFFER_CAP,
    DEFAULT_METRIC_SET,
    DEFAULT_NAMESPACE,
    METRIC_SETS,
    SINK_NAMES,
    SinkConfig,
)
from vpc_verify.ranges import CONCURRENCY_RANGE, SECONDS_RANGE
from vpc_verify.run import DEFAULT_CONCURRENCY
from vpc_verify.topology.model import QUERIES_PER_SECOND_RANGE
from vpc_verify.wait import DEFAULT_HEALTHY_RUNS

if TYPE_CHECKING:
    from vpc_verify.fleet.resolve import Derived
    from vpc_verify.report import Report


def register(sub: Any) -> None:
    """Add the `check` subcommand."""
    p = sub.add_parser(
        "check",
        help="check every endpoint of a topology and report (exit 0 healthy, 1 unhealthy)",
        description="Resolve every endpoint's names, classify the answers, probe every address "
        "(TCP -> TLS -> HTTP) and report findings with evidence and fix hints. The endpoints come from a "
        "topology file (--topology); or from a fleet policy (--policy: what every VPC of a class must have, "
        "derived against what AWS reports about the VPC); or, with neither, from AWS alone: every endpoint the "
        "VPC vpc-verify runs in has (the zero-configuration first command on EC2 or in Lambda).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  vpc-verify check -t topology.yaml --subnet-id subnet-0abc --security-group-id sg-0abc\n"
        "  vpc-verify check -t topology.yaml --wait 300 --junit report.xml   # post-deploy smoke test\n"
        "  vpc-verify check                                   # on EC2 or in Lambda: every endpoint AWS reports\n"
        "  vpc-verify check --policy policy.yaml --vpc-id vpc-0123456789abcdef0 --region eu-west-1\n"
        "  vpc-verify check --policy ssm:/org/vpc-verify/policy   # the policy shared with the organization\n\n"
        + EXIT_CODES,
    )
    add_topology_arguments(p)
    add_policy_arguments(p)
    p.add_argument(
        "--format",
        choices=("table", "json", "markdown"),
        default="table",
        help="table for people (default), json for machines (docs/report.md), markdown for a pull request "
        "or a CI job summary (docs/guides/ci-pipelines.md)",
    )
    p.add_argument(
        "--pretty",
        action="store_true",
        help="indent the JSON report (it is compact unless stdout is a terminal)",
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
        type=positive,
        default=DEFAULT_DEADLINE_S["cli"],
        metavar="SECONDS",
        help=f"the whole run's deadline (default {DEFAULT_DEADLINE_S['cli']:g})",
    )
    p.add_argument(
        "--concurrency",
        type=CONCURRENCY_RANGE.cli_type(),
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"probes in flight at most (default {DEFAULT_CONCURRENCY})",
    )
    add_pace_arguments(p)
    p.add_argument(
        "--log-level",
        default=None,
        choices=("debug", "info", "warning", "error"),
        help="stderr log level (default: info when stderr is not a terminal, warning on one)",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    add_place_arguments(p)
    add_authorize_argument(p)
    add_output_arguments(p)
    p.add_argument(
        "--usage",
        action="store_true",
        help="also read what the endpoints carried and cost (metrics, subnets, quota; see `vpc-verify usage`)",
    )
    from vpc_verify.commands.usage import add_usage_arguments

    add_usage_arguments(p)
    p.add_argument(
        "--evidence",
        action="append",
        default=[],
        choices=("flowlogs",),
        help="flowlogs: join the VPC flow-log records of each timed-out or reset probe to its finding "
        "(read-only, CloudWatch Logs destinations)",
    )
    p.add_argument(
        "--wait",
        type=positive,
        default=None,
        metavar="SECONDS",
        help="re-run until every endpoint is healthy (--healthy-runs times in a row) or SECONDS have passed "
        "(progress on stderr); exit 1 at once on what no waiting fixes (an endpoint rejected, failed, expired, "
        "deleted or pendingAcceptance; private DNS off; a blocking security group, egress rule or network ACL; "
        "a missing route or endpoint); exit 1 when time runs out",
    )
    p.add_argument(
        "--healthy-runs",
        type=at_least_one,
        default=DEFAULT_HEALTHY_RUNS,
        metavar="N",
        help=f"with --wait: healthy runs in a row that end the wait (default {DEFAULT_HEALTHY_RUNS}; resolvers "
        "cache, one lucky answer is not convergence)",
    )
    p.set_defaults(handler=handle)


def add_topology_arguments(p: argparse.ArgumentParser) -> None:
    """-t/--topology (shared by check, diagnose and agent)."""
    p.add_argument(
        "-t",
        "--topology",
        default=os.environ.get("VPC_VERIFY_TOPOLOGY"),
        help="topology file (default: $VPC_VERIFY_TOPOLOGY)",
    )


def add_policy_arguments(p: argparse.ArgumentParser) -> None:
    """--policy, --vpc-id and --region: a topology derived from a fleet policy, or from AWS alone (check, diagnose)."""
    p.add_argument(
        "--policy",
        default=os.environ.get("VPC_VERIFY_POLICY"),
        metavar="FILE|ssm:NAME|s3://B/K",
        help="derive the topology from a fleet policy and what AWS reports about the VPC (docs/guides/fleet.md; "
        "default: $VPC_VERIFY_POLICY); with neither --topology nor --policy, every endpoint AWS reports is checked",
    )
    p.add_argument(
        "--vpc-id",
        default=None,
        help="the VPC to check with --policy or without a topology (default: the VPC vpc-verify runs in: EC2 "
        "instance metadata, the Lambda function's, an ECS task's, VPC_VERIFY_VPC_ID)",
    )
    p.add_argument("--region", default=None, help="AWS region of --vpc-id (default: boto3's chain, e.g. AWS_REGION)")


def add_pace_arguments(p: argparse.ArgumentParser) -> None:
    """How fast DNS may be asked and how many processes observe (check)."""
    p.add_argument(
        "--dns-queries-per-second",
        type=QUERIES_PER_SECOND_RANGE.cli_type(),
        default=None,
        metavar="QPS",
        help="DNS packets sent per second at most, A and AAAA counting as two (default: the topology's "
        "resolver.queries_per_second, 300; the VPC resolver drops what an ENI sends above 1024 a second)",
    )
    p.add_argument(
        "--workers",
        type=workers_count,
        default=None,
        metavar="N|auto",
        help="processes observing the endpoints, one deadline and one report (default auto: one per core "
        "for large topologies, one for small ones)",
    )


def workers_count(text: str) -> int | None:
    """An argparse type: a number of worker processes, or `auto` (None)."""
    if text == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes or auto, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 process, got {text!r}")
    return value


def add_place_arguments(p: argparse.ArgumentParser) -> None:
    """Where the agent stands and whether to read AWS (shared by check and diagnose)."""
    p.add_argument(
        "--no-aws",
        action="store_true",
        help="skip the AWS control-plane comparison even when the topology names vpc.id",
    )
    p.add_argument(
        "--subnet-id",
        default=None,
        help="the agent's subnet, for security group, network ACL and route checks (default: instance metadata; "
        "in Lambda, the function's subnets); a subnet outside the topology's VPC is exit 2",
    )
    p.add_argument(
        "--security-group-id",
        action="append",
        default=[],
        metavar="SG",
        help="the agent's security group (repeat, or comma-separate), for the endpoint's inbound rules that "
        "name it and the agent's own outbound rules (default: instance metadata; in Lambda, the function's; "
        "also VPC_VERIFY_SECURITY_GROUP_IDS)",
    )
    p.add_argument(
        "--az",
        default=None,
        help="the agent's availability zone, a name (us-east-1a) or an id (use1-az1); compared by id "
        "(default: instance metadata, the Lambda metadata endpoint, or the subnet's)",
    )


def add_authorize_argument(p: argparse.ArgumentParser) -> None:
    """--authorize (shared by check and agent)."""
    p.add_argument(
        "--authorize",
        action="store_true",
        help="also make one signed, read-only AWS call through every address (the service's call from "
        "vpc-verify's table, or the topology's authorize.call), with the agent's credentials: tells an endpoint "
        "policy's denial from an IAM one; endpoints whose topology says authorize: false are left alone",
    )


def add_output_arguments(p: argparse.ArgumentParser, *, files: bool = True) -> None:
    """The publishing flags (shared with `vpc-verify agent`) and, for `check`, the report files."""
    p.add_argument(
        "--publish",
        choices=SINK_NAMES,
        default="none",
        help="send the run's metrics: cloudwatch (PutMetricData), emf (Embedded Metric Format lines "
        "on stdout, or stderr with --format json), none (default)",
    )
    p.add_argument("--namespace", default=DEFAULT_NAMESPACE, help=f"CloudWatch namespace (default {DEFAULT_NAMESPACE})")
    p.add_argument(
        "--per-address-metrics",
        action="store_true",
        help="also publish latency per address (dimensions Address, AZ: more billed metrics, whatever --metrics)",
    )
    p.add_argument(
        "--metrics",
        choices=METRIC_SETS,
        default=DEFAULT_METRIC_SET,
        help="which values become billed CloudWatch metrics. budget (default): Healthy per endpoint and RunHealthy, "
        "EndpointsUnhealthy, Heartbeat per run (20 endpoints: 23 metrics, about $6.90 a month); the latencies and "
        "details stay as EMF properties, queried with Logs Insights at no metric cost. full: up to eight per endpoint "
        "and four per run (20 endpoints without http: 144 metrics, about $43.20 a month). Each metric is $0.30 a month "
        "(us-east-1, first tier) however often the checks run; --dry-run prints the count and the cost",
    )
    if not files:
        return
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the datums that would be published, their count, the PutMetricData calls, and the billed "
        "metrics and what they cost a month; send nothing",
    )
    p.add_argument("--junit", default=None, metavar="FILE", help="also write a JUnit XML report to FILE")
    p.add_argument("--output", default=None, metavar="FILE", help="also write the JSON report to FILE")
    p.add_argument(
        "--summary",
        default=None,
        metavar="FILE",
        help='also append the Markdown summary to FILE (e.g. "$GITHUB_STEP_SUMMARY"), whatever --format prints',
    )


def sink_config(args: argparse.Namespace, *, buffer_cap: int = DEFAULT_BUFFER_CAP) -> SinkConfig:
    """The sink the publishing flags ask for."""
    return SinkConfig(
        name=args.publish,
        namespace=args.namespace,
        per_address=args.per_address_metrics,
        buffer_cap=buffer_cap,
        metrics=args.metrics,
    )


def security_group_ids(args: argparse.Namespace) -> tuple[str, ...]:
    """The --security-group-id values (repeated or comma-separated)."""
    return tuple(dict.fromkeys(g.strip() for item in args.security_group_id for g in item.split(",") if g.strip()))


def at_least_one(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {text!r}")
    return value


positive = SECONDS_RANGE.cli_type()  # an argparse type: finite seconds above 0 (nan and inf are refused)


def resolve_topology(args: argparse.Namespace) -> tuple[topology_mod.Topology, Derived | None]:
    """The topology file, else one derived from --policy (or from AWS alone) for --vpc-id or the agent's VPC."""
    if args.topology:
        if args.policy or args.vpc_id:
            raise UsageError("--topology is a whole topology: leave out --policy and --vpc-id (or --topology)")
        return locations.load(args.topology), None
    if args.no_aws:
        raise UsageError("without --topology the endpoints come from AWS: --no-aws leaves nothing to check")
    plan_mod.require_boto3("a topology derived from AWS (--policy, or no --topology)", "pass --topology FILE")
    from vpc_verify.fleet import policy as fleet_policy
    from vpc_verify.fleet import resolve

    policy = fleet_policy.load(args.policy, region=args.region) if args.policy else None
    found = resolve.derived(
        policy,
        vpc_id=args.vpc_id,
        region=args.region,
        subnet_id=args.subnet_id,
        az=args.az,
        security_group_ids=security_group_ids(args),
    )
    return found.topology, found


def handle(args: argparse.Namespace) -> int:
    """Run once (or until healthy with --wait), print the report, return its exit code."""
    configure_logs(args.log_level or ("warning" if sys.stderr.isatty() else "info"))
    from vpc_verify.commands.usage import usage_options

    only = [n.strip() for item in args.only for n in item.split(",") if n.strip()]

    def build(topology: topology_mod.Topology, derived: Derived | None) -> Plan:
        return plan_mod.build(
            topology,
            mode="cli",
            only=only,
            aws=not args.no_aws,
            subnet_id=args.subnet_id,
            az=args.az,
            security_group_ids=security_group_ids(args),
            deadline_s=args.deadline,
            concurrency=args.concurrency,
            sink=sink_config(args, buffer_cap=0),
            usage=usage_options(args) if args.usage else None,
            evidence=tuple(dict.fromkeys(args.evidence)),
            dns_rate=args.dns_queries_per_second,
            workers=args.workers,
            authorize=args.authorize,
            control_plane=derived.control_plane if derived is not None else None,
        )

    topology, derived = resolve_topology(args)
    plan = build(topology, derived)
    converged = True
    if args.wait is not None:
        report, converged = _wait(plan, args, derived, build)
    else:
        report = derived.annotate(plan.run()) if derived is not None else plan.run()
    from vpc_verify.commands.outputs import exit_code, print_report, publish_report, write_outputs

    side = sys.stderr if args.format != "table" else sys.stdout
    publication = publish_report(report, plan.sink, plan.topology, args, side=side)
    report = publication.report if publication is not None else report
    print_report(report, args.format, pretty=args.pretty)
    write_outputs(report, plan.sink, args, side=side)
    say_unread(report)
    code = exit_code(report, publication)
    return code if converged or code else EXIT_UNHEALTHY


def say_unread(report: Report) -> None:
    """One line on stderr when the control plane could not be read: why, and the IAM action to grant."""
    from vpc_verify.report import CONTROL_PLANE_UNREAD

    for f in report.run_findings:
        if f.code in CONTROL_PLANE_UNREAD:
            extra = f" {f.hint}" if f.hint and f.hint not in f.message else ""
            print(f"vpc-verify: {f.message}{extra}", file=sys.stderr)


def _wait(
    plan: Plan, args: argparse.Namespace, derived: Derived | None, build: Callable[[Any, Derived | None], Plan]
) -> tuple[Report, bool]:
    from vpc_verify.wait import run_until_healthy

    def progress(line: str) -> None:
        print(f"vpc-verify: {line}", file=sys.stderr, flush=True)

    def attempt(deadline: float) -> Report:
        if derived is None:
            return plan.with_deadline(deadline).run()
        # A derived topology is derived again each attempt: the endpoint being waited for may exist now.
        topology, fresh = resolve_topology(args)
        assert fresh is not None
        return fresh.annotate(build(topology, fresh).with_deadline(deadline).run())

    result = run_until_healthy(
        attempt,
        args.wait,
        run_deadline_s=args.deadline,
        healthy_runs=args.healthy_runs,
        progress=progress,
    )
    return result.report, result.converged
