"""Where a topology comes from: a file, an SSM parameter (`ssm:NAME`) or an S3 object (`s3://bucket/key`).

`load(location)` reads any of them and validates the text, so every shell (the CLI, the EC2 agent, the
Lambda) accepts the same locations. It sits above both the topology package and the AWS side: a file needs no
AWS SDK, and boto3 is imported only for the AWS locations. A path that really starts with ``ssm:`` is read as a
file when written ``./ssm:...``.
"""

from __future__ import annotations

import os

from vpc_verify import topology
from vpc_verify.topology import Topology

SSM_PREFIX = "ssm:"
S3_PREFIX = "s3://"


def load(location: str | os.PathLike[str], *, region: str | None = None) -> Topology:
    """Fetch and validate the topology at `location` (a path, `ssm:NAME` or `s3://bucket/key`); `region` is the
    AWS region for SSM and S3 (None: boto3's chain)."""
    if isinstance(location, str) and location.startswith((SSM_PREFIX, S3_PREFIX)):
        from vpc_verify.aws import objects

        if location.startswith(SSM_PREFIX):
            return topology.loads(objects.read_ssm(location[len(SSM_PREFIX) :], region), source=location)
        return topology.loads(objects.read_s3(location, region), source=location)
    return topology.load(location)
