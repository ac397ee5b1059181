"""Stand-ins for the deployment tools' endpoints, and every AWS client of the shells pointed at 127.0.0.1."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
import trustme

from tests.gate.standins import CloudFormationApi, CodePipelineApi, ResponseBucket


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts the stand-in bucket (what the Lambda runtime's store does for S3)."""
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


@pytest.fixture
def bucket(ca: trustme.CA) -> Iterator[ResponseBucket]:
    server = ResponseBucket(ca)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cloudformation() -> Iterator[CloudFormationApi]:
    server = CloudFormationApi()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def codepipeline() -> Iterator[CodePipelineApi]:
    server = CodePipelineApi()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def local_endpoints(
    monkeypatch: pytest.MonkeyPatch, cloudformation: CloudFormationApi, codepipeline: CodePipelineApi
) -> None:
    """CloudFormation and CodePipeline go to their stand-ins; any other AWS call to a closed local port (a test
    that needs the emulator sets AWS_ENDPOINT_URL itself, after this)."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", cloudformation.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CODEPIPELINE", codepipeline.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
