"""Typed AWS failures: what went wrong, in which service and operation, as a message a person can act on.

botocore's exceptions are converted here (lazily: importing this module does not import botocore), so the
CLI can print one clear line and exit 2 instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "OptInRequired",
    "Blocked",
    "PendingVerification",
    "MissingAuthenticationToken",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
}
_UNAVAILABLE = {"ServiceUnavailable", "Unavailable", "InternalError", "InternalFailure", "ServerError"}


class AwsError(Exception):
    """An AWS call failed; carries the service, the operation and AWS's error code."""

    what = "failed"
    fix = ""

    def __init__(self, service: str, operation: str, code: str = "", detail: str = "", fix: str | None = None) -> None:
        self.service = service
        self.operation = operation
        self.code = code
        self.detail = detail
        if fix is not None:
            self.fix = fix
        super().__init__(self._text())

    def remedy(self) -> str:
        """What to do about it."""
        return self.fix

    def _text(self) -> str:
        head = f"AWS {self.service}:{self.operation} {self.what}"
        if self.code:
            head += f" ({self.code})"
        if self.detail:
            head += f": {self.detail}"
        fix = self.remedy()
        return f"{head}. {fix}." if fix else head


class AwsAccessDenied(AwsError):
    """The credentials are not allowed to make the call (or are invalid or expired)."""

    what = "was denied"

    def remedy(self) -> str:
        """The IAM action to grant."""
        return (
            f"Grant the agent's role {self.service}:{_action(self.operation)} (vpc-verify only reads: "
            "ec2:Describe*, ec2:GetManagedPrefixListEntries, lambda:GetFunctionConfiguration), or check that its "
            "credentials are valid and not expired"
        )


class AwsThrottled(AwsError):
    """AWS kept throttling the call after boto3's standard retries."""

    what = "was throttled after retries"
    fix = "Run less often, or raise the account's API rate limit; the call is safe to retry"


class AwsUnavailable(AwsError):
    """The API could not be reached or answered with a server error (network, endpoint, timeout)."""

    what = "could not be reached"
    fix = "Check the agent's route to the EC2 API (an ec2 interface endpoint or a NAT), AWS_ENDPOINT_URL and the region"


class AwsUnreachable(AwsUnavailable):
    """No connection to the API's endpoint at all: no route (no interface endpoint, no NAT) or a firewall."""

    what = "is unreachable"
    fix = (
        "The agent has no route to the EC2 API: create an ec2 interface endpoint in the VPC (with private DNS) "
        "or give its subnet a NAT route; or turn the control-plane comparison off (--no-aws, VPC_VERIFY_AWS=false, "
        "the template's ControlPlane=false)"
    )


class AwsNoCredentials(AwsError):
    """boto3's credential chain found no credentials."""

    what = "has no credentials"
    fix = (
        "Give the agent credentials through boto3's chain: an instance profile, the Lambda role, "
        "AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    )


class AwsConfigError(AwsError):
    """The SDK is not configured well enough to make the call (no region, boto3 missing, bad parameter)."""

    what = "cannot be made"


class AwsNotFound(AwsError):
    """The resource asked for does not exist in this account and region."""

    what = "found nothing"
    fix = "Check the id, the region (--region or the topology's region) and the account of the credentials"


def _action(operation: str) -> str:
    return operation[:1].upper() + operation[1:] if operation else "*"


def from_botocore(exc: BaseException, service: str, operation: str) -> AwsError | None:
    """The typed form of a botocore exception, or None when `exc` is not one we recognise."""
    try:
        from botocore import exceptions as bx
    except ImportError:  # pragma: no cover - only without botocore, where no call can have been made
        return None
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
        code = str(error.get("Code") or "")
        message = str(error.get("Message") or "")
        status = (
            exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") if isinstance(exc.response, dict) else None
        )
        op = getattr(exc, "operation_name", "") or operation
        if code in _ACCESS_DENIED or status == 403:
            return AwsAccessDenied(service, op, code, message)
        if code in _THROTTLED:
            return AwsThrottled(service, op, code, message)
        if code in _UNAVAILABLE or (isinstance(status, int) and status >= 500):
            return AwsUnavailable(service, op, code, message)
        if (
            code.endswith((".NotFound", ".Malformed"))
            or code.startswith("InvalidParameter")
            or code == "InvalidServiceName"
        ):
            return AwsNotFound(service, op, code, message)
        return AwsConfigError(service, op, code, message)
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError | bx.CredentialRetrievalError):
        return AwsNoCredentials(service, operation, type(exc).__name__, str(exc))
    if isinstance(exc, bx.NoRegionError):
        return AwsConfigError(
            service,
            operation,
            "NoRegion",
            "no region is configured",
            fix="Set region: in the topology file, pass --region, or set AWS_REGION",
        )
    if isinstance(
        exc,
        bx.EndpointConnectionError
        | bx.ConnectTimeoutError
        | bx.ReadTimeoutError
        | bx.ConnectionClosedError
        | bx.ProxyConnectionError
        | bx.SSLError,
    ):
        return AwsUnavailable(service, operation, type(exc).__name__, str(exc))
    if isinstance(exc, bx.ParamValidationError):
        return AwsConfigError(service, operation, "ParamValidation", str(exc))
    if isinstance(exc, bx.BotoCoreError):
        return AwsConfigError(service, operation, type(exc).__name__, str(exc))
    return None


@contextmanager
def calling(service: str, operation: str) -> Iterator[None]:
    """Convert botocore failures raised in the block into AwsError (other exceptions pass through)."""
    try:
        yield
    except AwsError:
        raise
    except Exception as exc:
        typed = from_botocore(exc, service, operation)
        if typed is None:
            raise
        raise typed from exc
