"""Run a command inside a VPC in a box: `python -m tests.testbed run SPEC.yaml [--aws] -- CMD ...`.

The process enters a fresh network namespace, builds the box from the spec, writes its topology file and
runs CMD with VPCBOX_TOPOLOGY (the topology), VPCBOX_EXPECTED (JSON: endpoint -> finding codes) and, with
--aws, the AWS emulator's environment (AWS_ENDPOINT_URL and fake credentials) exported. With
--as-lambda ADDRESS, CMD runs as a VPC Lambda would (tests/testbed/lambda_sandbox.py): in a sandbox whose only
address is link-local, behind a Hyperplane ENI with ADDRESS, with the Lambda's environment and metadata endpoint.
Everything is torn down after; the exit code is CMD's. `shell SPEC.yaml` opens a shell in the box to explore.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.testbed import netns
from tests.testbed.emulator import FAKE_ENV


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the box, run the command."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.testbed", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="verb", required=True)
    run_p = sub.add_parser("run", help="run a command in a box: run SPEC [--aws] -- CMD ARGS...")
    shell_p = sub.add_parser("shell", help="open a shell in a box")
    for p in (run_p, shell_p):
        p.add_argument("spec", help="the testbed spec (YAML, see tests/testbed/spec.py)")
        p.add_argument("--aws", action="store_true", help="also start the AWS emulator (moto server)")
        p.add_argument("--workdir", default=None, help="keep the box's files here (default: a temporary dir)")
        p.add_argument(
            "--as-lambda", metavar="ADDRESS", default=None, help="run as a VPC Lambda behind this ENI address"
        )
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    command = argv[cut + 1 :] or [os.environ.get("SHELL", "/bin/bash")]

    os.environ.update(FAKE_ENV)
    try:
        netns.enter()
    except netns.NetnsUnavailable as exc:
        print(f"testbed: {exc}", file=sys.stderr)
        return 2

    from tests.testbed import emulator
    from tests.testbed.box import Box, BoxError
    from tests.testbed.sandbox import SandboxError
    from tests.testbed.spec import SpecError, load

    try:
        spec = load(args.spec)
    except (OSError, SpecError) as exc:
        print(f"testbed: {args.spec}: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="vpcbox-") as tmp:
        workdir = Path(args.workdir or tmp)
        env = dict(os.environ)
        emu = None
        try:
            with Box(spec, workdir) as box:
                topology = box.write_topology()
                env["VPCBOX_TOPOLOGY"] = str(topology)
                env["VPCBOX_EXPECTED"] = json.dumps({k: sorted(v) for k, v in box.expected_codes().items()})
                if args.aws:
                    emu = emulator.start(log=workdir / "moto.log")
                    env.update(emu.env(spec.region))
                if args.as_lambda:
                    from tests.testbed.lambda_sandbox import LambdaSandbox

                    keep = {k: env[k] for k in ("VPCBOX_TOPOLOGY", "VPCBOX_EXPECTED")}
                    with LambdaSandbox(workdir / "lambda", hyperplane_address=args.as_lambda, emulator=emu) as fn:
                        return fn.run(command, env=keep, timeout=None, capture=False).returncode
                return subprocess.run(command, env=env).returncode
        except (BoxError, SandboxError) as exc:
            print(f"testbed: {exc}", file=sys.stderr)
            return 2
        finally:
            if emu is not None:
                emu.stop()


if __name__ == "__main__":
    sys.exit(main())
