"""Signed probe: one read-only AWS API call through the endpoint, pinned to the address being probed.

The unsigned HTTP phase against an AWS API only shows that a front end answered. This probe makes one real call
(vpc_verify.checks.calls) with the agent's own credentials, so the answer says whether the call is allowed
through this endpoint, and when it is not, which kind of policy said no: AWS's access-denied messages name it
("... with an explicit deny in a VPC endpoint policy", "... because no VPC endpoint policy allows the ...
action", and the same for identity-based policies, SCPs, RCPs, session policies and permissions boundaries).

How: botocore serializes the call (its protocol: query, JSON with X-Amz-Target, REST) and signs it with SigV4 for
the service's name (`sqs.us-east-1.amazonaws.com`); httpx sends it to the address itself, with SNI and Host set to
that name (as the HTTP probe does), so every ENI is tested; botocore parses AWS's error answer (code, message,
request id). botocore is imported on first use, in a worker thread, with the credentials (boto3's chain: the
environment, the instance profile, the Lambda role). Failures are results, never exceptions.
"""

from __future__ import annotations

import asyncio
import functools
import re
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vpc_verify.checks import trust
from vpc_verify.checks.calls import Call

MAX_BODY_BYTES = 256 * 1024  # an error answer is small; a success is not parsed
CREDENTIALS_RETRY_S = 60.0  # after no credentials were found, look again this much later (not once per address)

# Error codes that mean "not authorized" across the protocols (query, JSON, REST, EC2, SNS).
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AuthorizationErrorException",
        "UnauthorizedException",
    }
)
THROTTLED_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)
# The credentials, not a policy: the answer says nothing about authorization.
CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "IncompleteSignature",
        "IncompleteSignatureException",
        "MissingAuthenticationToken",
        "MissingAuthenticationTokenException",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "AuthFailure",
    }
)


@dataclass(frozen=True, slots=True)
class SignedSpec:
    """One signed call: dial `address:port`, SNI/Host `server_name`, sign for `region`, verify like the TLS phase."""

    address: str
    port: int
    server_name: str
    region: str
    call: Call
    timeout_s: float = 2.0
    verify: bool = True
    ca_bundle: str | None = None


class SignedStatus(StrEnum):
    """What the call's answer (or its absence) says."""

    ALLOWED = "allowed"  # a 2xx: the call is authorized through this endpoint
    DENIED = "denied"  # an access-denied answer (see Denial: which policy)
    THROTTLED = "throttled"
    ERROR = "error"  # another AWS error: credentials rejected, a server error, ... (nothing about policies)
    UNSIGNED = "unsigned"  # not sent: no credentials, or the call cannot be built (botocore missing, bad call)
    TIMEOUT = "timeout"  # no answer in time
    FAILED = "failed"  # no answer: the connection or the handshake failed


class PolicyType(StrEnum):
    """The kind of policy an access-denied message names."""

    VPC_ENDPOINT = "VPC endpoint policy"
    SERVICE_CONTROL = "service control policy"
    RESOURCE_CONTROL = "resource control policy"
    IDENTITY_BASED = "identity-based policy"
    RESOURCE_BASED = "resource-based policy"
    PERMISSIONS_BOUNDARY = "permissions boundary"
    SESSION = "session policy"
    ROLE_TRUST = "role trust policy"
    UNKNOWN = "unknown"  # the message names none (an older format, or an encoded authorization message)


# How each type is written in the messages (AWS's own examples write "a sessions policy" once).
_TYPE_PHRASES: tuple[tuple[str, PolicyType], ...] = (
    ("vpc endpoint policy", PolicyType.VPC_ENDPOINT),
    ("service control policy", PolicyType.SERVICE_CONTROL),
    ("resource control policy", PolicyType.RESOURCE_CONTROL),
    ("identity-based policy", PolicyType.IDENTITY_BASED),
    ("resource-based policy", PolicyType.RESOURCE_BASED),
    ("permissions boundary", PolicyType.PERMISSIONS_BOUNDARY),
    ("sessions policy", PolicyType.SESSION),
    ("session policy", PolicyType.SESSION),
    ("role trust policy", PolicyType.ROLE_TRUST),
)
_EXPLICIT = re.compile(r"with an explicit deny in (?:an?|the) ", re.IGNORECASE)
_IMPLICIT = re.compile(r"because no ", re.IGNORECASE)
_TRANSITIVE = re.compile(r"^\s*transitively through (?:an?|the) ", re.IGNORECASE)
_POLICY_ARN = re.compile(r"^\s*:\s*(arn:[\w-]+:[^\s]+)")
_PRINCIPAL = re.compile(r"(?:User|Principal): (\S+) is not authorized")


@dataclass(frozen=True, slots=True)
class Denial:
    """What an access-denied message says: which kind of policy, explicit or implicit, and who was denied."""

    policy: PolicyType
    explicit: bool | None = None  # None: the message does not say
    via: PolicyType | None = None  # "... in a VPC endpoint policy transitively through a service control policy"
    policy_arn: str = ""  # the denying policy's ARN (same account or organization only)
    principal: str = ""

    @property
    def by_endpoint_policy(self) -> bool:
        """The VPC endpoint's own policy denied the call (not another policy reached through it)."""
        return self.policy is PolicyType.VPC_ENDPOINT


def read_denial(message: str) -> Denial:
    """The policy an access-denied message names (PolicyType.UNKNOWN when it names none).

    A deny "in a VPC endpoint policy transitively through a service control policy" is the SCP's: AWS's guide
    says to look for the Deny in the SCPs, so `policy` is the SCP and `via` the endpoint policy.
    """
    principal = _PRINCIPAL.search(message)
    who = principal.group(1) if principal else ""
    for pattern, explicit in ((_EXPLICIT, True), (_IMPLICIT, False)):
        found = pattern.search(message)
        if found is None:
            continue
        first, rest = _policy_type(message[found.end() :])
        if first is None:
            continue
        if explicit:
            through = _TRANSITIVE.match(rest)
            if through is not None:
                second, rest = _policy_type(rest[through.end() :])
                if second is not None:
                    return Denial(second, True, via=first, policy_arn=_arn(rest), principal=who)
        return Denial(first, explicit, policy_arn=_arn(rest), principal=who)
    return Denial(PolicyType.UNKNOWN, principal=who)


def _policy_type(text: str) -> tuple[PolicyType | None, str]:
    lowered = text.lower()
    for phrase, kind in _TYPE_PHRASES:
        if lowered.startswith(phrase):
            return kind, text[len(phrase) :]
    return None, text


def _arn(rest: str) -> str:
    found = _POLICY_ARN.match(rest)
    return found.group(1).rstrip(".,;") if found else ""


@dataclass(frozen=True, slots=True)
class SignedResult:
    """The call's outcome, AWS's answer (status, error code, message, request id) and the time to it."""

    status: SignedStatus
    call: str  # sqs:ListQueues
    action: str  # the IAM action it needs
    ms: float = 0.0  # from sending to the answer (or the failure); signing is not counted
    status_code: int | None = None
    error_code: str = ""
    message: str = ""  # AWS's error message, as sent
    request_id: str = ""
    denial: Denial | None = None  # when DENIED
    error: str = ""  # what went wrong on this side (no credentials, the connection), for people


class CannotSign(Exception):
    """The call could not be built or signed (the message says why): no credentials, no botocore, a bad call."""


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A signed request, ready to send to any address of the endpoint."""

    method: str
    target: str  # path and query string
    headers: tuple[tuple[str, str], ...]
    body: bytes
    protocol: str
    operation: Any  # botocore's OperationModel, to parse the answer


async def call(spec: SignedSpec) -> SignedResult:
    """Make the call through `spec.address` and classify the answer; never raises."""
    name, action = spec.call.name, spec.call.iam_action
    try:
        request = await asyncio.to_thread(sign, spec)
    except CannotSign as exc:
        return SignedResult(SignedStatus.UNSIGNED, name, action, error=str(exc))
    try:
        context: ssl.SSLContext = trust.client_context(spec.verify, spec.ca_bundle)
    except (OSError, ssl.SSLError, ValueError) as exc:
        return SignedResult(
            SignedStatus.UNSIGNED, name, action, error=f"cannot load the trust store {spec.ca_bundle}: {exc}"
        )
    import httpx

    host = spec.address
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    url = f"https://{host}:{spec.port}{request.target}"
    start = time.perf_counter()
    try:
        async with asyncio.timeout(spec.timeout_s * 2):
            async with httpx.AsyncClient(
                verify=context, timeout=httpx.Timeout(spec.timeout_s), trust_env=False, follow_redirects=False
            ) as client:
                sent = client.build_request(
                    request.method,
                    url,
                    headers=list(request.headers),
                    content=request.body,
                    extensions={"sni_hostname": spec.server_name},
                )
                response = await client.send(sent, stream=True)
                try:
                    body = bytearray()
                    async for chunk in response.aiter_raw():
                        body += chunk
                        if len(body) >= MAX_BODY_BYTES:
                            break
                finally:
                    await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        limit = f"{spec.timeout_s * 2000:.0f} ms"
        return SignedResult(SignedStatus.TIMEOUT, name, action, _ms(start), error=f"no answer within {limit}")
    except (httpx.HTTPError, OSError, ssl.SSLError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return SignedResult(SignedStatus.FAILED, name, action, _ms(start), error=error)
    return classify(spec, request, response.status_code, response.headers, bytes(body), _ms(start))


def classify(
    spec: SignedSpec, request: SignedRequest, status_code: int, headers: Mapping[str, str], body: bytes, ms: float
) -> SignedResult:
    """The outcome of an answer: allowed (2xx), else AWS's error code and message, sorted."""
    name, action = spec.call.name, spec.call.iam_action
    request_id = _request_id(headers)
    if 200 <= status_code < 300:
        return SignedResult(SignedStatus.ALLOWED, name, action, ms, status_code, request_id=request_id)
    code, message, parsed_id = _error(request, status_code, headers, body)
    request_id = parsed_id or request_id

    def result(status: SignedStatus, denial: Denial | None = None, error: str = "") -> SignedResult:
        return SignedResult(status, name, action, ms, status_code, code, message, request_id, denial, error)

    if code in DENIED_CODES or (status_code == 403 and "not authorized to perform" in message):
        return result(SignedStatus.DENIED, denial=read_denial(message))
    if code in THROTTLED_CODES or status_code == 429:
        return result(SignedStatus.THROTTLED)
    why = "AWS rejected the agent's credentials" if code in CREDENTIAL_CODES else f"AWS answered {status_code}"
    return result(SignedStatus.ERROR, error=why)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _request_id(headers: Mapping[str, str]) -> str:
    for key in ("x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"):
        value = headers.get(key)
        if value:
            return value
    return ""


def _error(request: SignedRequest, status_code: int, headers: Mapping[str, str], body: bytes) -> tuple[str, str, str]:
    """(code, message, request id) of an error answer, parsed by botocore for the call's protocol."""
    from botocore import parsers
    from botocore.awsrequest import HeadersDict

    try:
        parsed = parsers.create_parser(request.protocol).parse(
            {"status_code": status_code, "headers": HeadersDict(dict(headers)), "body": body},
            request.operation.output_shape,
        )
    except Exception:  # an answer botocore cannot read (not AWS's): its status says what is known
        return "", body[:200].decode("utf-8", "replace"), ""
    error = parsed.get("Error") or {}
    meta = parsed.get("ResponseMetadata") or {}
    return str(error.get("Code") or ""), str(error.get("Message") or ""), str(meta.get("RequestId") or "")


# --------------------------------------------------------------------------------------- building and signing


def sign(spec: SignedSpec) -> SignedRequest:
    """Serialize the call for its protocol and sign it for `spec.server_name` (blocking: credentials may need
    the instance metadata service). Raises CannotSign with the reason when it cannot."""
    try:
        from botocore import auth, awsrequest, serialize
        from botocore.exceptions import BotoCoreError
    except ImportError:
        raise CannotSign("botocore is not installed: pip install 'vpc-verify[aws]'") from None
    call = spec.call
    try:
        model = _signer().service_model(call.service)
        operation = model.operation_model(call.operation)
        protocol = getattr(model, "resolved_protocol", None) or model.metadata["protocol"]
        serializer = serialize.create_serializer(protocol, include_validation=True)
        request_dict = serializer.serialize_to_request(dict(call.params), operation)
    except (BotoCoreError, KeyError, ValueError) as exc:
        raise CannotSign(f"cannot build the call {call.name}: {exc}") from None
    try:
        credentials = _signer().credentials()
    except BotoCoreError as exc:  # a refresh that failed (instance metadata, an expired SSO session)
        raise CannotSign(f"the AWS credentials could not be loaded: {exc}") from None
    if credentials is None:
        raise CannotSign("no AWS credentials found (environment, profile, instance profile or Lambda role)")
    netloc = spec.server_name if spec.port == 443 else f"{spec.server_name}:{spec.port}"
    awsrequest.prepare_request_dict(request_dict, endpoint_url=f"https://{netloc}", user_agent="vpc-verify")
    request = awsrequest.create_request_object(request_dict)
    signer_class = auth.S3SigV4Auth if model.signing_name == "s3" else auth.SigV4Auth
    try:
        signer_class(credentials, model.signing_name, spec.region).add_auth(request)
    except BotoCoreError as exc:
        raise CannotSign(f"cannot sign the call {call.name}: {exc}") from None
    prepared = request.prepare()
    headers = [(k, v) for k, v in prepared.headers.items() if k.lower() != "host"]
    headers.append(("Host", netloc))
    split = prepared.url.split(netloc, 1)
    target = split[1] if len(split) == 2 and split[1] else "/"
    body = prepared.body
    data = body.encode() if isinstance(body, str) else (body or b"")
    return SignedRequest(prepared.method, target, tuple(headers), data, protocol, operation)


class _Signer:
    """botocore's session (service models are loaded once) and the agent's credentials, resolved once."""

    def __init__(self) -> None:
        import botocore.session

        self._session = botocore.session.Session()
        self._lock = threading.Lock()
        self._credentials: Any = None
        self._missed_at: float | None = None

    def service_model(self, service: str) -> Any:
        return _service_model(self._session, service)

    def credentials(self) -> Any:
        """Frozen credentials (refreshed by botocore when they expire), or None when there are none."""
        with self._lock:
            if self._credentials is None:
                if self._missed_at is not None and time.monotonic() - self._missed_at < CREDENTIALS_RETRY_S:
                    return None
                self._credentials = self._session.get_credentials()
                if self._credentials is None:
                    self._missed_at = time.monotonic()
                    return None
            return self._credentials.get_frozen_credentials()


@functools.lru_cache(maxsize=64)
def _service_model(session: Any, service: str) -> Any:
    return session.get_service_model(service)


_SIGNER: list[_Signer] = []
_SIGNER_LOCK = threading.Lock()


def _signer() -> _Signer:
    with _SIGNER_LOCK:
        if not _SIGNER:
            _SIGNER.append(_Signer())
        return _SIGNER[0]


def forget_credentials() -> None:
    """Resolve the credentials again on the next call (tests; a process whose environment changed)."""
    with _SIGNER_LOCK:
        _SIGNER.clear()
