"""A VPC Lambda function's execution environment beside a box: run the CLI (or the handler) as the Lambda would.

What AWS does (Lambda developer guide, "Private networking with VPC" and "Using the Lambda metadata endpoint";
a Lambda sandbox's `ip addr` shows `vtarget_1 ... inet 169.254.79.1/32`, public report in tailscale PR 2164):
* The function runs in a Lambda-owned VPC. Its only address is link-local (169.254.79.1/32); it reaches the
  customer's VPC through a Hyperplane ENI in one of the function's subnets, which translates the source address
  to the ENI's: the VPC sees packets from the Hyperplane ENI, never from 169.254.x.x.
* The environment has AWS_LAMBDA_FUNCTION_NAME, AWS_REGION, ... and AWS_LAMBDA_METADATA_API /
  AWS_LAMBDA_METADATA_TOKEN; the metadata endpoint answers the AZ ID. There is no instance metadata service.

Here: a sandbox namespace (tests/testbed/sandbox.py) holds 169.254.79.1/32 on its veth and the metadata endpoint's
address (169.254.100.1) on its loopback, with the metadata stand-in (tests/testbed/metadata.py) listening there; its
default route goes to the box; 169.254.169.254 is unreachable. In the box's namespace nftables translates the
sandbox's source to `hyperplane_address` (a Hyperplane ENI address in the function's subnet) on the way in, so the
box's DNS and TLS targets see the ENI's address as a VPC would. With an emulator, a relay on `api_address` (an
address in the VPC, like an interface endpoint for the AWS APIs) forwards to the emulator on the box's loopback, and
AWS_ENDPOINT_URL points there. IPv6 is off in the sandbox (a function gets IPv6 only in dual-stack subnets with
Ipv6AllowedForDualStack; not modelled).

`LambdaSandbox.run([...])` runs a command as the Lambda: in the sandbox's namespace, with a Lambda's environment
(clean, not the test's: PATH, the Lambda variables, fake credentials, AWS_EC2_METADATA_DISABLED as every test sets).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from tests.testbed.emulator import FAKE_ENV, Emulator
from tests.testbed.sandbox import Sandbox, SandboxError, ip_batch, wait_ready
from tests.testbed.targets import TargetSpec, dump_config


@dataclass
class LambdaSandbox:
    """A Lambda execution environment joined to the box; use as a context manager."""

    workdir: Path
    function_name: str = "vpc-verify"
    region: str = "us-east-1"
    az_id: str = "use1-az6"
    hyperplane_address: str | None = None  # the Hyperplane ENI's address in the function's subnet (None: no NAT)
    emulator: Emulator | None = None
    api_address: str = "10.0.0.250"  # where the AWS APIs answer in the VPC (a relay to the emulator)
    address: str = "169.254.79.1"
    gateway: str = "169.254.79.2"
    metadata_api: str = "169.254.100.1:9001"
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    tag: str = "lam"  # names the veth pair and the nftables table: two sandboxes at once need two tags
    sandbox: Sandbox | None = None
    relay: subprocess.Popen[bytes] | None = None
    _host_routes: list[str] = field(default_factory=list)
    _lo_addresses: list[str] = field(default_factory=list)
    _nft: bool = False

    def __enter__(self) -> LambdaSandbox:
        self.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Build the sandbox, its routes, the source translation, the metadata endpoint and the API relay."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sandbox = Sandbox(self.tag, self.workdir)
        try:
            self._start(self.sandbox)
        except BaseException:
            self.stop()
            raise

    def _start(self, sandbox: Sandbox) -> None:
        sandbox.start()
        meta_host, meta_port = self.metadata_api.rsplit(":", 1)
        sandbox.sysctl({"net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1"})
        sandbox.ip(
            [
                f"address add {self.address}/32 dev {sandbox.ns_if}",
                f"address add {meta_host}/32 dev lo",
                f"route add {self.gateway}/32 dev {sandbox.ns_if}",
                f"route add default via {self.gateway} dev {sandbox.ns_if}",
                "route add unreachable 169.254.169.254/32",  # no instance metadata in Lambda
            ]
        )
        ip_batch([f"address add {self.gateway}/32 dev {sandbox.host_if}"])
        self._route(f"{self.address}/32")
        if self.hyperplane_address:
            self._route(f"{self.hyperplane_address}/32")  # the translated source is answered through the sandbox
            script = (
                f"table ip {self.nft_table} {{\n chain input {{\n  type nat hook input priority 100; policy accept;\n"
                f"  ip saddr {self.address} snat to {self.hyperplane_address}\n }}\n}}\n"
            )
            done = subprocess.run(["nft", "-f", "-"], input=script.encode(), capture_output=True)
            if done.returncode != 0:
                raise SandboxError(f"nft (source translation) failed: {done.stderr.decode().strip()}")
            self._nft = True
        config = self.workdir / "lambda-metadata.json"
        config.write_text(
            json.dumps(
                {"kind": "lambda", "listen": [[meta_host, int(meta_port)]], "az_id": self.az_id, "token": self.token}
            )
        )
        proc = sandbox.popen(
            [sys.executable, "-m", "tests.testbed.metadata", "--config", str(config)], log="lambda-metadata"
        )
        wait_ready(proc, "the Lambda metadata endpoint")
        if self.emulator is not None:
            self._start_relay(self.emulator)

    @property
    def nft_table(self) -> str:
        """The nftables table holding the source translation."""
        return f"vpcbox_{self.tag}"

    def _route(self, destination: str) -> None:
        assert self.sandbox is not None
        ip_batch([f"route add {destination} dev {self.sandbox.host_if}"])
        self._host_routes.append(destination)

    def _start_relay(self, emulator: Emulator) -> None:
        done = subprocess.run(["ip", "address", "add", f"{self.api_address}/32", "dev", "lo"], capture_output=True)
        if done.returncode == 0:
            self._lo_addresses.append(self.api_address)
        elif b"File exists" not in done.stderr:
            raise SandboxError(f"ip address add {self.api_address} failed: {done.stderr.decode().strip()}")
        config = self.workdir / "api-relay.json"
        spec = TargetSpec(
            host=self.api_address, port=emulator.port, behavior="relay", upstream=f"127.0.0.1:{emulator.port}"
        )
        dump_config([spec], str(config))
        self.relay = subprocess.Popen(
            [sys.executable, "-m", "tests.testbed.targets", "--config", str(config)],
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        wait_ready(self.relay, "the AWS API relay")

    # what the function sees ------------------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str | None:
        """AWS_ENDPOINT_URL inside the sandbox (the relay to the emulator), if there is an emulator."""
        return None if self.emulator is None else f"http://{self.api_address}:{self.emulator.port}"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The function's environment: what Lambda defines, fake credentials, the emulator, and `extra`."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "HOME": str(self.workdir),
            **FAKE_ENV,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
            "AWS_LAMBDA_METADATA_API": self.metadata_api,
            "AWS_LAMBDA_METADATA_TOKEN": self.token,
            "LAMBDA_TASK_ROOT": str(self.workdir / "task"),
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "NO_PROXY": "*",
        }
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        return {**env, **(extra or {})}

    def run(
        self, argv: list[str], *, env: dict[str, str] | None = None, timeout: float | None = 120, capture: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command as the Lambda: in its namespace, with its environment plus `env` (output captured as text
        unless `capture` is False)."""
        assert self.sandbox is not None, "start() first"
        return self.sandbox.run(argv, env=self.env(env), timeout=timeout, capture=capture)

    def cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """`vpc-verify ARGS` (the installed package) as the Lambda."""
        return self.run([sys.executable, "-m", "vpc_verify", *args], env=env, timeout=timeout)

    def stop(self) -> None:
        """Tear down the relay, the translation, the routes and the sandbox; safe to call twice."""
        if self.relay is not None:
            if self.relay.poll() is None:
                self.relay.terminate()
            try:
                self.relay.wait(5)
            except subprocess.TimeoutExpired:
                self.relay.kill()
                self.relay.wait()
            if self.relay.stdout is not None:
                self.relay.stdout.close()
            self.relay = None
        if self._nft:
            subprocess.run(["nft", "delete", "table", "ip", self.nft_table], capture_output=True)
            self._nft = False
        for destination in self._host_routes:
            subprocess.run(["ip", "route", "del", destination], capture_output=True)
        self._host_routes.clear()
        for address in self._lo_addresses:
            subprocess.run(["ip", "address", "del", f"{address}/32", "dev", "lo"], capture_output=True)
        self._lo_addresses.clear()
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
