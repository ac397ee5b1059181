"""`vpc-verify explain CODE`: what a finding code means, its evidence keys and the fix (docs/findings.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vpc_verify.errors import UsageError


def register(sub: Any) -> None:
    """Add the `explain` subcommand."""
    p = sub.add_parser(
        "explain",
        help="explain a finding code: its meaning, severity, evidence keys and fix",
        description="Print one finding code's entry of docs/findings.md: severity, meaning, the fix to try first "
        "and the evidence keys it carries. Without a code, list every code.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  vpc-verify explain TCP_TIMEOUT\n  vpc-verify explain private-dns-disabled\n"
        "  vpc-verify explain            # every code\n\nexit codes: 0 explained, 2 unknown code",
    )
    p.add_argument("code", nargs="?", metavar="CODE", help="a finding code (case and - or _ do not matter)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the entry, or the list; an unknown code is a usage error naming the closest codes."""
    from vpc_verify.reference import findings_doc

    if args.code is None:
        sys.stdout.write(findings_doc.listing())
        return 0
    code = findings_doc.lookup(args.code)
    if code is None:
        close = findings_doc.suggestions(args.code)
        hint = f"; did you mean {', '.join(c.value for c in close)}?" if close else ""
        raise UsageError(f"unknown finding code {args.code!r}{hint} (`vpc-verify explain` lists every code)")
    sys.stdout.write(findings_doc.text(code))
    return 0
