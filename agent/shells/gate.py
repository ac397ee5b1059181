"""The post-deploy gate shared by the deployment shells: what to check, how long to wait, and the verdict.

A gate is a `check --wait` run inside a Lambda invocation: the topology (inline, an SSM parameter or an S3
object), re-run until healthy (`HealthyRuns` in a row) or out of time, with the whole wait bounded by the
time the invocation has left. The CloudFormation custom resource (cfn_resource), the CodePipeline action
(pipeline_action) and a direct invocation (`handle` here, for Terraform's aws_lambda_invocation) are thin
protocols over `run_gate`; they differ only in how they are asked and how they answer.
The properties are read by vpc_verify.shells.spec.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import structlog

from vpc_verify import plan as plan_mod
from vpc_verify import topology as topology_mod
from vpc_verify.errors import UsageError
from vpc_verify.logs import configure as configure_logs
from vpc_verify.logs import get_logger
from vpc_verify.publish.config import SinkConfig
from vpc_verify.render import verdict
from vpc_verify.report import Report
from vpc_verify.shells.spec import S3_URL, GateSpec, GateSpecError, parse_spec
from vpc_verify.wait import run_until_healthy

MAX_LOGGED_REPORT_CHARS = 200_000  # a CloudWatch Logs event holds 256 KB: larger reports are logged per endpoint
MIN_CHECK_S = 2.0  # less time than this left for checking: answer at once rather than run a useless check
T = TypeVar("T")


class GateTimeout(Exception):
    """The check did not finish within the time the invocation had for it."""


@dataclass(frozen=True, slots=True)
class GateOutcome:
    """The last report of the wait and how the wait went."""

    report: Report
    run_id: str
    attempts: int
    waited_s: float
    converged: bool
    healthy_streak: int
    healthy_runs: int
    wait_asked_s: float
    wait_given_s: float
    report_location: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cut_short(self) -> bool:
        """The invocation had less time than the wait asked for."""
        return self.wait_given_s + 0.5 < self.wait_asked_s

    def headline(self) -> str:
        """One line: the verdict, runs and time."""
        line = verdict.headline(
            self.report,
            attempts=self.attempts,
            waited_s=self.waited_s,
            converged=self.converged,
            healthy_runs=self.healthy_runs,
        )
        if not self.converged and self.cut_short:
            line += f" (the wait was cut to {self.wait_given_s:.0f} s of {self.wait_asked_s:.0f} s by the timeout)"
        return line

    def failing(self) -> list[str]:
        """The failing endpoints, one line each."""
        return verdict.failing(self.report)

    def pointer(self) -> str:
        """Where the full report is."""
        return f"Full report: {self.report_location}" if self.report_location else ""

    def summary(self) -> dict[str, Any]:
        """A machine summary (the direct invocation's result; logged by every shell)."""
        return {
            "version": 1,
            "healthy": self.converged,
            "run_id": self.run_id,
            "attempts": self.attempts,
            "waited_s": round(self.waited_s, 1),
            "endpoints": len(self.report.endpoints),
            "unhealthy": [
                {"endpoint": e.name, "codes": sorted({f.code.value for f in e.findings if f.is_error})}
                for e in self.report.endpoints
                if not e.healthy
            ],
            "run_findings": sorted({f.code.value for f in self.report.run_findings if f.is_error}),
            "reason": verdict.fit(self.headline(), self.failing(), self.pointer(), limit=4000),
            "report": self.report_location,
        }


# ------------------------------------------------------------------------------------------------ running


def new_run_id(context: Any = None) -> str:
    """The invocation's request id when there is one (it finds the log lines), else a fresh one."""
    request_id = getattr(context, "aws_request_id", None)
    return str(request_id) if request_id else str(uuid.uuid4())


def remaining_s(context: Any, default: float = 60.0) -> float:
    """Seconds the invocation has left (`default` without a Lambda context)."""
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if callable(getter):
        return max(0.0, float(getter()) / 1000.0)
    return default


def log_location(context: Any) -> str:
    """The invocation's log stream, in words, or '' outside Lambda."""
    group = getattr(context, "log_group_name", None)
    stream = getattr(context, "log_stream_name", None)
    if group and stream:
        return f"CloudWatch Logs {group} stream {stream}"
    return ""


def load_topology(spec: GateSpec, environ: Mapping[str, str]) -> topology_mod.Topology:
    """The spec's topology, else the function's configured source."""
    if isinstance(spec.topology, str):
        return topology_mod.loads(spec.topology, source=f"{spec.source}.Topology")
    if spec.topology is not None:
        return topology_mod.parse(spec.topology, source=f"{spec.source}.Topology")
    # SSM, S3 and the packaged file are read by the Lambda shell's loader; a source named here replaces the
    # function's own.
    from vpc_verify import lambda_entry

    env = dict(environ)
    if spec.ssm_parameter or spec.s3_url:
        env.pop("VPC_VERIFY_TOPOLOGY_SSM", None)
        env.pop("VPC_VERIFY_TOPOLOGY_S3", None)
        if spec.ssm_parameter:
            env["VPC_VERIFY_TOPOLOGY_SSM"] = spec.ssm_parameter
        if spec.s3_url:
            env["VPC_VERIFY_TOPOLOGY_S3"] = spec.s3_url
    return lambda_entry.load_topology(lambda_entry.Request(), env)


def run_gate(
    spec: GateSpec,
    *,
    budget_s: float,
    environ: Mapping[str, str],
    run_id: str,
    streak: int = 0,
    location: str = "",
    progress: Callable[[str], None] | None = None,
) -> GateOutcome:
    """Check until converged or `budget_s` is spent (the smaller of it and the spec's wait); log the report and
    store it where the spec asks. Raises the topology's, the plan's and AWS's typed errors."""
    given = max(0.0, min(spec.wait_s, budget_s))
    run_deadline = max(1.0, min(spec.run_deadline_s, budget_s))
    topology = load_topology(spec, environ)
    the_plan = plan_mod.build(
        topology,
        mode="lambda",
        only=spec.only,
        aws=spec.control_plane and environ.get("VPC_VERIFY_AWS", "true").lower() != "false",
        deadline_s=run_deadline,
        sink=SinkConfig(name="none"),
    )
    hard_end = time.monotonic() + budget_s

    def run_once(_: float) -> Report:
        # The wait decides whether another run starts; a run that starts has its whole deadline (bounded only by
        # the invocation), since a run cut short reports DEADLINE_EXCEEDED in place of the cause.
        return the_plan.with_deadline(max(1.0, min(run_deadline, hard_end - time.monotonic()))).run()

    result = run_until_healthy(
        run_once,
        given,
        run_deadline_s=run_deadline,
        interval_s=spec.interval_s,
        healthy_runs=spec.healthy_runs,
        streak=streak,
        progress=progress,
    )
    outcome = GateOutcome(
        report=result.report,
        run_id=run_id,
        attempts=result.attempts,
        waited_s=result.waited_s,
        converged=result.converged,
        healthy_streak=result.healthy_streak,
        healthy_runs=spec.healthy_runs,
        wait_asked_s=spec.wait_s,
        wait_given_s=given,
        report_location=location,
    )
    log_report(outcome)
    if spec.report_s3_url:
        outcome = store_report(outcome, spec.report_s3_url, topology.region or _region(environ))
    return outcome


def log_report(outcome: GateOutcome) -> None:
    """The full report in the function's log: one line, or one per endpoint when it is too large for one."""
    log = get_logger(component="gate", run_id=outcome.run_id)
    doc = outcome.report.to_dict()
    text = json.dumps(doc, default=str)
    if len(text) <= MAX_LOGGED_REPORT_CHARS:
        log.info("gate_report", healthy=outcome.converged, attempts=outcome.attempts, report=doc)
        return
    for endpoint in doc["endpoints"]:
        if not endpoint["healthy"]:
            log.info("gate_report_endpoint", endpoint=endpoint)
    log.info(
        "gate_report",
        healthy=outcome.converged,
        attempts=outcome.attempts,
        endpoints=len(doc["endpoints"]),
        healthy_endpoints=[e["name"] for e in doc["endpoints"] if e["healthy"]],
        run_findings=doc["findings"] if not doc["endpoints"] else [f for f in doc["findings"] if f["endpoint"] == "*"],
    )


def store_report(outcome: GateOutcome, url: str, region: str | None) -> GateOutcome:
    """Put the JSON report at `url`/<run id>.json; on failure keep the log location and say why in the notes."""
    match = S3_URL.match(url)
    assert match is not None  # parse_spec validated it
    prefix = (match["key"] or "").strip("/")
    key = f"{prefix}/{outcome.run_id}.json" if prefix else f"{outcome.run_id}.json"
    body = json.dumps(
        {"run_id": outcome.run_id, "attempts": outcome.attempts, **outcome.report.to_dict()}, default=str, indent=1
    )
    try:
        from vpc_verify.aws import clients
        from vpc_verify.aws.errors import calling

        with calling("s3", "PutObject"):
            clients.s3(region).put_object(
                Bucket=match["bucket"], Key=key, Body=body.encode(), ContentType="application/json"
            )
    except Exception as exc:
        get_logger(component="gate", run_id=outcome.run_id).warning("gate_report_not_stored", url=url, error=str(exc))
        return replace(outcome, notes=(*outcome.notes, f"the report could not be stored in {url}: {str(exc)[:200]}"))
    location = f"s3://{match['bucket']}/{key}"
    if outcome.report_location:
        location += f" (and {outcome.report_location})"
    return replace(outcome, report_location=location)


def _region(environ: Mapping[str, str]) -> str | None:
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")


def within(fn: Callable[[], T], timeout_s: float) -> T:
    """`fn()` in a worker thread, its result or its exception, or GateTimeout after `timeout_s`.

    The shells must answer before the invocation ends whatever the check does; a worker still running then
    is left behind (a daemon thread, frozen with the invocation).
    """
    box: queue.Queue[tuple[T] | BaseException] = queue.Queue(maxsize=1)
    context = structlog.contextvars.get_contextvars()

    def work() -> None:
        structlog.contextvars.bind_contextvars(**context)
        try:
            box.put((fn(),))
        except BaseException as exc:
            box.put(exc)

    threading.Thread(target=work, name="vpc-verify-gate", daemon=True).start()
    try:
        outcome = box.get(timeout=max(0.0, timeout_s))
    except queue.Empty:
        raise GateTimeout(f"the check did not finish within {timeout_s:.0f} s") from None
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome[0]


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(kind, message) of a failure before or around the check, for a FAILED answer."""
    from vpc_verify import lambda_entry
    from vpc_verify.aws.errors import AwsError

    if isinstance(exc, GateSpecError):
        return "ConfigurationError", str(exc)
    if isinstance(exc, topology_mod.TopologySourceError):
        return "TopologySourceError", str(exc)
    if isinstance(exc, topology_mod.TopologyError):
        return "TopologyError", str(exc)
    if isinstance(exc, lambda_entry.InvocationError):
        return exc.kind, str(exc)
    if isinstance(exc, UsageError):
        return "ConfigurationError", str(exc)
    if isinstance(exc, AwsError):
        return "AwsError", str(exc)
    if isinstance(exc, GateTimeout):
        return "Timeout", str(exc)
    return "InternalError", f"{type(exc).__name__}: {str(exc)[:500]}"


def start_invocation(context: Any, environ: Mapping[str, str], component: str) -> Any:
    """Fresh log context for one invocation (JSON lines), bound to its request id; the logger."""
    structlog.contextvars.clear_contextvars()
    configure_logs(environ.get("VPC_VERIFY_LOG_LEVEL", "info"), json=True)
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        structlog.contextvars.bind_contextvars(request_id=str(request_id))
    return get_logger(component=component)


def now_epoch() -> float:
    """Wall-clock seconds (a wait resumed across invocations is measured in these)."""
    return dt.datetime.now(dt.UTC).timestamp()


# ------------------------------------------------------------------------------------------------ direct invocation

ANSWER_RESERVE_S = 2.0


def handle(event: object, context: Any = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A direct invocation (Terraform's aws_lambda_invocation, a Step Functions task): the event holds the
    properties; the result says `healthy` and why. Never raises: an error is `healthy: false` with the reason."""
    env = os.environ if environ is None else environ
    log = start_invocation(context, env, "gate")
    run_id = new_run_id(context)
    started = time.monotonic()
    try:
        spec = parse_spec(event, source="event")
        budget = remaining_s(context) - ANSWER_RESERVE_S
        outcome = within(
            lambda: run_gate(spec, budget_s=budget, environ=env, run_id=run_id, location=log_location(context)),
            budget + 1.0,
        )
        result = outcome.summary()
        log.info("gate_done", **{k: v for k, v in result.items() if k != "reason"})
        return result
    except Exception as exc:
        kind, message = describe_error(exc)
        log.error("gate_failed", error=kind, detail=message[:500], s=round(time.monotonic() - started, 1))
        return {
            "version": 1,
            "healthy": False,
            "run_id": run_id,
            "error": {"type": kind, "message": message},
            "reason": f"vpc-verify could not check: {kind}: {message}"[:4000],
            "report": log_location(context),
        }
    finally:
        structlog.contextvars.clear_contextvars()
