"""`Custom::VpcVerify`: the gate as a CloudFormation custom resource (handler `handler.cfn_handler`).

CloudFormation sends Create, Update and Delete requests; the function answers each by PUTting a JSON document
to the request's pre-signed ResponseURL (content-type '' as the signature expects, at most 4096 bytes).
On Create and Update it runs the gate (vpc_verify.shells.gate) until healthy or out of time and answers
SUCCESS (Data: RunId, Healthy, Endpoints, Attempts, Report) or FAILED with a Reason that names the failing
endpoints and their top findings and points at the full report. Delete answers SUCCESS at once. An Update
that CloudFormation sends while rolling the stack back answers SUCCESS without a check: a gate must never
turn a rollback into UPDATE_ROLLBACK_FAILED.

It never leaves a stack waiting: every path, a bad topology and an internal error included, answers before
the invocation's own timeout (the check runs in a worker with a budget; the answer keeps a reserve), and the
PUT is retried on network errors and 5xx. The physical resource id is derived from the stack and the
logical id, and echoed on Update and Delete, so an update never turns into a replacement.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from vpc_verify.logs import get_logger
from vpc_verify.shells import gate
from vpc_verify.shells.spec import GateSpecError, parse_spec

MAX_BODY_BYTES = 4096
REQUEST_TYPES = ("Create", "Update", "Delete")
PUT_ATTEMPTS = 5
PUT_CONNECT_TIMEOUT_S = 3.0
PUT_TIMEOUT_S = 10.0
STATUS_LOOKUP_S = 5.0
_STACK_ARN = re.compile(r"^arn:[\w-]+:cloudformation:(?P<region>[a-z0-9-]+):\d*:stack/(?P<name>[^/]+)/")


@dataclass(frozen=True, slots=True)
class Answer:
    """What goes back to CloudFormation."""

    status: str  # SUCCESS | FAILED
    reason: str
    physical_id: str
    data: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Sent:
    """How the answer's PUT went."""

    ok: bool
    attempts: int
    status: int | None = None
    error: str = ""


def handle(
    event: object,
    context: Any = None,
    environ: Mapping[str, str] | None = None,
    *,
    tls: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """One CloudFormation request: check (or not), answer, and return what was answered (for the log)."""
    env = os.environ if environ is None else environ
    log = gate.start_invocation(context, env, "cfn_resource")
    start = clock()
    end = start + gate.remaining_s(context, default=900.0)
    try:
        if not isinstance(event, Mapping) or not all(
            isinstance(event.get(k), str) and event.get(k)
            for k in ("ResponseURL", "StackId", "RequestId", "LogicalResourceId")
        ):
            # Without these there is nobody to answer: say so in the log, which is all there is.
            log.error(
                "cfn_request_unanswerable", keys=sorted(str(k) for k in event) if isinstance(event, Mapping) else []
            )
            return {"answered": False, "error": "not a CloudFormation custom resource request"}
        if not str(event["ResponseURL"]).startswith("https://"):
            log.error("cfn_response_url_refused", reason="the ResponseURL is not https")
            return {"answered": False, "error": "the ResponseURL is not https"}
        structlog.contextvars.bind_contextvars(
            stack_id=event["StackId"], logical_id=event["LogicalResourceId"], request_type=event.get("RequestType")
        )
        answer = _decide(event, context, env, start=start, end=end, clock=clock, log=log)
        body = response_body(event, answer)
        sent = send(str(event["ResponseURL"]), body, deadline=end - 0.2, tls=tls, clock=clock)
        log.info(
            "cfn_answered",
            status=answer.status,
            physical_id=answer.physical_id,
            reason=answer.reason[:500],
            put_ok=sent.ok,
            put_attempts=sent.attempts,
            put_status=sent.status,
            put_error=sent.error or None,
            bytes=len(body),
            s=round(clock() - start, 2),
        )
        return {
            "answered": sent.ok,
            "status": answer.status,
            "physical_id": answer.physical_id,
            "reason": answer.reason,
            "put": {"attempts": sent.attempts, "status": sent.status, "error": sent.error},
        }
    finally:
        structlog.contextvars.clear_contextvars()


def _decide(
    event: Mapping[str, Any],
    context: Any,
    env: Mapping[str, str],
    *,
    start: float,
    end: float,
    clock: Callable[[], float],
    log: Any,
) -> Answer:
    """The answer to the request; never raises."""
    kind = event.get("RequestType")
    physical = physical_id(event)
    run_id = gate.new_run_id(context)
    if kind == "Delete":
        return Answer("SUCCESS", "vpc-verify: nothing to delete", physical, {"RunId": run_id})
    if kind not in REQUEST_TYPES:
        return Answer("FAILED", f"vpc-verify: unknown RequestType {str(kind)[:40]!r}", physical, {"RunId": run_id})
    try:
        spec = parse_spec(event.get("ResourceProperties"), source="Properties", strings=True)
    except GateSpecError as exc:
        return Answer("FAILED", f"vpc-verify: bad properties: {exc}", physical, {"RunId": run_id})
    left = end - clock()
    reserve = min(10.0, max(1.5, left * 0.2))  # for the answer: the PUT and its retries
    budget = left - reserve
    if kind == "Update":
        status = _stack_status(str(event["StackId"]), min(STATUS_LOOKUP_S, max(0.5, budget / 4)))
        if status and status.endswith("ROLLBACK_IN_PROGRESS"):
            log.info("cfn_rollback_not_checked", stack_status=status)
            return Answer(
                "SUCCESS",
                f"vpc-verify: the stack is rolling back ({status}); a gate does not block a rollback",
                physical,
                {"RunId": run_id, "Skipped": "rollback"},
            )
        budget = (end - clock()) - reserve
    if budget < gate.MIN_CHECK_S:
        return Answer(
            "FAILED",
            f"vpc-verify: only {max(0.0, end - clock()):.1f} s of the function's timeout were left: too little to "
            "check (raise the function's Timeout)",
            physical,
            {"RunId": run_id},
        )
    location = gate.log_location(context)
    try:
        outcome = gate.within(
            lambda: gate.run_gate(spec, budget_s=budget - 0.5, environ=env, run_id=run_id, location=location),
            budget,
        )
    except Exception as exc:
        kind_, message = gate.describe_error(exc)
        log.error("cfn_check_failed", error=kind_, detail=message[:500])
        where = f" See {location}." if location else ""
        return Answer("FAILED", f"vpc-verify could not check ({kind_}): {message}{where}", physical, {"RunId": run_id})
    data = {
        "RunId": outcome.run_id,
        "Healthy": "true" if outcome.converged else "false",
        "Endpoints": str(len(outcome.report.endpoints)),
        "Attempts": str(outcome.attempts),
        "Report": outcome.report_location[:512],
    }
    tail = " ".join(x for x in (outcome.pointer(), *outcome.notes) if x)
    status = "SUCCESS" if outcome.converged else "FAILED"
    items = [] if outcome.converged else outcome.failing()
    return Answer(status, _fit_reason(event, status, physical, data, outcome.headline(), items, tail), physical, data)


def _fit_reason(
    event: Mapping[str, Any],
    status: str,
    physical: str,
    data: Mapping[str, str],
    head: str,
    items: list[str],
    tail: str,
) -> str:
    from vpc_verify.render import verdict

    def size(reason: str) -> int:
        return len(response_body(event, Answer(status, reason, physical, data)))

    return verdict.fit(head, items, tail, limit=MAX_BODY_BYTES, size=size)


def physical_id(event: Mapping[str, Any]) -> str:
    """The request's own id on Update and Delete; on Create one derived from the stack and the logical id
    (the same for a retried Create)."""
    given = event.get("PhysicalResourceId")
    if isinstance(given, str) and given and event.get("RequestType") != "Create":
        return given
    stack = str(event.get("StackId", ""))
    logical = str(event.get("LogicalResourceId", ""))
    match = _STACK_ARN.match(stack)
    name = match["name"] if match else "stack"
    digest = hashlib.sha256(f"{stack}/{logical}".encode()).hexdigest()[:12]
    return f"vpc-verify-{name[:100]}-{logical[:200]}-{digest}"


def response_body(event: Mapping[str, Any], answer: Answer) -> bytes:
    """The JSON document CloudFormation reads (its ids copied from the request)."""
    doc: dict[str, Any] = {
        "Status": answer.status,
        "Reason": answer.reason,
        "PhysicalResourceId": answer.physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": dict(answer.data),
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def send(
    url: str,
    body: bytes,
    *,
    deadline: float,
    tls: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Sent:
    """PUT the answer to the pre-signed URL, retrying network errors, 429 and 5xx until `deadline`.

    The signature covers an empty content-type, so the header is sent empty (as AWS's cfn-response does);
    other 4xx (an expired or altered URL) are final.
    """
    import httpx

    from vpc_verify.checks import trust

    context = tls or trust.client_context()
    headers = {"Content-Type": "", "Content-Length": str(len(body))}
    attempt = 0
    last = Sent(False, 0, error="no time left to answer")
    with httpx.Client(verify=context, trust_env=False, follow_redirects=False) as client:
        while attempt < PUT_ATTEMPTS:
            left = deadline - clock()
            if left <= 0.05:
                break
            attempt += 1
            timeout = httpx.Timeout(min(PUT_TIMEOUT_S, left), connect=min(PUT_CONNECT_TIMEOUT_S, left))
            try:
                response = client.put(url, content=body, headers=headers, timeout=timeout)
            except httpx.HTTPError as exc:
                last = Sent(False, attempt, error=f"{type(exc).__name__}: {str(exc)[:200]}")
            else:
                if 200 <= response.status_code < 300:
                    return Sent(True, attempt, response.status_code)
                last = Sent(False, attempt, response.status_code, f"HTTP {response.status_code}")
                if response.status_code < 500 and response.status_code != 429:
                    return last
            pause = min(0.5 * 2 ** (attempt - 1), deadline - clock() - 0.1)
            if pause > 0 and attempt < PUT_ATTEMPTS:
                sleep(pause)
    return last


def _stack_status(stack_id: str, timeout_s: float) -> str | None:
    """The stack's status, or None when it cannot be read in time (the check then runs as usual)."""
    match = _STACK_ARN.match(stack_id)

    def read() -> str:
        from vpc_verify.aws import clients
        from vpc_verify.aws.errors import calling

        with calling("cloudformation", "DescribeStacks"):
            stacks = clients.client("cloudformation", match["region"] if match else None).describe_stacks(
                StackName=stack_id
            )["Stacks"]
        return str(stacks[0]["StackStatus"]) if stacks else ""

    try:
        return gate.within(read, timeout_s) or None
    except Exception as exc:
        get_logger(component="cfn_resource").warning("cfn_stack_status_unknown", error=str(exc)[:300])
        return None
