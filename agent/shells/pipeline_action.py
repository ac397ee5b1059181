"""The gate as a CodePipeline Lambda invoke action (handler `handler.pipeline_handler`).

CodePipeline invokes the function with a `CodePipeline.job` event and waits for the job's result, which the
function reports with PutJobSuccessResult (executionDetails.summary, at most 2048 characters, shown on the
action; output variables Healthy, Endpoints, Attempts, RunId, Report) or PutJobFailureResult
(failureDetails.message, at most 5000 characters: the failing endpoints, their findings, the report's place).
The action's UserParameters hold the gate's properties as a JSON object (vpc_verify.shells.gate).

A wait longer than one invocation continues in the next: when the invocation runs out of time before the
wait does, the function reports success with a continuationToken (the wait's start, runs so far and the
healthy streak), and CodePipeline invokes it again with that token. A bad UserParameters is a
ConfigurationError; every other path reports a result, so the action never hangs until its timeout.
The event carries temporary artifact credentials: it is never logged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import structlog

from vpc_verify.logs import get_logger
from vpc_verify.render import verdict
from vpc_verify.shells import gate
from vpc_verify.shells.spec import GateSpecError, parse_spec

SUMMARY_MAX = 2048
MESSAGE_MAX = 5000
TOKEN_MAX = 2048
ANSWER_RESERVE_S = 5.0  # for PutJob*Result and its retries
OUTPUT_VALUE_MAX = 1000


@dataclass(frozen=True, slots=True)
class Progress:
    """A wait carried across invocations in the continuation token."""

    started: float  # wall-clock seconds
    attempts: int
    streak: int
    run_id: str

    def encode(self) -> str:
        """The token (JSON, well under 2048 characters)."""
        return json.dumps(
            {
                "v": 1,
                "started": round(self.started, 3),
                "attempts": self.attempts,
                "streak": self.streak,
                "run": self.run_id,
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, token: object) -> Progress | None:
        """The progress in a token this function wrote, or None."""
        try:
            doc = json.loads(str(token))
            if doc.get("v") != 1:
                return None
            return cls(float(doc["started"]), int(doc["attempts"]), int(doc["streak"]), str(doc["run"])[:128])
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


def handle(event: object, context: Any = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One CodePipeline job: check, report the job's result, and return what was reported (for the log)."""
    env = os.environ if environ is None else environ
    log = gate.start_invocation(context, env, "pipeline_action")
    try:
        job = event.get("CodePipeline.job") if isinstance(event, Mapping) else None
        job_id = job.get("id") if isinstance(job, Mapping) else None
        if not isinstance(job, Mapping) or not isinstance(job_id, str) or not job_id:
            log.error("pipeline_job_unanswerable")
            return {"reported": False, "error": "not a CodePipeline job event"}
        structlog.contextvars.bind_contextvars(job_id=job_id)
        result = _run(job, job_id, context, env, log)
        log.info("pipeline_reported", **{k: v for k, v in result.items() if k not in ("summary", "message")})
        return result
    finally:
        structlog.contextvars.clear_contextvars()


def _run(job: Mapping[str, Any], job_id: str, context: Any, env: Mapping[str, str], log: Any) -> dict[str, Any]:
    data = _mapping(job.get("data"))
    configuration = _mapping(_mapping(data.get("actionConfiguration")).get("configuration"))
    try:
        spec = parse_spec(_user_parameters(configuration.get("UserParameters")), source="UserParameters")
    except GateSpecError as exc:
        return _fail(job_id, "ConfigurationError", f"vpc-verify: bad UserParameters: {exc}", None, env, log)

    token = data.get("continuationToken")
    progress = Progress.decode(token) if token else None
    if token and progress is None:
        log.warning("pipeline_token_unreadable")
    progress = progress or Progress(gate.now_epoch(), 0, 0, gate.new_run_id(context))
    structlog.contextvars.bind_contextvars(run_id=progress.run_id)
    wait_left = max(0.0, spec.wait_s - (gate.now_epoch() - progress.started))
    budget = gate.remaining_s(context, default=900.0) - ANSWER_RESERVE_S
    if budget < gate.MIN_CHECK_S:
        message = "vpc-verify: too little of the function's timeout was left to check (raise its Timeout)"
        return _fail(job_id, "JobFailed", message, progress.run_id, env, log)
    location = gate.log_location(context)
    try:
        outcome = gate.within(
            lambda: gate.run_gate(
                replace(spec, wait_s=wait_left),
                budget_s=budget - 0.5,
                environ=env,
                run_id=progress.run_id,
                streak=progress.streak,
                location=location,
            ),
            budget,
        )
    except Exception as exc:
        kind, message = gate.describe_error(exc)
        where = f" See {location}." if location else ""
        failure = "ConfigurationError" if kind in ("ConfigurationError", "TopologyError") else "JobFailed"
        return _fail(
            job_id, failure, f"vpc-verify could not check ({kind}): {message}{where}", progress.run_id, env, log
        )

    attempts = progress.attempts + outcome.attempts
    waited = gate.now_epoch() - progress.started
    head = verdict.headline(
        outcome.report, attempts=attempts, waited_s=waited, converged=outcome.converged, healthy_runs=spec.healthy_runs
    )
    tail = " ".join(x for x in (outcome.pointer(), *outcome.notes) if x)
    if outcome.converged:
        summary = verdict.fit(head, [], tail, limit=SUMMARY_MAX)
        variables = {
            "Healthy": "true",
            "Endpoints": str(len(outcome.report.endpoints)),
            "Attempts": str(attempts),
            "RunId": progress.run_id,
            "Report": outcome.report_location[:OUTPUT_VALUE_MAX] or "-",
        }
        return _put(
            "put_job_success_result",
            {
                "jobId": job_id,
                "executionDetails": {
                    "summary": summary,
                    "externalExecutionId": progress.run_id,
                    "percentComplete": 100,
                },
                "outputVariables": variables,
            },
            env,
            log,
            verdict="SUCCESS",
            summary=summary,
        )
    still = spec.wait_s - waited
    if still > 1.0 and outcome.cut_short:
        # The invocation, not the wait, ran out: go on in the next invocation.
        carried = Progress(progress.started, attempts, outcome.healthy_streak, progress.run_id)
        summary = verdict.fit(f"{head}; waiting {still:.0f} s more", outcome.failing(), "", limit=SUMMARY_MAX)
        return _put(
            "put_job_success_result",
            {
                "jobId": job_id,
                "continuationToken": carried.encode()[:TOKEN_MAX],
                "executionDetails": {
                    "summary": summary,
                    "externalExecutionId": progress.run_id,
                    "percentComplete": max(0, min(99, int(100 * waited / max(1.0, spec.wait_s)))),
                },
            },
            env,
            log,
            verdict="CONTINUE",
            summary=summary,
        )
    message = verdict.fit(head, outcome.failing(), tail, limit=MESSAGE_MAX)
    return _fail(job_id, "JobFailed", message, progress.run_id, env, log)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _user_parameters(raw: object) -> object:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, str):
        raise GateSpecError("UserParameters", "", "a JSON object of properties", type(raw).__name__)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise GateSpecError("UserParameters", "", f"a JSON object of properties ({exc})") from None


def _fail(job_id: str, kind: str, message: str, run_id: str | None, env: Mapping[str, str], log: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"type": kind, "message": message[:MESSAGE_MAX] or "vpc-verify failed"}
    if run_id:
        details["externalExecutionId"] = run_id
    return _put(
        "put_job_failure_result",
        {"jobId": job_id, "failureDetails": details},
        env,
        log,
        verdict="FAILED",
        message=message,
    )


def _put(operation: str, params: dict[str, Any], env: Mapping[str, str], log: Any, **shown: Any) -> dict[str, Any]:
    """Report the job's result (boto3's standard retries); a failure to report is logged, never raised."""
    from vpc_verify.aws import clients
    from vpc_verify.aws.errors import calling

    api = "".join(part.capitalize() for part in operation.split("_"))
    try:
        with calling("codepipeline", api):
            getattr(clients.client("codepipeline", env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")), operation)(
                **params
            )
    except Exception as exc:
        get_logger(component="pipeline_action").error("pipeline_report_failed", operation=api, error=str(exc)[:500])
        return {"reported": False, "operation": api, "error": str(exc)[:500], **shown}
    return {"reported": True, "operation": api, **shown}
