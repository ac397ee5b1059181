"""The `vpc-verify` command line: a thin shell over vpc_verify.run (docs/architecture.md).

Exit codes: 0 healthy, 1 unhealthy, 2 usage or configuration error, 3 internal error, 4 healthy but the
metrics could not be published (`check --publish`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vpc_verify.aws.errors import AwsError
from vpc_verify.commands import agent, check, diagnose, discover, explain, schema, usage, validate
from vpc_verify.errors import UsageError
from vpc_verify.topology import TopologyError

EXIT_USAGE, EXIT_INTERNAL = 2, 3

# Each command module registers one subcommand: register(subparsers) sets `handler`.
COMMANDS = (check, validate, discover, diagnose, usage, agent, explain, schema)

DESCRIPTION = """\
Verify, from inside a VPC, that the services it depends on resolve privately and answer.

For every endpoint of a topology file vpc-verify resolves its DNS names, checks that the answers are the
endpoint's private ENI addresses, probes every address (TCP connect, TLS handshake with SNI, optional HTTP
request) with per-phase latency, and reports Findings with evidence and a fix hint.
"""

EPILOG = """\
examples:
  vpc-verify validate topology.yaml
  vpc-verify check -t topology.yaml                  # table for people; exit 0 healthy, 1 not
  vpc-verify check -t topology.yaml --format json    # the report for machines (docs/report.md)
  vpc-verify check -t topology.yaml --only sqs --only kms
  vpc-verify check -t topology.yaml --authorize      # one signed AWS call per address: endpoint policy or IAM?
  vpc-verify discover --vpc-id vpc-0123456789abcdef0 -o topology.yaml   # write the topology from AWS
  vpc-verify diagnose -t topology.yaml sqs           # one endpoint in depth, per AZ, with next steps
  vpc-verify usage -t topology.yaml                  # what the endpoints carried and cost, what to change
  vpc-verify check -t topology.yaml --wait 300 --junit report.xml   # post-deploy smoke test
  vpc-verify agent -t topology.yaml --interval 60 --publish cloudwatch --http 127.0.0.1:9180
  vpc-verify explain TCP_TIMEOUT                     # what a finding code means and how to fix it
  vpc-verify schema topology -o topology.schema.json # JSON Schema for editors (docs/topology.md)

exit codes: 0 healthy, 1 unhealthy, 2 usage or configuration error, 3 internal error,
            4 healthy but the metrics could not be published
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="vpc-verify", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the subcommand and return its exit code; never a traceback for bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (TopologyError, UsageError) as exc:
        print(f"vpc-verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AwsError as exc:  # credentials, permissions, region, throttling: what to fix, not a traceback
        print(f"vpc-verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("vpc-verify: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_USAGE
    except Exception as exc:
        if getattr(args, "debug", False):
            raise
        print(
            f"vpc-verify: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


class _VersionAction(argparse.Action):
    """--version, reading the package metadata only when asked (a metadata scan costs ~30 ms at every start)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        import vpc_verify

        print(f"{parser.prog} {vpc_verify.__version__}")
        parser.exit()
