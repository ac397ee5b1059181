"""The AWS emulator: moto in server mode on 127.0.0.1, and the environment that points boto3 at it.

Every client made under `aws_env(url)` talks only to the emulator: fake credentials, no instance metadata
(boto3 would otherwise look at 169.254.169.254), and AWS_ENDPOINT_URL for every service.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

FAKE_ENV = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def aws_env(url: str, region: str = "us-east-1") -> dict[str, str]:
    """Environment variables that send every boto3 client to the emulator at `url` with fake credentials."""
    return {**FAKE_ENV, "AWS_DEFAULT_REGION": region, "AWS_REGION": region, "AWS_ENDPOINT_URL": url}


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass(slots=True)
class Emulator:
    """A running moto server."""

    url: str
    port: int
    process: subprocess.Popen[bytes]

    def env(self, region: str = "us-east-1") -> dict[str, str]:
        """The environment for clients of this emulator."""
        return aws_env(self.url, region)

    def reset(self) -> None:
        """Forget every resource (moto's reset API), so tests start from an empty account."""
        req = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    def stop(self) -> None:
        """Stop the server."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(host: str = "127.0.0.1", port: int = 0, log: Path | None = None, timeout_s: float = 30.0) -> Emulator:
    """Start moto_server on `host` (loopback only) and wait until it answers."""
    if not host.startswith("127.") and host != "::1":
        raise ValueError("the emulator listens on loopback only")
    port = port or _free_port(host)
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    env = {**os.environ, **FAKE_ENV}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from moto.server import main; main()", "-H", host, "-p", str(port)],
        stdout=out,
        stderr=out,
        env=env,
    )
    url = f"http://{host}:{port}"
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1) as resp:
                resp.read()
            return Emulator(url=url, port=port, process=proc)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"moto_server did not answer on {url} within {timeout_s:g} s")


@contextmanager
def running(host: str = "127.0.0.1") -> Iterator[Emulator]:
    """A moto server for the duration of the block."""
    emu = start(host)
    try:
        yield emu
    finally:
        emu.stop()
