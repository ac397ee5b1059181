"""boto3 clients for the control plane: imported lazily, standard retries, short timeouts.

Credentials and the endpoint follow boto3's own chain (AWS_PROFILE, instance profile, Lambda role,
AWS_ENDPOINT_URL, ...); the region is the topology's, else `--region`, else boto3's chain.
"""

from __future__ import annotations

from typing import Any

from vpc_verify.aws.errors import AwsConfigError, calling

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 10.0
MAX_ATTEMPTS = 5  # standard mode retries throttling and transient errors with backoff


def config() -> Any:
    """The botocore Config every client uses."""
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        user_agent_extra="vpc-verify",
    )


def client(service: str, region: str | None = None) -> Any:
    """A boto3 client for `service` in `region` (None: boto3's region chain)."""
    try:
        import boto3
    except ImportError:
        raise AwsConfigError(
            service,
            "client",
            "NoBoto3",
            "boto3 is not installed",
            fix="pip install 'vpc-verify[aws]', or pass --no-aws",
        ) from None
    with calling(service, "client"):
        return boto3.session.Session().client(service, region_name=region, config=config())


def ec2(region: str | None = None) -> Any:
    """An EC2 client (every control-plane read is an EC2 Describe*/Get* call)."""
    return client("ec2", region)


def region_of(c: Any) -> str:
    """The region a client was made for."""
    return str(c.meta.region_name)
