"""`vpc-verify diagnose NAME`: one endpoint in depth, for on-call."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vpc_verify.commands.check import (
    add_place_arguments,
    add_policy_arguments,
    add_topology_arguments,
    positive,
    resolve_topology,
    security_group_ids,
)
from vpc_verify.commands.exits import EXIT_CODES
from vpc_verify.errors import UsageError
from vpc_verify.plan import DEFAULT_DEADLINE_S


def register(sub: Any) -> None:
    """Add the `diagnose` subcommand."""
    p = sub.add_parser(
        "diagnose",
        help="explain one endpoint in depth: per AZ, per address, evidence and the next step",
        description="Check one endpoint like `check`, then go further: read what AWS says about it (state, "
        "private DNS, security groups, routes), resolve its zonal DNS names per AZ, probe every ENI, and say "
        "what to do next.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  vpc-verify diagnose -t topology.yaml sqs --subnet-id subnet-0abc\n\n" + EXIT_CODES,
    )
    p.add_argument("name", metavar="NAME", help="the endpoint's name in the topology")
    add_topology_arguments(p)
    add_policy_arguments(p)
    p.add_argument("--format", choices=("text", "json"), default="text", help="text for people (default) or json")
    add_place_arguments(p)
    p.add_argument(
        "--deadline",
        type=positive,
        default=DEFAULT_DEADLINE_S["diagnose"],
        metavar="SECONDS",
        help=f"deadline of the check (default {DEFAULT_DEADLINE_S['diagnose']:g})",
    )
    p.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"))
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Read AWS first (an AWS error stops it: exit 2), check the endpoint, print the diagnosis."""
    from vpc_verify import diagnose, plan
    from vpc_verify.logs import configure as configure_logs
    from vpc_verify.render import diagnosis

    configure_logs(args.log_level)
    topo, _ = resolve_topology(args)  # a file, or derived from --policy or from AWS alone (then read again below)
    try:
        endpoint = topo.endpoint(args.name)
    except KeyError:
        raise UsageError(
            f"no endpoint {args.name!r} in {topo.source} (it has: {', '.join(e.name for e in topo.endpoints)})"
        ) from None
    narrowed = topo.only([args.name])
    control_plane = None
    if topo.vpc.id and not args.no_aws:
        plan.require_boto3(f"reading the control plane of {topo.vpc.id}", "pass --no-aws")
        from vpc_verify.aws.control_plane import AlreadyRead, AwsControlPlane

        # Read first, outside the run: diagnose is about the AWS facts, so an AWS error stops it (exit 2)
        # rather than becoming one finding among others.
        cp = AwsControlPlane(
            region=topo.region, subnet_id=args.subnet_id, az=args.az, security_group_ids=security_group_ids(args)
        )
        control_plane = AlreadyRead(cp.read(narrowed))
    the_plan = plan.build(
        topo,
        mode="diagnose",
        only=[args.name],
        aws=not args.no_aws,
        deadline_s=args.deadline,
        control_plane=control_plane,
    )
    report = the_plan.run()
    found = diagnose.gather(narrowed, endpoint, report.endpoint(args.name), report.run_findings, report.origin)
    if args.format == "json":
        import json  # not on the way to the first packet of every command (the CLI imports each command's module)

        sys.stdout.write(json.dumps(found.to_dict(), indent=2, default=str) + "\n")
    else:
        sys.stdout.write(diagnosis.render(found))
    return 0 if found.healthy else 1
