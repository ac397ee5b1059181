"""`vpc-verify discover`: write a topology file from what AWS reports about a VPC."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")


def register(sub: Any) -> None:
    """Add the `discover` subcommand."""
    p = sub.add_parser(
        "discover",
        help="write a topology file from the VPC's endpoints as AWS reports them",
        description="Describe a VPC (read-only EC2 Describe*/Get* calls) and write a topology file (docs/topology.md) "
        "with every interface and gateway endpoint: its service, DNS names, ENI addresses and AZs (as AZ ids, "
        "the same zones in every account, with this account's names as comments). "
        "Credentials and region follow boto3's chain.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  vpc-verify discover --vpc-id vpc-0123456789abcdef0 -o topology.yaml && "
        "vpc-verify check -t topology.yaml\n\nexit codes: 0 written, 2 usage error (a bad --vpc-id, a VPC or "
        "region AWS does not know), 4 AWS could not be read (denied, no credentials, throttled, unreachable)",
    )
    p.add_argument("--vpc-id", required=True, help="the VPC to describe")
    p.add_argument("--region", default=None, help="AWS region (default: boto3's chain, e.g. AWS_REGION)")
    p.add_argument("-o", "--output", default="-", metavar="FILE", help="where to write the topology (default: stdout)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Describe the VPC and write the topology file."""
    from vpc_verify.aws import clients, discover, lattice, read
    from vpc_verify.errors import UsageError
    from vpc_verify.topology import loads

    if not _VPC_ID.match(args.vpc_id):
        raise UsageError(f"--vpc-id: expected a VPC id such as vpc-0123456789abcdef0, got {args.vpc_id!r}")
    ec2 = clients.ec2(args.region)
    vpc_state = read.read(ec2, args.vpc_id)
    if lattice.resource_configuration_arns(vpc_state):  # a Resource endpoint's ports are its configuration's
        try:
            api = clients.client("vpc-lattice", str(ec2.meta.region_name))
        except Exception as exc:  # no client (an older botocore): the ports are unknown, which the file says
            vpc_state = lattice.with_resource_configurations(None, vpc_state, why_not=f"{type(exc).__name__}: {exc}")
        else:
            vpc_state = lattice.with_resource_configurations(api, vpc_state)
    text = discover.render(vpc_state)
    loads(text, source="<discovered>")  # what we write must load: a bug here must not reach a file
    if args.output == "-":
        sys.stdout.write(text)
    else:
        path = Path(args.output)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        kinds = [e.type for e in vpc_state.endpoints]
        print(
            f"vpc-verify: wrote {path}: {vpc_state.vpc_id} in {vpc_state.region}, "
            f"{kinds.count('interface')} interface and {kinds.count('gateway')} gateway endpoints",
            file=sys.stderr,
        )
        _write_schema_beside(path)
    return 0


def _write_schema_beside(topology_path: Path) -> None:
    """The JSON Schema the file's first line names, beside it, so editors validate it (docs/topology.md)."""
    from vpc_verify.aws.discover import SCHEMA_FILE
    from vpc_verify.reference import schemas

    target = topology_path.with_name(SCHEMA_FILE)
    text = schemas.dumps(schemas.topology())
    try:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    except OSError as exc:  # the topology is written; an editor aid must not fail the command
        print(f"vpc-verify: warning: could not write {target}: {exc.strerror or exc}", file=sys.stderr)
