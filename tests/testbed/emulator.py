"""The AWS emulator: moto in server mode on 127.0.0.1, and the environment that points boto3 at it.

Every client made under `aws_env(url)` talks only to the emulator: fake credentials, no instance metadata
(boto3 would otherwise look at 169.254.169.254), and AWS_ENDPOINT_URL for every service.

The server is moto patched where it is kinder than AWS (tests/testbed/emulator_server.py, in a child process):
interface-endpoint ENIs inside their subnets (IPv6 from the subnet's /64 for dual-stack), AWS's DnsEntries, kept
IpAddressType and DnsOptions, AWS's private DNS names for a curated set of services, DNS Firewall operations, and a
test-only hook that sets an endpoint's state (`Emulator.set_endpoint_state`).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
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


class EmulatorHookError(RuntimeError):
    """The emulator refused a test-only request (code, message as AWS would word them)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


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

    def set_endpoint_state(
        self,
        vpce_id: str,
        state: str | None = None,
        *,
        last_error: tuple[str, str] | None = None,
        created_seconds_ago: float | None = None,
        private_dns_enabled: bool | None = None,
        region: str = "us-east-1",
    ) -> dict[str, Any]:
        """Set what DescribeVpcEndpoints says of an endpoint (the patched server's test-only route): its State
        (pending, pendingAcceptance, available, failed, rejected, expired, deleting, deleted, partial), LastError
        (code, message), CreationTimestamp (seconds ago) or PrivateDnsEnabled."""
        body: dict[str, Any] = {"VpcEndpointId": vpce_id, "Region": region}
        if state is not None:
            body["State"] = state
        if last_error is not None:
            body["LastError"] = {"Code": last_error[0], "Message": last_error[1]}
        if created_seconds_ago is not None:
            body["CreatedSecondsAgo"] = created_seconds_ago
        if private_dns_enabled is not None:
            body["PrivateDnsEnabled"] = private_dns_enabled
        return self._hook("vpc-endpoint", body)

    def set_service_verification(self, service_id: str, state: str, *, region: str = "us-east-1") -> dict[str, Any]:
        """Set an endpoint service's PrivateDnsNameVerificationState (pendingVerification, verified, failed), as its
        provider proving the domain would (the patched server's test-only route)."""
        return self._hook("endpoint-service", {"ServiceId": service_id, "Region": region, "State": state})

    def patches(self) -> list[str]:
        """The patches in force (tests/testbed/emulator_server.py)."""
        return list(self._hook("", None)["patches"])

    def _hook(self, route: str, body: dict[str, Any] | None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/_vpcbox/{route}", data=data, method="GET" if data is None else "POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return dict(json.loads(resp.read()))
        except urllib.error.HTTPError as exc:
            error = json.loads(exc.read() or b"{}").get("Error", {})
            raise EmulatorHookError(error.get("Code", str(exc.code)), error.get("Message", "")) from None

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
    """Start the (patched) moto server on `host` (loopback only; port 0: one the kernel picks) in a child
    process, once it answers."""
    if not host.startswith("127.") and host != "::1":
        raise ValueError("the emulator listens on loopback only")
    err = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    # Not measured by coverage: it is not our code, and tracing would only slow the server down.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")} | FAKE_ENV
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    argv = [sys.executable, "-m", "tests.testbed.emulator_server", "-H", host, "-p", str(port)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, env=env, text=True, cwd=REPO)
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
