"""`vpc-verify diagnose NAME`: one endpoint in depth, for on-call."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from vpc_verify.errors import UsageError
from vpc_verify.ranges import SECONDS_RANGE


def register(sub: Any) -> None:
    """Add the `diagnose` subcommand."""
    p = sub.add_parser(
        "diagnose",
        help="explain one endpoint in depth: per AZ, per address, evidence and the next step",
        description="Check one endpoint like `check`, then go further: read what AWS says about it (state, "
        "private DNS, security groups, routes), resolve its zonal DNS names per AZ, probe every ENI, and say "
        "what to do next.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  vpc-verify diagnose -t topology.yaml sqs --subnet-id subnet-0abc\n\n"
        "exit codes: 0 healthy, 1 unhealthy, 2 usage, configuration or AWS error",
    )
    p.add_argument("name", metavar="NAME", help="the endpoint's name in the topology")
    p.add_argument(
        "-t",
        "--topology",
        default=os.environ.get("VPC_VERIFY_TOPOLOGY"),
        help="topology file (default: $VPC_VERIFY_TOPOLOGY)",
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help="text for people (default) or json")
    p.add_argument("--no-aws", action="store_true", help="do not read the AWS control plane")
    p.add_argument("--subnet-id", default=None, help="the agent's subnet (default: instance metadata)")
    p.add_argument("--az", default=None, help="the agent's availability zone (default: instance metadata)")
    p.add_argument(
        "--deadline", type=SECONDS_RANGE.cli_type(), default=30.0, metavar="SECONDS", help="deadline of the check"
    )
    p.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"))
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Check the endpoint, join the planes, print the diagnosis."""
    from vpc_verify import diagnosis
    from vpc_verify import topology as topology_mod
    from vpc_verify.logs import configure as configure_logs
    from vpc_verify.run import RunOptions, run

    configure_logs(args.log_level)
    if not args.topology:
        raise UsageError("no topology: pass --topology FILE or set VPC_VERIFY_TOPOLOGY")
    topo = topology_mod.load(args.topology)
    try:
        endpoint = topo.endpoint(args.name)
    except KeyError:
        raise UsageError(
            f"no endpoint {args.name!r} in {args.topology} (it has: {', '.join(e.name for e in topo.endpoints)})"
        ) from None
    narrowed = topo.only([args.name])
    agent: dict[str, Any] = {"mode": "diagnose"}
    options = RunOptions(deadline_s=args.deadline, agent=agent)
    if topo.vpc.id and not args.no_aws:
        from vpc_verify.aws import whereami
        from vpc_verify.aws.compare import AwsControlPlane

        place = whereami.locate(args.subnet_id, args.az)
        # Read first, outside the run: diagnose is about the AWS facts, so an AWS error stops it (exit 2)
        # rather than becoming one finding among others.
        view = AwsControlPlane(place=place, report_unexpected=False).read(narrowed)
        agent.update(view.place.to_dict())
        options = RunOptions(deadline_s=args.deadline, agent=agent, control_plane=_Read(view))
    report = run(narrowed, options)
    found = diagnosis.gather(narrowed, endpoint, report.endpoint(args.name), report.run_findings, agent)
    if args.format == "json":
        sys.stdout.write(json.dumps(found.to_dict(), indent=2, default=str) + "\n")
    else:
        sys.stdout.write(diagnosis.render(found))
    return 0 if found.healthy else 1


class _Read:
    """A control plane already read (vpc_verify.run.ControlPlane)."""

    def __init__(self, view: Any) -> None:
        self.view = view

    def read(self, topology: Any) -> Any:
        """The view read before the run."""
        return self.view
