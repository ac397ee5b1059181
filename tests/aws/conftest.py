"""The AWS emulator for control-plane tests: one moto server per session, reset before each test.

Every test here runs with fake credentials, no instance metadata and AWS_ENDPOINT_URL at the emulator on
127.0.0.1 (tests.testbed.emulator.aws_env): boto3 cannot reach anything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.testbed import aws_seed, emulator


@pytest.fixture(scope="session")
def moto_server() -> Iterator[emulator.Emulator]:
    """A moto server for the whole session."""
    emu = emulator.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def aws(moto_server: emulator.Emulator, monkeypatch: pytest.MonkeyPatch) -> emulator.Emulator:
    """An empty emulated account, with this process's AWS environment pointing at it."""
    moto_server.reset()
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CA_BUNDLE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "AWS_LAMBDA_FUNCTION_NAME", "VPC_VERIFY_SUBNET_ID", "VPC_VERIFY_AZ", "VPC_VERIFY_ADDRESS",
                "VPC_VERIFY_SECURITY_GROUP_IDS", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(key, raising=False)
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return moto_server


@pytest.fixture
def ec2(aws: emulator.Emulator) -> Any:
    """A boto3 EC2 client of the emulator (for seeding and for injecting into the control plane)."""
    from agent.aws import clients

    return clients.ec2("us-east-1")


@pytest.fixture
def seeded(ec2: Any) -> aws_seed.SeedFacts:
    """The testbed VPC, healthy."""
    return aws_seed.seed(ec2)
