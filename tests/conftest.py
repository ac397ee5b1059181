"""Test-wide set-up: no AWS credentials or metadata service, a private network namespace, and tiers.

At import, before any thread starts, the pytest process moves into a fresh network namespace (only `lo`,
no route out): every probe a test makes, and every server it starts (dnsmasq, TLS targets, the moto
emulator), lives there. Each pytest-xdist worker makes its own, so parallel workers never share an address
or a port. Where the platform cannot create one, tests marked `netns` are skipped with the reason; nothing
else changes.

Every test gets exactly one tier (a marker: `unit`, `integration`, `e2e`, `packaging`, see pyproject), from
where it lives and what it uses, unless its file or function names one itself. `scripts/test --fast` runs
`unit`; `scripts/test` runs them all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

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
        # A worker inherits the controller's namespace: it must leave it for one of its own.
        netns.enter(fresh="PYTEST_XDIST_WORKER" in os.environ)
    except netns.NetnsUnavailable as exc:
        NETNS_OK, NETNS_WHY = False, str(exc)

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "integration", "e2e", "packaging")
_PACKAGING_FILES = {"lambda/test_package.py"}  # builds the Lambda zip from the wheel, runs it in a clean venv
# Folders and files whose tests drive real programs or servers of their own, whatever their fixtures say.
_TIER_OF_PATH = {
    "examples": "integration",  # cfn-lint, cdk synth and terraform over the examples
    "gate": "integration",  # the gate's handlers against HTTPS and API stand-ins
    "testbed_selftest": "integration",  # the box's own parts, in namespaces of their own
    "shells/test_hostile_agent.py": "e2e",  # the agent as a child, flooded
    "agentloop/test_loop_files.py": "e2e",  # the agent as a child, signalled
}


def rel_path(item: pytest.Item) -> str:
    """The test's file, relative to tests/ (e2e/test_box.py)."""
    return item.path.resolve().relative_to(TESTS).as_posix()


def tier_of(item: pytest.Item) -> str:
    """The tier a test belongs to: named by its file or function, else by where it lives and what it uses.

    - packaging: builds what users install (wheel, sdist, Lambda zip) and runs it in a fresh venv;
    - e2e: the installed program in a child process, or a VPC in a box (tests/e2e, `testbed_factory`);
    - integration: real services in this process's namespace, such as the AWS emulator (`aws`, `moto_server`);
    - unit: the rest, pure logic and in-process probes of servers on 127.0.0.1:0.
    """
    named = [t for t in TIERS if item.get_closest_marker(t) is not None]
    if len(named) > 1:
        raise pytest.UsageError(f"{item.nodeid}: more than one tier marker: {', '.join(named)}")
    if named:
        return named[0]
    rel = Path(rel_path(item))
    if rel.parts[0] in TIERS:
        return rel.parts[0]
    if rel.as_posix() in _PACKAGING_FILES:
        return "packaging"
    for prefix in (rel.parts[0], rel.as_posix()):
        if prefix in _TIER_OF_PATH:
            return _TIER_OF_PATH[prefix]
    fixtures = set(getattr(item, "fixturenames", ()))
    if rel.parts[0] == "e2e" or "testbed_factory" in fixtures:
        return "e2e"
    if fixtures & {"aws", "moto_server"}:
        return "integration"
    return "unit"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier; skip namespace tests only where the platform cannot make a namespace,
    saying why."""
    skip = pytest.mark.skip(reason=f"needs a private network namespace, which this platform cannot create: {NETNS_WHY}")
    for item in items:
        tier = tier_of(item)
        item.add_marker(tier)
        if "testbed_factory" in getattr(item, "fixturenames", ()):
            item.add_marker("netns")  # a box refuses to build outside its namespace
        if tier == "e2e" and "testbed_factory" in getattr(item, "fixturenames", ()):
            # The CLI against a VPC in a box: exact codes that rest on timings of a second or so (latency
            # budgets, resolver and HTTP timeouts, a deadline, an endpoint that starts late). Other workers
            # would starve them into other codes, so scripts/test runs them alone after the parallel phase.
            item.add_marker("serial")
        if not NETNS_OK and "netns" in item.keywords:
            item.add_marker(skip)


_STRUCTLOG_AT_START = {**structlog.get_config()}
_STRUCTLOG_AT_START["processors"] = list(_STRUCTLOG_AT_START["processors"])


@pytest.fixture(autouse=True)
def _pristine_structlog() -> Iterator[None]:
    """structlog's configuration as it was before the test, after it.

    A test that runs the CLI in-process configures logging for the whole process (`--log-level error`), and a
    logger bound later filters with that level: `capture_logs` in a later test on the same worker then sees
    nothing. Each test starts from the configuration the session started with.
    """
    yield
    structlog.reset_defaults()
    structlog.configure(**{**_STRUCTLOG_AT_START, "processors": list(_STRUCTLOG_AT_START["processors"])})


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
