"""Topology text kept in AWS: an SSM parameter or an S3 object, read bounded like a file (vpc_verify.locations
says which location is which)."""

from __future__ import annotations

import re

from vpc_verify.aws import clients
from vpc_verify.aws.errors import calling
from vpc_verify.topology.errors import TopologySourceError
from vpc_verify.topology.parse import MAX_FILE_BYTES
from vpc_verify.topology.sources import decode

SSM_PREFIX = "ssm:"
_S3_URL = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")
_SSM_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,2048}$")
# A parameter shared through AWS RAM (another account's advanced parameter) is read by its full ARN.
_SSM_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9_.\-/]{1,2048}$")


def read_ssm(name: str, region: str | None = None) -> str:
    """The value of the SSM parameter `name`, or of a parameter shared with this account by its ARN (a
    SecureString is decrypted)."""
    if not (_SSM_NAME.match(name) or _SSM_ARN.match(name)):
        raise TopologySourceError(
            f"{SSM_PREFIX}{name[:200]}", "", "an SSM parameter name such as /vpc-verify/topology, or a shared one's ARN"
        )
    with calling("ssm", "GetParameter"):
        answer = clients.ssm(region).get_parameter(Name=name, WithDecryption=True)
    value = str(answer["Parameter"]["Value"])
    if len(value) > MAX_FILE_BYTES:
        raise TopologySourceError(f"{SSM_PREFIX}{name}", "", f"at most {MAX_FILE_BYTES} characters", len(value))
    return value


def read_s3(url: str, region: str | None = None) -> str:
    """The S3 object at `url` (s3://bucket/key) as UTF-8 text, at most MAX_FILE_BYTES."""
    match = _S3_URL.match(url)
    if not match:
        raise TopologySourceError(url[:200], "", "an S3 location such as s3://bucket/key", has_got=False)
    with calling("s3", "GetObject"):
        answer = clients.s3(region).get_object(Bucket=match["bucket"], Key=match["key"])
        body = bytes(answer["Body"].read(MAX_FILE_BYTES + 1))
    if len(body) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES
        raise TopologySourceError(url, "", f"an object of at most {limit} bytes", f"more than {limit} bytes")
    return decode(body, url)
