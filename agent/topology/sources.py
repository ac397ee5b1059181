"""A topology file: read bounded and validated (`load`). SSM parameters and S3 objects are AWS reads, one
layer up (vpc_verify.locations), so this package never imports the AWS side.

Reading is bounded: at most `MAX_FILE_BYTES` + 1 bytes are read, so `/dev/zero` fails fast; a FIFO or a device
that sends nothing fails after `READ_TIMEOUT_S`.
"""

from __future__ import annotations

import os
import selectors
import stat
import time

from vpc_verify.topology.errors import TopologySourceError
from vpc_verify.topology.model import Topology
from vpc_verify.topology.parse import MAX_FILE_BYTES, loads

READ_TIMEOUT_S = 10.0


def load(path: str | os.PathLike[str]) -> Topology:
    """Read and validate the topology file at `path` (relative `tls.ca_bundle` paths resolve against its folder)."""
    source = str(path)
    # Path(source).resolve().parent, without importing pathlib on the way to the first packet.
    return loads(read_file(source), source=source, base_dir=os.path.dirname(os.path.realpath(source)))


def read_file(path: str, limit: int = MAX_FILE_BYTES, timeout_s: float = READ_TIMEOUT_S) -> str:
    """A file's text: at most `limit` bytes of UTF-8, read within `timeout_s` (a FIFO, a device); else
    TopologySourceError."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise TopologySourceError(path, "", "a readable file", exc.strerror or str(exc)) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise TopologySourceError(path, "", "a readable file", "a directory")
        data = _read_bounded(fd, path, limit, timeout_s, regular=stat.S_ISREG(mode))
    except OSError as exc:
        raise TopologySourceError(path, "", "a readable file", exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    return decode(data, path)


def _read_bounded(fd: int, path: str, limit: int, timeout_s: float, *, regular: bool) -> bytes:
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + timeout_s
    # poll, not epoll: epoll refuses devices such as /dev/zero (EPERM)
    with getattr(selectors, "PollSelector", selectors.SelectSelector)() as selector:
        if not regular:
            selector.register(fd, selectors.EVENT_READ)
        while size <= limit:
            if not regular:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise TopologySourceError(
                        path, "", f"a file that can be read within {timeout_s:g} s", f"{size} bytes by then"
                    )
            try:
                chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            except BlockingIOError:
                continue
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    if size > limit:
        raise TopologySourceError(path, "", f"a file of at most {limit} bytes", f"more than {limit} bytes")
    return b"".join(chunks)


def decode(data: bytes, source: str) -> str:
    """UTF-8 text, or TopologySourceError naming the first undecodable byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TopologySourceError(source, "", "UTF-8 text", f"undecodable byte at offset {exc.start}") from None
