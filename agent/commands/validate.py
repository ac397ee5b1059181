"""`vpc-verify validate FILE`: check a topology file without sending a packet."""

from __future__ import annotations

import argparse
from typing import Any

from vpc_verify import topology


def register(sub: Any) -> None:
    """Add the `validate` subcommand."""
    p = sub.add_parser(
        "validate",
        help="check a topology file and print what it expands to",
        description="Check a topology file (docs/topology.md): unknown keys, wrong types, bad CIDRs and duplicate "
        "names are reported with the file, the key path and what was expected (exit 2). Nothing is sent.",
    )
    p.add_argument("file", help="the topology file (YAML or JSON)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when the file is valid")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Validate and summarise."""
    topo = topology.load(args.file)
    if not args.quiet:
        print(
            f"{args.file}: valid, {len(topo.endpoints)} endpoints"
            + (f", region {topo.region}" if topo.region else "")
            + (f", vpc {topo.vpc.id}" if topo.vpc.id else "")
        )
        for e in topo.endpoints:
            phases = ["dns", "tcp"] + (["tls"] if e.tls else []) + (["http"] if e.http else [])
            print(f"  {e.name:<24} {e.type:<9} {','.join(e.dns_names)}  port {e.port}  [{' -> '.join(phases)}]")
    return 0
