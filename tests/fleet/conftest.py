"""Fleet fixtures: the emulator's EC2 client, the seeded testbed VPC and a refusing DNS port (tests/aws)."""

from __future__ import annotations

from tests.aws.conftest import closed_dns_port, ec2, seeded

__all__ = ["closed_dns_port", "ec2", "seeded"]
