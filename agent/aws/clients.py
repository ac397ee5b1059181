"""boto3 clients for the control plane: imported lazily, standard retries, short timeouts.

Credentials and the endpoint follow boto3's own chain (AWS_PROFILE, instance profile, Lambda role,
AWS_ENDPOINT_URL, ...); the region is the topology's, else `--region`, else boto3's chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from vpc_verify.aws.errors import AwsConfigError, calling

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_service_quotas import ServiceQuotasClient
    from mypy_boto3_ssm import SSMClient

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


def ec2(region: str | None = None) -> EC2Client:
    """An EC2 client (every control-plane read is an EC2 Describe*/Get* call)."""
    return cast("EC2Client", client("ec2", region))


def cloudwatch(region: str | None = None) -> CloudWatchClient:
    """A CloudWatch client."""
    return cast("CloudWatchClient", client("cloudwatch", region))


def lambda_(region: str | None = None) -> LambdaClient:
    """A Lambda client (the function's own configuration, where the agent runs in Lambda)."""
    return cast("LambdaClient", client("lambda", region))


def ssm(region: str | None = None) -> SSMClient:
    """An SSM client (a topology kept in a parameter)."""
    return cast("SSMClient", client("ssm", region))


def s3(region: str | None = None) -> S3Client:
    """An S3 client (a topology kept in an object)."""
    return cast("S3Client", client("s3", region))


def logs(region: str | None = None) -> CloudWatchLogsClient:
    """A CloudWatch Logs client (flow-log records, read-only)."""
    return cast("CloudWatchLogsClient", client("logs", region))


def service_quotas(region: str | None = None) -> ServiceQuotasClient:
    """A Service Quotas client (the VPC's interface endpoint quota)."""
    return cast("ServiceQuotasClient", client("service-quotas", region))
