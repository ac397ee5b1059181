"""Control-plane fixtures: an EC2 client of the emulator and the seeded testbed VPC (the emulator itself,
`moto_server` and `aws`, is in tests/conftest.py).

Every test here runs with fake credentials, no instance metadata and AWS_ENDPOINT_URL at the emulator on
127.0.0.1 (tests.testbed.emulator.aws_env): boto3 cannot reach anything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from tests.testbed import aws_seed, emulator


@pytest.fixture
def ec2(aws: emulator.Emulator) -> Any:
    """A boto3 EC2 client of the emulator (for seeding and for injecting into the control plane)."""
    from vpc_verify.aws import clients

    return clients.ec2("us-east-1")


@pytest.fixture
def seeded(ec2: Any) -> aws_seed.SeedFacts:
    """The testbed VPC, healthy."""
    return aws_seed.seed(ec2)


@pytest.fixture(autouse=True)
def _logging_as_found() -> Iterator[None]:
    """Commands run in-process configure structlog for the whole process (`--log-level error` filters out
    warnings): put it back as it was, so a later test that captures log lines sees them."""
    before = structlog.get_config()
    yield
    structlog.configure(**before)
