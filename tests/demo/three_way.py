"""The demo's second act: a VPC as the AWS APIs (the emulator) describe it, and packets that disagree.

The emulator is seeded with a VPC (sqs and kms interface endpoints in two AZs, an s3 gateway endpoint), but
sqs was created with private DNS off and kms has a security group that does not admit 443. A box serves exactly those
ENI addresses; `vpc-verify discover` writes the topology, `check` runs the three-way comparison and
`diagnose` explains sqs for the on-call engineer. Run by scripts/demo inside its own network namespace.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.testbed import aws_seed, cli, emulator, netns
from tests.testbed.aws_box import box_spec, site_topology
from tests.testbed.box import Box
from tests.testbed.spec import parse

VV = [str(cli.executable())]  # the installed console script, as users run it


def main() -> int:
    """Seed, build, discover, check, diagnose; exit 0 when check found what the seeding broke."""
    os.environ.update(emulator.FAKE_ENV)
    netns.enter()
    with tempfile.TemporaryDirectory(prefix="vpc-verify-demo-") as tmp, emulator.running() as emu:
        os.environ.update(emu.env())
        from vpc_verify.aws import clients

        ec2 = clients.ec2("us-east-1")
        facts = aws_seed.seed(ec2, private_dns={"sqs": False})
        kms = facts.interfaces["kms"]
        locked = ec2.create_security_group(GroupName="kms-endpoint", Description="no rule for 443", VpcId=facts.vpc_id)[
            "GroupId"
        ]
        ec2.modify_vpc_endpoint(
            VpcEndpointId=kms.vpce_id, AddSecurityGroupIds=[locked], RemoveSecurityGroupIds=[kms.security_group_id]
        )
        with Box(parse(box_spec(facts, {"sqs": "public_address", "kms": "drop"})), Path(tmp) / "box") as box:
            discovered = Path(tmp) / "discovered.yaml"
            step(f"vpc-verify discover --vpc-id {facts.vpc_id} -o discovered.yaml")
            subprocess.run([*VV, "discover", "--vpc-id", facts.vpc_id, "-o", str(discovered)], check=True)
            print(discovered.read_text())
            topology = site_topology(discovered, box, Path(tmp) / "topology.yaml")
            step(
                f"vpc-verify check -t topology.yaml --subnet-id {facts.agent_subnet_id}   "
                "(+ resolver and CA bundle of this site)"
            )
            check = subprocess.run(
                [*VV, "check", "-t", str(topology), "--subnet-id", facts.agent_subnet_id, "--log-level", "warning"]
            )
            step("vpc-verify diagnose -t topology.yaml sqs")
            subprocess.run([*VV, "diagnose", "-t", str(topology), "sqs", "--subnet-id", facts.agent_subnet_id])
    return 0 if check.returncode == 1 else 1


def step(title: str) -> None:
    """A heading for the next command."""
    print(f"\n== {title}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
