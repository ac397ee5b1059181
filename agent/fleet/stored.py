"""The JSON reports the fleet keeps (`check --output`, or a Lambda's report in S3), read for the fleet report.

A location is a file, a folder (every `*.json` under it) or an S3 prefix (`s3://bucket/prefix/`: every `.json`
object under it, ListObjectsV2 and GetObject). Reports are kept as `<prefix>/<account>/<region>/<vpc-id>.json`, so
the account comes from the key. A report that cannot be read or is not a report is a note, never the end of the
fleet report: one broken object must not hide 499 VPCs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpc_verify.errors import UsageError
from vpc_verify.fleet.summary import Seen, from_report
from vpc_verify.locations import S3_PREFIX

MAX_REPORT_BYTES = 8 << 20  # a report of 1,000 endpoints is about 2 MB
MAX_REPORTS = 100_000
S3_READERS = 8


@dataclass(slots=True)
class Gathered:
    """What the stored reports said, and what could not be read."""

    seen: list[Seen] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    read: int = 0


def gather(locations: list[str], *, region: str | None = None) -> Gathered:
    """Read every report at `locations` (files, folders, s3:// prefixes)."""
    out = Gathered()
    for location in locations:
        items = _s3_items(location, region) if location.startswith(S3_PREFIX) else _file_items(location)
        for where, body in items:
            out.read += 1
            if out.read > MAX_REPORTS:
                out.notes.append(f"more than {MAX_REPORTS} reports: the rest were not read")
                return out
            _take(out, where, body)
    return out


def _take(out: Gathered, where: str, body: bytes | OSError) -> None:
    if isinstance(body, OSError):
        out.notes.append(f"{where}: skipped: unreadable ({body.strerror or body})")
        return
    try:
        if len(body) > MAX_REPORT_BYTES:
            raise ValueError(f"larger than {MAX_REPORT_BYTES} bytes")
        document: Any = json.loads(body)
        if not isinstance(document, dict) or "endpoints" not in document or "started_at" not in document:
            raise ValueError("not a vpc-verify report (no endpoints, no started_at)")
        seen = from_report(document, where)
    except (ValueError, TypeError, KeyError) as exc:
        out.notes.append(f"{where}: skipped: {exc}")
        return
    if seen is None:
        out.notes.append(f"{where}: skipped: the report names no VPC (its topology has no vpc.id)")
    else:
        out.seen.append(seen)


def _file_items(location: str) -> Iterator[tuple[str, bytes | OSError]]:
    path = Path(location)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
    elif path.is_file():
        files = [path]
    else:
        raise UsageError(f"--reports: {location}: no such file or folder")
    for file in files:
        try:
            with file.open("rb") as handle:
                yield str(file), handle.read(MAX_REPORT_BYTES + 1)
        except OSError as exc:
            yield str(file), exc


def _s3_items(location: str, region: str | None) -> Iterator[tuple[str, bytes | OSError]]:
    from vpc_verify.aws import clients
    from vpc_verify.aws.errors import calling

    bucket, _, prefix = location[len(S3_PREFIX) :].partition("/")
    if not bucket:
        raise UsageError(f"--reports: {location}: expected an S3 prefix such as s3://bucket/vpc-verify/")
    s3 = clients.s3(region)
    keys: list[str] = []
    with calling("s3", "ListObjectsV2"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(str(o["Key"]) for o in page.get("Contents") or [] if str(o["Key"]).endswith(".json"))

    def get(key: str) -> bytes:
        with calling("s3", "GetObject"):
            return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_REPORT_BYTES + 1))

    # One GetObject per VPC: side by side (boto3 clients are thread-safe), or 500 VPCs wait on 500 round trips.
    with ThreadPoolExecutor(S3_READERS) as pool:
        for key, body in zip(keys, pool.map(get, keys), strict=True):
            yield f"s3://{bucket}/{key}", body


def keep(text: str, prefix: str, *, account: str | None, region: str | None, vpc_id: str | None) -> str:
    """Put one run's JSON report at `<prefix>/<account>/<region>/<vpc-id>.json` (PutObject); its location."""
    from vpc_verify.aws import clients
    from vpc_verify.aws.errors import calling

    if not prefix.startswith(S3_PREFIX) or not prefix[len(S3_PREFIX) :].split("/")[0]:
        raise UsageError(f"VPC_VERIFY_REPORT_S3: expected an S3 prefix such as s3://bucket/vpc-verify/, got {prefix!r}")
    bucket, _, base = prefix[len(S3_PREFIX) :].partition("/")
    parts = [p for p in (base.strip("/"), account or "unknown-account", region or "unknown-region") if p]
    key = "/".join([*parts, f"{vpc_id or 'no-vpc'}.json"])
    with calling("s3", "PutObject"):
        clients.s3(region).put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType="application/json")
    return f"s3://{bucket}/{key}"
