"""A network namespace beside the current one, joined to it by a veth pair: where a Lambda sandbox, an instance's
metadata service or a container lives, one routed hop from the box.

The namespace is held by a child process (`unshare -n sleep`), so it has no name in /run/netns and disappears with
its processes; commands run in it through `nsenter --net=/proc/<pid>/ns/net`. Only ever built inside the test's own
namespace (`netns.enter()`): nothing in it can reach anything outside the box.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.testbed import netns

REPO = Path(__file__).resolve().parents[2]


class SandboxError(RuntimeError):
    """A namespace, link or process beside the box could not be set up (the message says which command failed)."""


def ip_batch(lines: list[str], prefix: list[str] | None = None) -> None:
    """Run `ip -batch` (in the namespace `prefix` enters, if any); SandboxError names the failing commands."""
    if not lines:
        return
    done = subprocess.run(
        [*(prefix or []), "ip", "-batch", "-"], input="\n".join(lines).encode() + b"\n", capture_output=True
    )
    if done.returncode != 0:
        raise SandboxError(f"ip -batch failed: {done.stderr.decode().strip()} (commands: {'; '.join(lines)})")


@dataclass
class Sandbox:
    """A namespace joined to the current one by veth `vb<tag>` (here) / `vs<tag>` (there)."""

    tag: str
    workdir: Path
    holder: subprocess.Popen[bytes] | None = None
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def host_if(self) -> str:
        """The veth end in the current namespace."""
        return f"vb{self.tag}"[:15]

    @property
    def ns_if(self) -> str:
        """The veth end in the sandbox."""
        return f"vs{self.tag}"[:15]

    @property
    def enter(self) -> list[str]:
        """The command prefix that runs a command in the sandbox."""
        assert self.holder is not None, "start() first"
        return ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net"]

    def start(self) -> None:
        """Create the namespace and the veth pair (both ends up, IPv6 DAD off); SandboxError when it cannot."""
        if not netns.inside():
            raise SandboxError("refusing to build a sandbox outside the test's own network namespace")
        for tool in ("unshare", "nsenter", "ip"):
            if shutil.which(tool) is None:
                raise SandboxError(f"the `{tool}` command is missing: run scripts/setup")
        self.workdir.mkdir(parents=True, exist_ok=True)
        mine = os.readlink("/proc/self/ns/net")
        self.holder = subprocess.Popen(["unshare", "-n", "--", "sleep", "infinity"], stderr=subprocess.PIPE)
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if self.holder.poll() is not None:
                err = self.holder.stderr.read().decode() if self.holder.stderr else ""
                raise SandboxError(f"unshare -n failed: {err.strip()}")
            try:
                if os.readlink(f"/proc/{self.holder.pid}/ns/net") != mine:
                    break
            except OSError:
                pass
            time.sleep(0.01)
        else:
            raise SandboxError("the sandbox's namespace did not appear")
        try:
            ip_batch([f"link add {self.host_if} type veth peer name {self.ns_if} netns {self.holder.pid}"])
            self.sysctl({f"net.ipv6.conf.{self.host_if}.accept_dad": "0"}, here=True)
            self.sysctl({f"net.ipv6.conf.{self.ns_if}.accept_dad": "0"})
            ip_batch([f"link set {self.host_if} up"])
            ip_batch(["link set lo up", f"link set {self.ns_if} up"], self.enter)
        except BaseException:
            self.stop()
            raise

    def sysctl(self, values: dict[str, str], *, here: bool = False) -> None:
        """Set sysctls in the sandbox (or, `here`, in the current namespace); per-namespace keys only."""
        argv = ["sysctl", "-q", "-w", *(f"{k}={v}" for k, v in values.items())]
        done = subprocess.run([*([] if here else self.enter), *argv], capture_output=True)
        if done.returncode != 0:
            raise SandboxError(f"sysctl failed: {done.stderr.decode().strip()}")

    def ip(self, lines: list[str]) -> None:
        """`ip` commands in the sandbox."""
        ip_batch(lines, self.enter)

    def popen(self, argv: list[str], *, env: dict[str, str] | None = None, log: str | None = None) -> Any:
        """Start a process in the sandbox (stopped with it); its output goes to workdir/<log>.log."""
        out: IO[bytes] | int = subprocess.DEVNULL
        if log:
            out = open(self.workdir / f"{log}.log", "ab")  # noqa: SIM115 - the child writes it until stop()
        proc = subprocess.Popen([*self.enter, *argv], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=out)
        self.procs.append(proc)
        return proc

    def run(
        self, argv: list[str], *, env: dict[str, str] | None = None, timeout: float | None = 120, capture: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the sandbox to completion (text output captured unless `capture` is False)."""
        return subprocess.run(
            [*self.enter, *argv], env=env, cwd=REPO, capture_output=capture, text=True, timeout=timeout
        )

    def stop(self) -> None:
        """Stop the sandbox's processes and the holder; the namespace and its veth go with them."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self.procs.clear()
        if self.holder is not None:
            subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
            if self.holder.poll() is None:
                self.holder.kill()
            self.holder.wait()
            if self.holder.stderr is not None:
                self.holder.stderr.close()
            self.holder = None


def wait_ready(proc: subprocess.Popen[bytes], what: str, timeout_s: float = 20.0) -> str:
    """The READY line a child prints when it serves; SandboxError when it exits or stays silent."""
    assert proc.stdout is not None
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if line.startswith(b"READY"):
            return line.decode().strip()
        if not line and proc.poll() is not None:
            break
    raise SandboxError(f"{what} did not start (exit {proc.poll()})")
