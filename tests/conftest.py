"""Test-wide set-up: no AWS credentials or metadata service, and a private network namespace.

At import, before any thread starts, the pytest process moves into a fresh network namespace (only `lo`,
no route out): every probe a test makes, and every server it starts (dnsmasq, TLS targets, the moto
emulator), lives there. Where the platform cannot create one, tests marked `netns` are skipped with the
reason; nothing else changes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.testbed import emulator, netns
from tests.testbed.emulator import FAKE_ENV

os.environ.update(FAKE_ENV)
for _key in (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
):
    os.environ.pop(_key, None)

NETNS_OK, NETNS_WHY = netns.available()
if NETNS_OK:
    try:
        netns.enter()
    except netns.NetnsUnavailable as exc:
        NETNS_OK, NETNS_WHY = False, str(exc)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip namespace tests only where the platform cannot make a namespace, saying why."""
    if NETNS_OK:
        return
    skip = pytest.mark.skip(reason=f"needs a private network namespace, which this platform cannot create: {NETNS_WHY}")
    for item in items:
        if "netns" in item.keywords:
            item.add_marker(skip)


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
    for key in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CA_BUNDLE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_LAMBDA_FUNCTION_NAME",
        "VPC_VERIFY_SUBNET_ID",
        "VPC_VERIFY_AZ",
        "VPC_VERIFY_ADDRESS",
        "VPC_VERIFY_SECURITY_GROUP_IDS",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        monkeypatch.delenv(key, raising=False)
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return moto_server


@pytest.fixture
def testbed_factory(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], Any]]:
    """Build VPC-in-a-box testbeds from spec mappings; each is torn down after the test."""
    from tests.testbed.box import Box
    from tests.testbed.spec import parse

    boxes: list[Box] = []

    def build(doc: dict[str, Any]) -> Box:
        box = Box(parse(doc), tmp_path / f"box{len(boxes)}")
        boxes.append(box)
        box.start()
        return box

    yield build
    for box in boxes:
        box.stop()
