"""Where a topology comes from: a file, an SSM parameter (`ssm:NAME`) or an S3 object (`s3://bucket/key`).

`load(location)` reads any of them and validates the text, so every shell (the CLI, the EC2 agent, the
Lambda) accepts the same locations. Reading is bounded: at most `MAX_FILE_BYTES` + 1 bytes are read, so
`/dev/zero` or a huge object fails fast; a FIFO or a device that sends nothing fails after `READ_TIMEOUT_S`.
A path that really starts with ``ssm:`` is read as a file when written ``./ssm:...``.
"""

from __future__ import annotations

import os
import re
import selectors
import stat
import time
from pathlib import Path

from vpc_verify.topology.errors import TopologySourceError
from vpc_verify.topology.model import Topology
from vpc_verify.topology.parse import MAX_FILE_BYTES, loads

SSM_PREFIX = "ssm:"
S3_PREFIX = "s3://"
READ_TIMEOUT_S = 10.0
_S3_URL = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")
_SSM_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,2048}$")
# A parameter shared through AWS RAM (another account's advanced parameter) is read by its full ARN.
_SSM_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9_.\-/]{1,2048}$")


def load(location: str | os.PathLike[str], *, region: str | None = None) -> Topology:
    """Fetch and validate the topology at `location` (a path, `ssm:NAME` or `s3://bucket/key`).

    `region` is the AWS region for SSM and S3 (None: boto3's chain). A file's relative `tls.ca_bundle` paths
    resolve against the file's folder.
    """
    if isinstance(location, str) and location.startswith(SSM_PREFIX):
        name = location[len(SSM_PREFIX) :]
        return loads(read_ssm(name, region), source=location)
    if isinstance(location, str) and location.startswith(S3_PREFIX):
        return loads(read_s3(location, region), source=location)
    source = str(location)
    return loads(read_file(source), source=source, base_dir=Path(source).resolve().parent)


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
    return _decode(data, path)


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


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TopologySourceError(source, "", "UTF-8 text", f"undecodable byte at offset {exc.start}") from None


def read_ssm(name: str, region: str | None = None) -> str:
    """The value of the SSM parameter `name`, or of a parameter shared with this account by its ARN (a
    SecureString is decrypted)."""
    if not (_SSM_NAME.match(name) or _SSM_ARN.match(name)):
        raise TopologySourceError(
            f"{SSM_PREFIX}{name[:200]}", "", "an SSM parameter name such as /vpc-verify/topology, or a shared one's ARN"
        )
    from vpc_verify.aws import clients
    from vpc_verify.aws.errors import calling

    with calling("ssm", "GetParameter"):
        answer = clients.client("ssm", region).get_parameter(Name=name, WithDecryption=True)
    value = str(answer["Parameter"]["Value"])
    if len(value) > MAX_FILE_BYTES:
        raise TopologySourceError(f"{SSM_PREFIX}{name}", "", f"at most {MAX_FILE_BYTES} characters", len(value))
    return value


def read_s3(url: str, region: str | None = None) -> str:
    """The S3 object at `url` (s3://bucket/key) as UTF-8 text, at most MAX_FILE_BYTES."""
    match = _S3_URL.match(url)
    if not match:
        raise TopologySourceError(url[:200], "", "an S3 location such as s3://bucket/key", has_got=False)
    from vpc_verify.aws import clients
    from vpc_verify.aws.errors import calling

    with calling("s3", "GetObject"):
        answer = clients.client("s3", region).get_object(Bucket=match["bucket"], Key=match["key"])
        body = bytes(answer["Body"].read(MAX_FILE_BYTES + 1))
    if len(body) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES
        raise TopologySourceError(url, "", f"an object of at most {limit} bytes", f"more than {limit} bytes")
    return _decode(body, url)
