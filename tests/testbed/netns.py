"""Enter a fresh network namespace: only `lo`, no route out, so nothing a test sends can leave the box.

As root the process unshares its network namespace; otherwise a user namespace too (`unshare -rn`), where
the platform allows it. Call `enter()` before any thread starts: a namespace is per thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MARK = "VPCBOX_NETNS"


class NetnsUnavailable(RuntimeError):
    """This platform cannot create a network namespace for us (the reason says why)."""


def inside() -> bool:
    """Whether this process already runs in a namespace made by `enter()` (or by `python -m tests.testbed`)."""
    return os.environ.get(MARK) == "1"


def _unshare(flags: int) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def enter() -> None:
    """Move this process into a new network namespace and bring `lo` up; idempotent."""
    if inside():
        return
    if shutil.which("ip") is None:
        raise NetnsUnavailable("the `ip` command (iproute2) is missing: run scripts/setup")
    uid, gid = os.getuid(), os.getgid()
    try:
        if uid == 0:
            _unshare(CLONE_NEWNET)
        else:
            _unshare(CLONE_NEWUSER | CLONE_NEWNET)
            with open("/proc/self/setgroups", "w") as f:
                f.write("deny")
            with open("/proc/self/uid_map", "w") as f:
                f.write(f"0 {uid} 1")
            with open("/proc/self/gid_map", "w") as f:
                f.write(f"0 {gid} 1")
    except OSError as exc:
        raise NetnsUnavailable(
            f"unshare(CLONE_NEWNET) failed: {exc} (user namespaces disabled, or a seccomp profile forbids unshare)"
        ) from exc
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    os.environ[MARK] = "1"


def available() -> tuple[bool, str]:
    """Whether `enter()` can work here, tested in a child so this process stays where it is."""
    if inside():
        return True, ""
    probe = shutil.which("unshare")
    if probe is None:
        return False, "the `unshare` command (util-linux) is missing: run scripts/setup"
    flags = ["-n"] if os.getuid() == 0 else ["-rn"]
    done = subprocess.run([probe, *flags, "true"], capture_output=True, text=True)
    if done.returncode != 0:
        return False, f"`unshare {' '.join(flags)}` failed: {done.stderr.strip()}"
    return True, ""
