"""`vpc-verify usage`: what the VPC's endpoints carried over a window, what they cost a month, what to change.

Read-only: GetMetricData (AWS/PrivateLinkEndpoints), DescribeVpcEndpoints/Subnets/NetworkInterfaces,
GetServiceQuota. Exit codes as `check`: 0 no error finding (usage findings are warnings), 1 otherwise, 2 usage
or AWS error.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING, Any

from vpc_verify.errors import UsageError

if TYPE_CHECKING:
    from decimal import Decimal

_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")


def register(sub: Any) -> None:
    """Add the `usage` subcommand."""
    p = sub.add_parser(
        "usage",
        help="what the VPC's endpoints carried and cost: utilization, idle endpoints, drops, subnet room, quota",
        description="Read the VPC's AWS/PrivateLinkEndpoints metrics over a window (one batch of GetMetricData "
        "calls), its endpoint subnets' free addresses and its interface endpoint quota; price every endpoint "
        "for a month and say what to change, with the saving. Every figure names its window and price source.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  vpc-verify usage -t topology.yaml\n"
        "  vpc-verify usage --vpc-id vpc-0123456789abcdef0 --region us-east-1 --format json\n\n"
        "exit codes: 0 no error finding, 1 an error finding, 2 usage or AWS error",
    )
    p.add_argument("-t", "--topology", default=None, help="topology file naming vpc.id (and region)")
    p.add_argument("--vpc-id", default=None, help="the VPC (instead of a topology)")
    p.add_argument("--region", default=None, help="AWS region (default: the topology's, else boto3's chain)")
    add_usage_arguments(p)
    p.add_argument("--format", choices=("table", "json"), default="table", help="table (default) or json")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    p.set_defaults(handler=handle)


def add_usage_arguments(p: argparse.ArgumentParser) -> None:
    """The window, price and threshold flags (shared with `check --usage`)."""
    p.add_argument("--days", type=_days, default=14.0, help="the window in days (default 14; 1-minute data: 15)")
    p.add_argument("--price-az-hour", type=_usd, default=None, metavar="USD", help="price per endpoint AZ-hour")
    p.add_argument("--price-gb", type=_usd, default=None, metavar="USD", help="price per GB processed (one tier)")
    p.add_argument(
        "--min-free-addresses",
        type=int,
        default=4,
        metavar="N",
        help="warn when an endpoint subnet has fewer free addresses (default 4)",
    )
    p.add_argument("--no-quotas", action="store_true", help="do not ask Service Quotas (use the default of 50)")


def usage_options(args: argparse.Namespace) -> Any:
    """The UsageOptions the flags ask for."""
    from vpc_verify.aws.usage import UsageOptions

    return UsageOptions(
        days=args.days,
        az_hour=args.price_az_hour,
        per_gb=args.price_gb,
        min_free_addresses=args.min_free_addresses,
        quotas=not args.no_quotas,
    )


def handle(args: argparse.Namespace) -> int:
    """Read, judge and print the usage."""
    from vpc_verify import judge
    from vpc_verify.aws import clients, read
    from vpc_verify.aws.control_plane import AwsFacts
    from vpc_verify.aws.usage import read_usage
    from vpc_verify.aws.whereami import Place
    from vpc_verify.bill import UsageReport
    from vpc_verify.judge.facts import RunFacts
    from vpc_verify.judge.usage import UsageFacts
    from vpc_verify.locations import load
    from vpc_verify.plan import require_boto3
    from vpc_verify.topology import parse

    require_boto3("`vpc-verify usage`", "run it where boto3 is installed")
    if args.topology:
        topology = load(args.topology)
        if not topology.vpc.id:
            raise UsageError(f"{args.topology}: vpc.id: the usage needs the VPC's id")
    elif args.vpc_id:
        if not _VPC_ID.match(args.vpc_id):
            raise UsageError(f"--vpc-id: expected a VPC id such as vpc-0123456789abcdef0, got {args.vpc_id!r}")
        doc = {"version": 1, "region": args.region, "vpc": {"id": args.vpc_id}, "endpoints": [], "allow_empty": True}
        topology = parse(doc)
    else:
        raise UsageError("no VPC: pass --topology FILE (naming vpc.id) or --vpc-id")
    if args.min_free_addresses < 0:
        raise UsageError("--min-free-addresses must be 0 or more")
    region = args.region or topology.region
    ec2 = clients.ec2(region)
    assert topology.vpc.id is not None
    state = read.read(ec2, topology.vpc.id)
    got = read_usage(
        state,
        usage_options(args),
        ec2=ec2,
        cw=clients.cloudwatch(state.region),
        sq=None if args.no_quotas else clients.service_quotas(state.region),
    )
    facts = RunFacts(topology=topology, aws=AwsFacts(state=state, place=Place(), usage=got), partial=True)
    view = UsageFacts.of(facts)
    assert view is not None
    report = UsageReport(view.summary(), judge.usage_findings(facts))
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        from vpc_verify.render import usage as render

        sys.stdout.write(render.render(report))
    return report.exit_code


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got {text!r}") from None
    if not 0 < value <= 455:
        raise argparse.ArgumentTypeError(
            f"expected 0 < days <= 455 (CloudWatch keeps hourly data 455 days), got {text!r}"
        )
    return value


def _usd(text: str) -> Decimal:
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"expected a price in dollars such as 0.01, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a price of 0 or more, got {text!r}")
    return value
