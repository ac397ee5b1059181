"""`vpc-verify fleet`: every VPC's last result, from the metrics the fleet publishes and the reports it keeps."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from vpc_verify.errors import UsageError

EPILOG = """\
examples:
  # in the monitoring account (the OAM sink): every linked account's VPCs in us-east-1
  vpc-verify fleet --region us-east-1
  # several Regions, and the JSON reports the functions keep in S3 (the missing endpoints' create commands)
  vpc-verify fleet --region us-east-1 --region eu-west-1 --reports s3://acme-vpc-verify/reports/
  # reports kept as files (check --format json --output DIR/<account>/<region>/<vpc>.json), no AWS at all
  vpc-verify fleet --no-metrics --reports ./reports --format json

where it reads: ListMetrics (IncludeLinkedAccounts) and GetMetricData in the namespace's RunHealthy,
EndpointsUnhealthy and Healthy metrics (dimension VpcId; docs/metrics.md); ListObjectsV2 and GetObject under
--reports. A VPC whose latest result is older than --stale is `silent`: its monitor is down or cannot publish.

exit codes:
  0  every VPC seen is healthy
  1  a VPC is unhealthy or silent, or no VPC was seen
  2  usage error (bad flags, a --reports path that does not exist)
  4  AWS could not be read (denied, no credentials, throttled, unreachable)
"""


def register(sub: Any) -> None:
    """Add the `fleet` subcommand."""
    p = sub.add_parser(
        "fleet",
        help="every VPC's last result (metrics, stored reports), unhealthy first: the monitoring account's view",
        description="List every VPC's last result, unhealthy first, then silent (nothing in the window), then "
        "healthy: from the metrics every VPC's scheduled check publishes (in a monitoring account with "
        "CloudWatch cross-account observability, every linked account's), and from the JSON reports kept in S3 or "
        "in files, which add the error findings and, for each required endpoint a VPC lacks, the command that "
        "creates it. Guide: docs/guides/fleet.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument(
        "--region",
        action="append",
        default=[],
        help="a Region whose metrics to read (repeat for several; default: boto3's chain, e.g. AWS_REGION)",
    )
    p.add_argument(
        "--namespace", default="VpcVerify", help="the CloudWatch namespace the fleet publishes to (default VpcVerify)"
    )
    p.add_argument(
        "--reports",
        action="append",
        default=[],
        metavar="PATH|s3://B/PREFIX",
        help="stored JSON reports: a file, a folder (every *.json under it) or an S3 prefix; repeatable. Kept as "
        ".../<account>/<region>/<vpc-id>.json, the account comes from the path",
    )
    p.add_argument("--no-metrics", action="store_true", help="read no metrics: only --reports")
    p.add_argument(
        "--no-linked-accounts",
        action="store_true",
        help="this account's metrics only (default: every account linked to this monitoring account too)",
    )
    p.add_argument(
        "--stale",
        type=_seconds,
        default=900.0,
        metavar="SECONDS",
        help="a VPC whose latest result is older is silent (default 900: three missed 5-minute runs); the "
        "metrics are read over this window",
    )
    p.add_argument("--format", choices=("table", "json"), default="table", help="table for people (default) or json")
    p.add_argument("--pretty", action="store_true", help="indent the JSON")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    p.set_defaults(handler=handle)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 60 <= value <= 86400 * 15:
        raise argparse.ArgumentTypeError(f"expected 60 to 1296000 seconds (15 days of 1-minute data), got {text}")
    return value


def handle(args: argparse.Namespace) -> int:
    """Gather, summarise, print; 0 when every VPC is healthy."""
    from vpc_verify.fleet import stored
    from vpc_verify.fleet.summary import summarise
    from vpc_verify.render import fleet as render_fleet

    if args.no_metrics and not args.reports:
        raise UsageError("--no-metrics leaves nothing to read: add --reports PATH|s3://BUCKET/PREFIX")
    now = dt.datetime.now(dt.UTC)
    seen = []
    sources = []
    notes: list[str] = []
    if args.reports:
        gathered = stored.gather(args.reports, region=(args.region or [None])[0])
        seen.extend(gathered.seen)
        notes.extend(gathered.notes)
        sources.append(f"{gathered.read} stored reports ({', '.join(args.reports)})")
    if not args.no_metrics:
        from vpc_verify import plan as plan_mod

        plan_mod.require_boto3("reading the fleet's metrics", "pass --no-metrics --reports PATH")
        from vpc_verify.aws import clients
        from vpc_verify.fleet import metrics

        for region in args.region or [None]:
            cloudwatch = clients.cloudwatch(region)
            clients.reachable(cloudwatch)
            found = metrics.read(
                cloudwatch, args.namespace, now=now, window_s=args.stale, linked=not args.no_linked_accounts
            )
            seen.extend(found)
            sources.append(f"metrics {args.namespace} in {cloudwatch.meta.region_name} ({len(found)} VPCs)")
    fleet = summarise(seen, now=now, stale_s=args.stale, sources=sources, notes=notes)
    if args.format == "json":
        sys.stdout.write(json.dumps(fleet.to_dict(), indent=2 if args.pretty else None) + "\n")
    else:
        sys.stdout.write(render_fleet.render(fleet))
    return 0 if fleet.healthy else 1
