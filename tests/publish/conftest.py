"""The AWS emulator for publishing tests: boto3 in this process only ever talks to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.testbed import emulator


@pytest.fixture(scope="session")
def emu() -> Iterator[emulator.Emulator]:
    """A moto server on loopback for the session."""
    server = emulator.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws(emu: emulator.Emulator, monkeypatch: pytest.MonkeyPatch) -> emulator.Emulator:
    """An empty emulator account, and boto3 pointed at it (fake credentials, no instance metadata)."""
    emu.reset()
    for key, value in emu.env().items():
        monkeypatch.setenv(key, value)
    return emu
