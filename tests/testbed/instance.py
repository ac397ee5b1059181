"""An EC2 instance's metadata service beside the box, and a container on the instance: where IMDSv2 works, and
where it does not.

The box's namespace plays the instance. The metadata service (tests/testbed/metadata.py) runs in a namespace of its
own one routed hop away (the Nitro card), at 169.254.169.254 and, for IPv6, [fd00:ec2::254]. Modes:
* `normal`: IMDSv2 on both addresses; the instance (the box's namespace) gets its token and metadata.
* `ipv6_only`: an instance in an IPv6-only subnet: only [fd00:ec2::254] answers (169.254.169.254 has no route), and
  the metadata has no `local-ipv4` (IPv6 on AWS whitepaper, "Supporting Amazon VPC services"; the IPv6-only subnets
  announcement).
The hop limit of the token PUT's answer is real: `container()` runs commands in a namespace behind the instance (a
container on a bridge), one more routed hop, where an answer sent with IP TTL 1 (HttpPutResponseHopLimit, default 1;
containers need 2) is dropped on the way: the PUT connects, and its answer never arrives. `hop_limit=2` lets it
through. One Instance at a time in a namespace (its veth pair and addresses have fixed names).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.testbed.emulator import FAKE_ENV
from tests.testbed.sandbox import Sandbox, SandboxError, ip_batch, wait_ready

IMDS_V4 = "169.254.169.254"
IMDS_V6 = "fd00:ec2::254"
MODES = ("normal", "ipv6_only")


@dataclass(frozen=True, slots=True)
class InstanceFacts:
    """What the metadata service says about the instance."""

    instance_id: str = "i-0123456789abcdef0"
    mac: str = "02:00:00:00:00:01"
    local_ipv4: str | None = "10.0.1.20"
    ipv6: str | None = None
    az: str = "us-east-1a"
    az_id: str = "use1-az6"
    subnet_id: str = "subnet-0123456789abcdef0"
    vpc_id: str = "vpc-0123456789abcdef0"
    security_group_ids: tuple[str, ...] = ("sg-0123456789abcdef0",)
    vpc_cidrs: tuple[str, ...] = ("10.0.0.0/16",)
    vpc_ipv6_cidrs: tuple[str, ...] = ()

    def tree(self) -> dict[str, str]:
        """The meta-data paths and their values."""
        mac = f"network/interfaces/macs/{self.mac}/"
        tree = {
            "instance-id": self.instance_id,
            "mac": self.mac,
            "placement/availability-zone": self.az,
            "placement/availability-zone-id": self.az_id,
            "placement/region": self.az[:-1],
            mac + "subnet-id": self.subnet_id,
            mac + "vpc-id": self.vpc_id,
            mac + "security-group-ids": "\n".join(self.security_group_ids),
            mac + "vpc-ipv4-cidr-blocks": "\n".join(self.vpc_cidrs),
        }
        if self.local_ipv4:
            tree["local-ipv4"] = self.local_ipv4
            tree[mac + "local-ipv4s"] = self.local_ipv4
        if self.ipv6:
            tree["ipv6"] = self.ipv6
            tree[mac + "ipv6s"] = self.ipv6
            tree[mac + "vpc-ipv6-cidr-blocks"] = "\n".join(self.vpc_ipv6_cidrs)
        return tree


@dataclass
class Instance:
    """The instance metadata service one hop from the box; use as a context manager."""

    workdir: Path
    facts: InstanceFacts = field(default_factory=InstanceFacts)
    mode: str = "normal"
    hop_limit: int = 1
    imds: Sandbox | None = None
    containers: list[Container] = field(default_factory=list)
    _routes: list[str] = field(default_factory=list)

    def __enter__(self) -> Instance:
        self.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Start the metadata service in its namespace and route the box to it."""
        if self.mode not in MODES:
            raise SandboxError(f"instance mode {self.mode!r} is not one of {', '.join(MODES)}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.imds = Sandbox("imds", self.workdir)
        try:
            self._start(self.imds)
        except BaseException:
            self.stop()
            raise

    def _start(self, imds: Sandbox) -> None:
        imds.start()
        listen: list[list[Any]] = [[IMDS_V6, 80]]
        lines = [f"address add {IMDS_V6}/128 dev {imds.ns_if} nodad", f"route add fd00:ec2::1/128 dev {imds.ns_if}"]
        lines.append(f"route add default via fd00:ec2::1 dev {imds.ns_if}")
        ip_batch([f"address add fd00:ec2::1/128 dev {imds.host_if} nodad"])
        self._route(f"{IMDS_V6}/128")
        if self.mode == "normal":
            listen.insert(0, [IMDS_V4, 80])
            lines += [
                f"address add {IMDS_V4}/32 dev {imds.ns_if}",
                f"route add 169.254.169.1/32 dev {imds.ns_if}",
                f"route add default via 169.254.169.1 dev {imds.ns_if}",
            ]
            ip_batch([f"address add 169.254.169.1/32 dev {imds.host_if}"])
            self._route(f"{IMDS_V4}/32")
        imds.ip(lines)
        config = self.workdir / "imds.json"
        config.write_text(
            json.dumps({"kind": "imds", "listen": listen, "tree": self.facts.tree(), "hop_limit": self.hop_limit})
        )
        proc = imds.popen([sys.executable, "-m", "tests.testbed.metadata", "--config", str(config)], log="imds")
        wait_ready(proc, "the instance metadata service")

    def _route(self, destination: str) -> None:
        assert self.imds is not None
        ip_batch([f"route add {destination} dev {self.imds.host_if}"])
        self._routes.append(destination)

    def container(self, address: str = "172.17.0.2", gateway: str = "172.17.0.1") -> Container:
        """A container on the instance: a namespace behind it (the box forwards its packets), one hop further from
        the metadata service."""
        sandbox = Sandbox(f"ct{len(self.containers)}", self.workdir / f"container{len(self.containers)}")
        container = Container(sandbox, address, gateway)
        self.containers.append(container)
        sandbox.start()
        sandbox.sysctl({"net.ipv4.ip_forward": "1"}, here=True)
        ip_batch([f"address add {gateway}/32 dev {sandbox.host_if}", f"route add {address}/32 dev {sandbox.host_if}"])
        sandbox.ip(
            [
                f"address add {address}/32 dev {sandbox.ns_if}",
                f"route add {gateway}/32 dev {sandbox.ns_if}",
                f"route add default via {gateway} dev {sandbox.ns_if}",
            ]
        )
        return container

    def stop(self) -> None:
        """Stop the containers and the metadata service; safe to call twice."""
        for container in self.containers:
            container.sandbox.stop()
        self.containers.clear()
        for destination in self._routes:
            subprocess.run(["ip", "route", "del", destination], capture_output=True)
        self._routes.clear()
        if self.imds is not None:
            self.imds.stop()
            self.imds = None


@dataclass
class Container:
    """A container on the instance (see Instance.container)."""

    sandbox: Sandbox
    address: str
    gateway: str

    def run(
        self, argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the container (fake AWS credentials; the metadata service is NOT disabled)."""
        base = {k: v for k, v in FAKE_ENV.items() if k != "AWS_EC2_METADATA_DISABLED"}
        return self.sandbox.run(argv, env={"PATH": "/usr/bin:/bin", **base, **(env or {})}, timeout=timeout)
