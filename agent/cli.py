"""The `vpc-verify` command line: a thin shell over vpc_verify.run (docs/architecture.md).

Exit codes (vpc_verify.commands.exits, shown by every command's --help):
  0  healthy
  1  unhealthy: an error finding about the VPC or its endpoints. It wins over 4: when the VPC is broken
     and the control plane could not be read either, the exit code is 1 (the report says both).
  2  usage or configuration error: bad flags or topology, a --subnet-id or --security-group-id that is not
     the VPC's, no region, an id AWS does not know
  3  internal error (a bug)
  4  the VPC looked healthy but vpc-verify's own part with AWS failed: the control plane could not be read
     (AccessDenied and other denials, no credentials, throttling, no route to the EC2 API: AWS_API_ERROR,
     AWS_API_UNREACHABLE), or the metrics could not be published (PUBLISH_FAILED). A CI job can tell it from
     "the VPC is broken".
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence

# No collection while the program imports what it runs: those tens of thousands of objects live as long as the
# process and a collection among them (~3 ms) finds nothing to free; they are frozen out of the collector's sight
# (here, and in main once the command's modules are in). Collections rarer from then on: a run makes a few dozen
# short-lived objects per probe, with few cycles.
_COLLECTING = gc.isenabled()
gc.disable()
gc.set_threshold(20_000, 50, 100)

from vpc_verify.aws.errors import AwsConfigError, AwsError, AwsNotFound  # noqa: E402
from vpc_verify.commands.exits import EXIT_AWS_UNREAD, EXIT_CODES, EXIT_INTERNAL, EXIT_USAGE  # noqa: E402
from vpc_verify.errors import UsageError  # noqa: E402
from vpc_verify.topology import TopologyError  # noqa: E402

gc.freeze()  # a program (or a test) that only imports this module finds the collector as it left it
if _COLLECTING:
    gc.enable()

# Each command's module (vpc_verify.commands.<name>) registers it: register(subparsers) sets `handler`. A module is
# imported when its parser is built: a run of one command does not import the others (nor what they import).
COMMANDS = ("check", "validate", "discover", "diagnose", "usage", "fleet", "agent", "explain", "schema")

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
  vpc-verify check                                   # on EC2/Lambda with no file: every endpoint AWS reports
  vpc-verify check --policy policy.yaml --vpc-id vpc-0123456789abcdef0   # what the fleet policy requires
  vpc-verify fleet --region us-east-1                # monitoring account: every VPC's last result
  vpc-verify check -t topology.yaml --wait 300 --junit report.xml   # post-deploy smoke test
  vpc-verify agent -t topology.yaml --interval 60 --publish cloudwatch --http 127.0.0.1:9180
  vpc-verify explain TCP_TIMEOUT                     # what a finding code means and how to fix it
  vpc-verify schema topology -o topology.schema.json # JSON Schema for editors (docs/topology.md)

"""


class Parser(argparse.ArgumentParser):
    """argparse's parser (its subcommands' too), whose help formatters are given the terminal's width as argparse
    reckons it: argparse would import shutil for it (with bz2 and lzma, 2 ms of every start), at every argument
    added, not only to print help."""

    def _get_formatter(self) -> argparse.HelpFormatter:
        return self.formatter_class(prog=self.prog, width=help_width())  # type: ignore[call-arg]


def help_width() -> int:
    """argparse's help width, `shutil.get_terminal_size().columns - 2`: $COLUMNS when it is a positive number, else
    the width of the terminal on stdout, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return columns - 2


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered, or only `command`'s when it names one (the same
    parse for that command, without building the other parsers' ninety-odd arguments at every start)."""
    parser = Parser(
        prog="vpc-verify",
        description=DESCRIPTION,
        epilog=EPILOG + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        if command not in COMMANDS or name == command:
            importlib.import_module(f"vpc_verify.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the subcommand and return its exit code; never a traceback for bad input."""
    words = list(sys.argv[1:] if argv is None else argv)
    collecting = gc.isenabled()
    gc.disable()  # the command's modules are imported now (see the top of this module)
    try:
        parser = build_parser(words[0] if words else None)
        args = parser.parse_args(words)
    finally:
        # What is loaded by now lives as long as the process: out of the cyclic collector's sight.
        gc.freeze()
        if collecting:
            gc.enable()
    try:
        return int(args.handler(args))
    except (TopologyError, UsageError) as exc:
        print(f"vpc-verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AwsError as exc:  # credentials, permissions, region, throttling: what to fix, not a traceback
        print(f"vpc-verify: error: {exc}", file=sys.stderr)
        # A wrong id, region or SDK set-up is bad input; a denial, no credentials, throttling or no route is
        # AWS that could not be read.
        return EXIT_USAGE if isinstance(exc, AwsConfigError | AwsNotFound) else EXIT_AWS_UNREAD
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
