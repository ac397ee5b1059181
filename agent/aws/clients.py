"""boto3 clients for the control plane: imported lazily, standard retries, short timeouts.

Credentials and the endpoint follow boto3's own chain (AWS_PROFILE, instance profile, Lambda role,
AWS_ENDPOINT_URL, ...); the region is the topology's, else `--region`, else boto3's chain.
"""

from __future__ import annotations

import socket
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any, cast

from vpc_verify.aws.errors import AwsConfigError, AwsUnreachable, calling

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
REACH_TIMEOUT_S = 3.0  # one connect to an API's endpoint before relying on it


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


def ec2_as_role(role_arn: str, region: str | None = None) -> EC2Client:
    """An EC2 client with the credentials of `role_arn` (sts:AssumeRole with the agent's own credentials): a
    read-only role in another account, such as a hub VPC's."""
    sts = client("sts", region)
    with calling("sts", "AssumeRole"):
        got = sts.assume_role(RoleArn=role_arn, RoleSessionName="vpc-verify", DurationSeconds=900)["Credentials"]
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=got["AccessKeyId"],
        aws_secret_access_key=got["SecretAccessKey"],
        aws_session_token=got["SessionToken"],
    )
    with calling("ec2", "client"):
        return cast("EC2Client", session.client("ec2", region_name=region, config=config()))


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


def reachable(api: Any, timeout_s: float = REACH_TIMEOUT_S) -> None:
    """Raise AwsUnreachable unless one TCP connect to the client's endpoint succeeds: where no interface
    endpoint and no NAT lead to an API, that costs one connect timeout instead of boto3's retries (~19 s).
    Skipped behind a proxy, which botocore would use instead."""
    parsed = urllib.parse.urlsplit(str(api.meta.endpoint_url))
    host = parsed.hostname
    service = str((getattr(api.meta, "service_model", None) and api.meta.service_model.service_name) or "aws")
    if not host or _proxied(parsed.scheme, host):
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        raise AwsUnreachable(
            service, "connect", type(exc).__name__, f"no connection to {host}:{port} ({why})"
        ) from None


def _proxied(scheme: str, host: str) -> bool:
    proxies = urllib.request.getproxies()
    return bool(proxies.get(scheme)) and not urllib.request.proxy_bypass(host)
