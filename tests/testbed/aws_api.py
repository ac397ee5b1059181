"""A stand-in AWS API on the ENI addresses: it checks SigV4 and answers signed calls the way AWS does.

The emulator (moto) knows only IAM denials; an endpoint policy's or an SCP's denial needs AWS's own wording, which
is what vpc-verify reads. Each listener is one ENI address (TLS, a certificate from the box's CA) and gives one
`answer`:

- `allow`: a success (the protocol's empty result),
- `endpoint_deny` / `endpoint_implicit`: the VPC endpoint policy's explicit / implicit denial,
- `identity_deny` / `identity_implicit`: an identity-based policy's,
- `scp_deny` (with the SCP's ARN, as in same-organization answers), `rcp_deny`, `session_deny`, `boundary_implicit`,
- `transitive_scp`: "... in a VPC endpoint policy transitively through a service control policy" (an SCP's deny),
- `unnamed_deny`: an access-denied message that names no policy (older formats),
- `throttle`: the protocol's throttling error; `server_error`: a 500.

Protocols, told apart as AWS does: the JSON protocols (`X-Amz-Target: AmazonSQS.ListQueues`, application/
x-amz-json-1.0 or 1.1; errors as `{"__type": ..., "message": ...}`), the query protocol (`Action=...` form bodies:
STS, SNS; errors as `<ErrorResponse><Error><Code>`), EC2's variant (`<Response><Errors>`), and REST-XML for S3
(`GET /`: ListBuckets). A request that is not signed gets MissingAuthenticationToken; a signature that does not
verify (recomputed here from the request, independently of botocore, with the fake credentials' secret) gets
SignatureDoesNotMatch. Every request is recorded (`Api.requests`) for the tests.

Run in-process (`running([...])`, a loop in a thread). Like every testbed server it listens only inside the
test's network namespace (or on loopback).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import ssl
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.testbed import background

ACCOUNT = "123456789012"
PRINCIPAL = f"arn:aws:sts::{ACCOUNT}:assumed-role/vpc-verify/i-0123456789abcdef0"
SCP_ARN = "arn:aws:organizations::999988887777:policy/o-abcd1234ef/service_control_policy/p-abcd1234"
ANSWERS = (
    "allow",
    "endpoint_deny",
    "endpoint_implicit",
    "identity_deny",
    "identity_implicit",
    "scp_deny",
    "rcp_deny",
    "session_deny",
    "boundary_implicit",
    "transitive_scp",
    "unnamed_deny",
    "throttle",
    "server_error",
)
# The JSON protocols' X-Amz-Target prefixes -> the IAM prefix.
JSON_TARGETS = {
    "AmazonSQS": "sqs",
    "TrentService": "kms",
    "AmazonSSM": "ssm",
    "secretsmanager": "secretsmanager",
    "Logs_20140328": "logs",
    "AmazonEC2ContainerRegistry_V20150921": "ecr",
    "GraniteServiceVersion20100801": "cloudwatch",
    "DynamoDB_20120810": "dynamodb",
    "AWSEvents": "events",
    "Kinesis_20131202": "kinesis",
    "AmazonEC2ContainerServiceV20141113": "ecs",
    "AWSStepFunctions": "states",
}
# The SigV4 scope's service -> the IAM prefix, where they differ.
SCOPE_PREFIX = {"monitoring": "cloudwatch"}
# Answers' messages, after "User: <arn> is not authorized to perform: <action> on resource: <resource> ".
DENIALS = {
    "endpoint_deny": "with an explicit deny in a VPC endpoint policy",
    "endpoint_implicit": "because no VPC endpoint policy allows the {action} action",
    "identity_deny": "with an explicit deny in an identity-based policy",
    "identity_implicit": "because no identity-based policy allows the {action} action",
    "scp_deny": f"with an explicit deny in a service control policy: {SCP_ARN}",
    "rcp_deny": "with an explicit deny in a resource control policy",
    "session_deny": "with an explicit deny in a session policy",
    "boundary_implicit": "because no permissions boundary allows the {action} action",
    "transitive_scp": "with an explicit deny in a VPC endpoint policy transitively through a service control policy",
    "unnamed_deny": "",
}


@dataclass(frozen=True, slots=True)
class ApiSpec:
    """One listener: an ENI address and port, its certificate, and how it answers."""

    host: str
    port: int
    certfile: str
    keyfile: str
    answer: str = "allow"
    region: str = "us-east-1"


@dataclass(frozen=True, slots=True)
class Seen:
    """One request as the stand-in saw it."""

    host: str  # the listener's address (the ENI)
    sni: str
    host_header: str
    protocol: str  # json | query | ec2 | rest-xml
    action: str  # the IAM action it asked for (sqs:ListQueues)
    signed: bool
    signature_ok: bool
    scope: str  # date/region/service/aws4_request
    answer: str


@dataclass
class Api:
    """The running listeners and what they saw."""

    secrets: Mapping[str, str] = field(default_factory=lambda: {"testing": "testing"})
    requests: list[Seen] = field(default_factory=list)
    bound: list[tuple[str, int]] = field(default_factory=list)  # each spec's (host, port), in order


def _context(spec: ApiSpec, sni: dict[int, str]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(spec.certfile, spec.keyfile)

    def remember(sock: Any, name: str | None, _: ssl.SSLContext) -> None:
        sni[id(sock)] = name or ""

    ctx.sni_callback = remember
    return ctx


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    body = await asyncio.wait_for(reader.readexactly(length), 10) if length else b""
    return method, target, headers, body


def sigv4_ok(method: str, target: str, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """Whether the request's SigV4 signature is the one `secret` makes (AWS's algorithm, written out here)."""
    auth = headers.get("authorization", "")
    fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 ") :].split(",") if "=" in part)
    credential, signed_headers, signature = (
        fields.get("Credential"),
        fields.get("SignedHeaders"),
        fields.get("Signature"),
    )
    amz_date = headers.get("x-amz-date", "")
    if not (auth.startswith("AWS4-HMAC-SHA256 ") and credential and signed_headers and signature and amz_date):
        return False
    _, date, region, service, _ = credential.split("/", 4)
    path, _, query = target.partition("?")
    pairs = sorted(
        (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
        for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)
    )
    names = signed_headers.split(";")
    if "host" not in names:
        return False
    canonical_headers = "".join(f"{n}:{' '.join(headers.get(n, '').split())}\n" for n in names)
    payload = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical = "\n".join(
        [method, path or "/", "&".join(f"{k}={v}" for k, v in pairs), canonical_headers, signed_headers, payload]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _scope(headers: Mapping[str, str]) -> tuple[str, str, str]:
    """(access key id, full scope, service) from the Authorization header ('' when absent)."""
    auth = headers.get("authorization", "")
    if "Credential=" not in auth:
        return "", "", ""
    credential = auth.split("Credential=", 1)[1].split(",", 1)[0]
    key_id, _, scope = credential.partition("/")
    parts = scope.split("/")
    return key_id, scope, parts[2] if len(parts) > 2 else ""


def _protocol_and_action(method: str, target: str, headers: Mapping[str, str], body: bytes) -> tuple[str, str, str]:
    """(protocol, IAM action, operation) of a request."""
    scope_service = _scope(headers)[2]
    amz_target = headers.get("x-amz-target")
    if amz_target:
        prefix, _, operation = amz_target.partition(".")
        return "json", f"{JSON_TARGETS.get(prefix, prefix.lower())}:{operation}", operation
    form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"))) if body else {}
    if method == "POST" and "Action" in form:
        protocol = "ec2" if scope_service == "ec2" else "query"
        iam = SCOPE_PREFIX.get(scope_service, scope_service or "sts")
        return protocol, f"{iam}:{form['Action']}", form["Action"]
    if scope_service == "s3" and method == "GET" and target.split("?")[0] == "/":
        return "rest-xml", "s3:ListAllMyBuckets", "ListBuckets"
    return "rest-json", f"{SCOPE_PREFIX.get(scope_service, scope_service)}:{method} {target}", target


def _denial_message(answer: str, action: str, region: str) -> str:
    service = action.split(":", 1)[0]
    head = f"User: {PRINCIPAL} is not authorized to perform: {action}"
    context = DENIALS[answer].format(action=action)
    if not context:
        return head
    if context.startswith("because"):
        return f"{head} {context}"
    return f"{head} on resource: arn:aws:{service}:{region}:{ACCOUNT}:* {context}"


def answer(protocol: str, action: str, operation: str, what: str, region: str) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of the answer `what` to a call, in the protocol's own format."""
    request_id = str(uuid.uuid4())
    if what == "allow":
        return _success(protocol, operation, request_id)
    if what == "throttle":
        code = {"json": "ThrottlingException", "rest-xml": "SlowDown", "ec2": "RequestLimitExceeded"}.get(
            protocol, "Throttling"
        )
        status = 503 if protocol == "rest-xml" else 400
        message = "Please reduce your request rate." if protocol == "rest-xml" else "Rate exceeded"
        return _error(protocol, status, code, message, request_id)
    if what == "server_error":
        code = "InternalFailure" if protocol in ("json", "query") else "InternalError"
        return _error(protocol, 500, code, "We encountered an internal error. Please try again.", request_id)
    message = _denial_message(what, action, region)
    if protocol == "ec2":
        message = f"You are not authorized to perform this operation. {message}"
        return _error(protocol, 403, "UnauthorizedOperation", message, request_id)
    code = "AccessDeniedException" if protocol in ("json", "rest-json") else "AccessDenied"
    return _error(protocol, 400 if protocol == "json" else 403, code, message, request_id)


def _success(protocol: str, operation: str, request_id: str) -> tuple[int, dict[str, str], bytes]:
    if protocol == "json":
        return 200, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id}, b"{}"
    if protocol == "rest-json":
        return 200, {"Content-Type": "application/json", "x-amzn-RequestId": request_id}, b"{}"
    if protocol == "rest-xml":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/'
            f'2006-03-01/"><Owner><ID>{ACCOUNT}</ID></Owner><Buckets></Buckets></ListAllMyBucketsResult>'
        )
        return 200, {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body.encode()
    if protocol == "ec2":
        body = (
            f'<{operation}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>{request_id}'
            f"</requestId></{operation}Response>"
        )
        return 200, {"Content-Type": "text/xml;charset=UTF-8"}, body.encode()
    result = ""
    if operation == "GetCallerIdentity":
        result = f"<Arn>{PRINCIPAL}</Arn><UserId>AROAEXAMPLE:i-0123456789abcdef0</UserId><Account>{ACCOUNT}</Account>"
    body = (
        f'<{operation}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{operation}Result>{result}'
        f"</{operation}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    )
    return 200, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode()


def _error(protocol: str, status: int, code: str, message: str, request_id: str) -> tuple[int, dict[str, str], bytes]:
    from xml.sax.saxutils import escape

    if protocol in ("json", "rest-json"):
        headers = {
            "Content-Type": "application/x-amz-json-1.0" if protocol == "json" else "application/json",
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": f"{code}:",
        }
        return status, headers, json.dumps({"__type": f"com.amazon.coral.service#{code}", "message": message}).encode()
    if protocol == "rest-xml":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{escape(message)}</Message>'
            f"<RequestId>{request_id}</RequestId><HostId>aGVsbG8=</HostId></Error>"
        )
        return status, {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body.encode()
    if protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{escape(message)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return status, {"Content-Type": "text/xml;charset=UTF-8"}, body.encode()
    body = (
        f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId>"
        "</ErrorResponse>"
    )
    return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode()


def _unsigned(protocol: str, signed: bool) -> tuple[int, dict[str, str], bytes]:
    request_id = str(uuid.uuid4())
    if not signed:
        code = "MissingAuthenticationTokenException" if protocol == "json" else "MissingAuthenticationToken"
        return _error(protocol, 403 if protocol != "json" else 400, code, "Missing Authentication Token", request_id)
    message = (
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details."
    )
    code = "InvalidSignatureException" if protocol == "json" else "SignatureDoesNotMatch"
    return _error(protocol, 403 if protocol != "json" else 400, code, message, request_id)


def _handler(spec: ApiSpec, api: Api, sni: dict[int, str]) -> Any:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, target, headers, body = await _read_request(reader)
            protocol, action, operation = _protocol_and_action(method, target, headers, body)
            key_id, scope, _ = _scope(headers)
            signed = bool(key_id)
            secret = api.secrets.get(key_id)
            ok = signed and secret is not None and sigv4_ok(method, target, headers, body, secret)
            ssl_object = writer.get_extra_info("ssl_object")
            sent_sni = sni.pop(id(ssl_object), "")
            api.requests.append(
                Seen(spec.host, sent_sni, headers.get("host", ""), protocol, action, signed, ok, scope, spec.answer)
            )
            status, out_headers, out_body = (
                answer(protocol, action, operation, spec.answer, spec.region) if ok else _unsigned(protocol, signed)
            )
            lines = [f"HTTP/1.1 {status} Status", f"Content-Length: {len(out_body)}", "Connection: close"]
            lines += [f"{k}: {v}" for k, v in out_headers.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + out_body)
            await writer.drain()
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass  # the client hung up or gave up
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    return handle


@contextlib.contextmanager
def running(specs: list[ApiSpec], secrets: Mapping[str, str] | None = None) -> Iterator[Api]:
    """Serve `specs` on a loop in a background thread for the duration of the block."""
    api = Api(secrets=secrets or {"testing": "testing"})
    servers: list[asyncio.Server] = []

    async def start() -> tuple[list[asyncio.Server], Api]:
        for spec in specs:
            if spec.answer not in ANSWERS:
                raise ValueError(f"unknown answer {spec.answer!r} (one of {', '.join(ANSWERS)})")
            sni: dict[int, str] = {}
            server = await asyncio.start_server(
                _handler(spec, api, sni), spec.host, spec.port, ssl=_context(spec, sni), ssl_handshake_timeout=10
            )
            servers.append(server)
            api.bound.append(server.sockets[0].getsockname()[:2])
        return servers, api

    with background.serving(start, "aws-api") as served:
        yield served


def for_box(box: Any, answers: Mapping[str, str]) -> list[ApiSpec]:
    """Listeners on every ENI address of the box's endpoints named in `answers` (endpoint name -> answer), each
    with a certificate for the endpoint's name from the box's CA. The box must not serve those endpoints itself
    (give them the fault `closed`: their addresses and DNS stay, nothing listens)."""
    specs = []
    for e in box.spec.endpoints:
        if e.name not in answers:
            continue
        cert = box.ca.issue_cert(e.dns_name)
        certfile, keyfile = box.workdir / f"api-{e.name}.crt", box.workdir / f"api-{e.name}.key"
        certfile.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        cert.private_key_pem.write_to_path(str(keyfile))
        specs += [
            ApiSpec(a, e.port, str(certfile), str(keyfile), answers[e.name], box.spec.region) for a in e.addresses
        ]
    return specs
