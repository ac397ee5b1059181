"""The AWS emulator: moto in server mode on 127.0.0.1, and the environment that points boto3 at it.

Every client made under `aws_env(url)` talks only to the emulator: fake credentials, no instance metadata
(boto3 would otherwise look at 169.254.169.254), and AWS_ENDPOINT_URL for every service.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
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


# The server binds port 0 itself and says which port it got: no number is picked here and released for
# someone else to take before moto binds it. Its stdout then goes where its stderr goes, so that a chatty
# server never fills a pipe nobody reads.
_SERVE = """
import os, sys, threading
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address=sys.argv[1], port=int(sys.argv[2]), verbose=False)
server.start()
print("READY", server.get_host_and_port()[1], flush=True)
os.dup2(2, 1)
threading.Event().wait()
"""


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
    """Start moto's server on `host` (loopback only; port 0: one the kernel picks) once it answers."""
    if not host.startswith("127.") and host != "::1":
        raise ValueError("the emulator listens on loopback only")
    err = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    # Not measured by coverage: it is not our code, and tracing would only slow the server down.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")} | FAKE_ENV
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE, host, str(port)], stdout=subprocess.PIPE, stderr=err, env=env, text=True
    )
    try:
        bound = _ready_port(proc, timeout_s)
        url = f"http://[{host}]:{bound}" if ":" in host else f"http://{host}:{bound}"
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=timeout_s) as resp:
            resp.read()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
    return Emulator(url=url, port=bound, process=proc)


def _ready_port(proc: subprocess.Popen[str], timeout_s: float) -> int:
    """The port of the server's READY line, read within `timeout_s`."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("READY "):
        code = proc.poll()
        why = f"exited with {code}" if code is not None else f"did not say READY within {timeout_s:g} s"
        raise RuntimeError(f"the AWS emulator (moto) {why}")
    return int(line.split()[1])


@contextmanager
def running(host: str = "127.0.0.1") -> Iterator[Emulator]:
    """A moto server for the duration of the block."""
    emu = start(host)
    try:
        yield emu
    finally:
        emu.stop()
