"""`vpc-verify schema NAME`: print the JSON Schema of the topology file, the JSON report or the diagnosis."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from vpc_verify.errors import UsageError

NAMES = ("topology", "policy", "report", "diagnosis", "usage", "fleet")


def register(sub: Any) -> None:
    """Add the `schema` subcommand."""
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of the topology file, the JSON report or the diagnosis",
        description="Print a JSON Schema (draft 2020-12) of this version of vpc-verify: topology (the topology "
        "file, for editors and linters; `discover` names it on the file's first line), policy (the fleet policy "
        "file, `check --policy`), report (`check --format "
        "json`), diagnosis (`diagnose --format json`) usage (`usage --format json`) or fleet (`fleet --format json`).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  vpc-verify schema topology -o topology.schema.json   # beside your topology files\n"
        "  vpc-verify schema report > report.schema.json\n"
        "  vpc-verify schema policy -o policy.schema.json\n\nexit codes: 0 written, 2 usage error",
    )
    p.add_argument("name", choices=NAMES, help="which schema")
    p.add_argument("-o", "--output", default="-", metavar="FILE", help="write it to FILE (default: stdout)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print or write the schema."""
    from vpc_verify.reference import schemas

    text = schemas.dumps(schemas.SCHEMAS[args.name]())
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output: cannot write {args.output}: {exc.strerror or exc}") from None
    return 0
