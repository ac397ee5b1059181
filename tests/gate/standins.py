"""Stand-ins for the AWS endpoints a deployment gate answers to, on 127.0.0.1 only.

- `ResponseBucket`: the pre-signed S3 URL CloudFormation hands a custom resource (HTTPS with a trustme CA). It
  records every PUT (headers, body, when it arrived) and, like S3 for a URL signed without a content type,
  refuses a PUT whose Content-Type is not empty (403 SignatureDoesNotMatch) and one without Content-Length.
  It can fail the first N PUTs (500, or a dropped connection) to exercise the retries.
- `CodePipelineApi`: the JSON protocol of CodePipeline's PutJobSuccessResult / PutJobFailureResult
  (`X-Amz-Target: CodePipeline_20150709.*`), which moto does not implement. It validates the request as the
  API reference states (job id pattern, failure types, summary <= 2048, message <= 5000, continuation token
  <= 2048, no output variables with a continuation token) and records it.
- `CloudFormationApi`: DescribeStacks (query protocol, XML) with a settable stack status, for the rollback
  path; moto's stacks never roll back.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme

JOB_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FAILURE_TYPES = {
    "JobFailed",
    "ConfigurationError",
    "PermissionError",
    "RevisionOutOfSync",
    "RevisionUnavailable",
    "SystemUnavailable",
}


@dataclass
class Recorded:
    """One request as the stand-in saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived

    def json(self) -> Any:
        return json.loads(self.body)


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def record(self, req: BaseHTTPRequestHandler, body: bytes) -> Recorded:
        item = Recorded(req.command, req.path, {k.lower(): v for k, v in req.headers.items()}, body, time.monotonic())
        with self.lock:
            self.requests.append(item)
        return item


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep pytest's output clean
        pass

    @property
    def owner(self) -> Any:
        return self.server.owner  # type: ignore[attr-defined]

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, body: bytes = b"", content_type: str = "application/xml") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# ---------------------------------------------------------------------------------------------- response URL


class _BucketHandler(_Handler):
    def do_PUT(self) -> None:
        bucket: ResponseBucket = self.owner
        if "Content-Length" not in self.headers:
            bucket.record(self, b"")
            self.reply(411, b"<Error><Code>MissingContentLength</Code></Error>")
            return
        item = bucket.record(self, self.body())
        with bucket.lock:
            n = len(bucket.requests)
        if n <= bucket.fail_first:
            if bucket.fail_mode == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.reply(500, b"<Error><Code>InternalError</Code></Error>")
            return
        if item.headers.get("content-type", None) != "":
            self.reply(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
            return
        with bucket.lock:
            bucket.accepted.append(item)
        self.reply(200)


class ResponseBucket(_Server):
    """An HTTPS stand-in for the pre-signed S3 URL of a custom resource's answer."""

    def __init__(self, ca: trustme.CA, *, fail_first: int = 0, fail_mode: str = "500") -> None:
        cert = ca.issue_cert("127.0.0.1")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(ctx)
        super().__init__(_BucketHandler, ctx)
        self.fail_first = fail_first
        self.fail_mode = fail_mode
        self.accepted: list[Recorded] = []

    def url(self, name: str = "answer") -> str:
        """A URL shaped like CloudFormation's (a signed query string it must keep verbatim)."""
        query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=7200&X-Amz-Signature=5e1f0c"
        return f"https://127.0.0.1:{self.port}/cloudformation-custom-resource-response-useast1/{name}?{query}"

    def answers(self) -> list[Recorded]:
        """The PUTs it accepted (200)."""
        with self.lock:
            return list(self.accepted)


# ---------------------------------------------------------------------------------------------- CodePipeline


class _PipelineHandler(_Handler):
    def do_POST(self) -> None:
        api: CodePipelineApi = self.owner
        item = api.record(self, self.body())
        target = item.headers.get("x-amz-target", "")
        with api.lock:
            n = len(api.requests)
        if n <= api.fail_first:
            self.error(500, "InternalFailure", "the stand-in fails this call on purpose")
            return
        try:
            doc = item.json()
        except ValueError:
            self.error(400, "SerializationException", "not JSON")
            return
        problem = _validate(target, doc)
        if problem:
            self.error(400, "ValidationException", problem)
            return
        if doc["jobId"] in api.finished:
            self.error(400, "InvalidJobStateException", "the job is not in progress")
            return
        if "continuationToken" not in doc:
            api.finished.add(doc["jobId"])
        self.reply(200, b"{}", "application/x-amz-json-1.1")

    def error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"__type": code, "message": message}).encode()
        self.reply(status, body, "application/x-amz-json-1.1")


def _validate(target: str, doc: dict[str, Any]) -> str:
    if target not in ("CodePipeline_20150709.PutJobSuccessResult", "CodePipeline_20150709.PutJobFailureResult"):
        return f"unknown operation {target}"
    if not JOB_ID.match(str(doc.get("jobId", ""))):
        return "jobId must match the job id pattern"
    if target.endswith("PutJobFailureResult"):
        details = doc.get("failureDetails") or {}
        if details.get("type") not in FAILURE_TYPES:
            return "failureDetails.type is not a valid value"
        if not 1 <= len(str(details.get("message", ""))) <= 5000:
            return "failureDetails.message must be 1 to 5000 characters"
        if "externalExecutionId" in details and not 1 <= len(details["externalExecutionId"]) <= 1500:
            return "failureDetails.externalExecutionId must be 1 to 1500 characters"
        return ""
    details = doc.get("executionDetails") or {}
    if "summary" in details and not 1 <= len(details["summary"]) <= 2048:
        return "executionDetails.summary must be 1 to 2048 characters"
    if "percentComplete" in details and not 0 <= int(details["percentComplete"]) <= 100:
        return "executionDetails.percentComplete must be 0 to 100"
    if "continuationToken" in doc:
        if not 1 <= len(doc["continuationToken"]) <= 2048:
            return "continuationToken must be 1 to 2048 characters"
        if doc.get("outputVariables"):
            return "outputVariables can be included only when there is no continuation token"
    return ""


class CodePipelineApi(_Server):
    """A stand-in for CodePipeline's job-result API on http://127.0.0.1."""

    def __init__(self, *, fail_first: int = 0) -> None:
        super().__init__(_PipelineHandler)
        self.fail_first = fail_first
        self.finished: set[str] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def results(self) -> list[tuple[str, dict[str, Any]]]:
        """(operation, request) of every call, in order."""
        with self.lock:
            return [(r.headers.get("x-amz-target", "").split(".")[-1], r.json()) for r in self.requests]


# ---------------------------------------------------------------------------------------------- CloudFormation

_DESCRIBE = """<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DescribeStacksResult><Stacks><member>
    <StackName>{name}</StackName><StackId>{stack_id}</StackId>
    <CreationTime>2026-11-01T00:00:00Z</CreationTime><StackStatus>{status}</StackStatus>
  </member></Stacks></DescribeStacksResult>
  <ResponseMetadata><RequestId>d1</RequestId></ResponseMetadata>
</DescribeStacksResponse>"""


class _CfnHandler(_Handler):
    def do_POST(self) -> None:
        api: CloudFormationApi = self.owner
        item = api.record(self, self.body())
        form = urllib.parse.parse_qs(item.body.decode())
        if form.get("Action") != ["DescribeStacks"]:
            self.reply(400, b"<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>")
            return
        stack_id = form.get("StackName", [""])[0]
        name = stack_id.split("/")[1] if "/" in stack_id else stack_id
        self.reply(200, _DESCRIBE.format(name=name, stack_id=stack_id, status=api.status).encode())


class CloudFormationApi(_Server):
    """A stand-in for CloudFormation's DescribeStacks with the status a test sets."""

    def __init__(self, status: str = "UPDATE_IN_PROGRESS") -> None:
        super().__init__(_CfnHandler)
        self.status = status

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
