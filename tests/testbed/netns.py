"""Enter a fresh network namespace: only `lo`, no route out, so nothing a test sends can leave the box.

As root the process unshares its network namespace; otherwise a user namespace too (`unshare -rn`), where
the platform allows it. Call `enter()` before any thread starts: a namespace is per thread.

Being inside is a fact about the namespace, not about an inherited variable: `enter()` records the identity
of the namespace it made (device and inode of /proc/thread-self/ns/net) in VPCBOX_NETNS, and `inside()`
compares it with the namespace this thread is in now. A child that stays in the namespace (a command run in
the box) is inside; a pytest-xdist worker is a child too, and calls `enter(fresh=True)` to get its own, so
parallel workers never share addresses, ports or a box.
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
_NS = "/proc/thread-self/ns/net"


class NetnsUnavailable(RuntimeError):
    """This platform cannot create a network namespace for us (the reason says why)."""


def _identity() -> str:
    st = os.stat(_NS)
    return f"{st.st_dev}:{st.st_ino}"


def inside() -> bool:
    """Whether this thread is in the namespace `enter()` made (here or in a parent that this process shares)."""
    return os.environ.get(MARK) == _identity()


def _unshare(flags: int) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def enter(*, fresh: bool = False) -> None:
    """Move this process into a new network namespace and bring `lo` up.

    Idempotent: inside one already, nothing happens, unless `fresh` (a pytest-xdist worker, which inherits
    its parent's namespace and must not share it).
    """
    if inside() and not fresh:
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
    os.environ[MARK] = _identity()


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
