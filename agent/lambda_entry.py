"""The Lambda function's logic (lambda/handler.py is a thin shell over `handle`).

Per invocation: clear the structlog context, validate the event, load the topology (event, SSM parameter,
S3 object or a file in the package), run with a deadline taken from the remaining time, publish (EMF by
default; PutMetricData with an EMF fallback for what it could not send), and return a summary. Nothing
raises out of `handle`: a bad event, a bad topology or an AWS failure is a structured error result.

Environment:
  VPC_VERIFY_TOPOLOGY_SSM            an SSM parameter name holding the topology (YAML or JSON)
  VPC_VERIFY_TOPOLOGY_S3             s3://bucket/key of the topology
  VPC_VERIFY_TOPOLOGY_FILE           a file (default topology.yaml beside handler.py)
  VPC_VERIFY_POLICY                  a fleet policy (a file, ssm:NAME or ssm:ARN, s3://bucket/key):
                                     the topology is derived from it for the function's VPC (docs/guides/fleet.md)
  VPC_VERIFY_REPORT_S3               s3://bucket/prefix: each report kept at <prefix>/<account>/<region>/<vpc>.json
                                     for `vpc-verify fleet --reports`
  VPC_VERIFY_ALLOW_EVENT_TOPOLOGY    "true" lets the event carry a whole topology (arbitrary targets)
  VPC_VERIFY_PUBLISH                 cloudwatch | emf (default) | none
  VPC_VERIFY_NAMESPACE               CloudWatch namespace (default VpcVerify)
  VPC_VERIFY_METRICS                 budget (default) | full: which values are billed custom metrics. budget:
                                     Healthy per endpoint, RunHealthy, EndpointsUnhealthy, Heartbeat per run;
                                     the latencies and details stay as properties of the EMF lines (Logs
                                     Insights, no metric cost). full: every metric of docs/metrics.md. An
                                     unknown value is budget (a typo must not multiply the bill)
  VPC_VERIFY_PER_ADDRESS_METRICS     "true" adds per-address latency metrics (billed, whatever the set)
  VPC_VERIFY_AWS                     "false" skips the control-plane comparison (no EC2 API route: the
                                     run says so once, AWS_API_UNREACHABLE, a warning)
  VPC_VERIFY_SUBNET_IDS              the function's subnets, VPC_VERIFY_SECURITY_GROUP_IDS its groups (the
                                     template sets both; else lambda:GetFunctionConfiguration tells them)
  VPC_VERIFY_AUTHORIZE               "true" makes the signed call through every endpoint that has one (--authorize)
  VPC_VERIFY_MARGIN_MS               time kept back from the deadline for publishing and returning (3000)
  VPC_VERIFY_JITTER_SECONDS          a scheduled run (the event `{}` or a Scheduled Event) first waits a random
                                     time up to this many seconds, and never more than half the time left, so
                                     VPCs on the same schedule do not call the EC2 API at once (default 0: none;
                                     the wait is billed as the function's duration). An invalid value is 0,
                                     with a warning
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from vpc_verify import jitter, locations, plan
from vpc_verify import topology as topology_mod
from vpc_verify.errors import UsageError
from vpc_verify.logs import bind_context as bind_log_context
from vpc_verify.logs import clear_context as clear_log_context
from vpc_verify.logs import configure as configure_logs
from vpc_verify.logs import get_logger
from vpc_verify.publish.config import (
    DEFAULT_METRIC_SET,
    DEFAULT_NAMESPACE,
    METRIC_SETS,
    SINK_NAMES,
    MetricSet,
    SinkConfig,
    SinkName,
)
from vpc_verify.topology import TopologySourceError

if TYPE_CHECKING:  # the report's model is built after the sweep: not on the way to the first packet
    from vpc_verify.report import Report

EVENT_KEYS = ("only", "topology", "publish")
MAX_ONLY = 1000
DEFAULT_MARGIN_S = 3.0
PUBLISH_BUDGET_MAX_S = 5.0
NO_CONTEXT_REMAINING_S = 60.0
MAX_TOPOLOGY_BYTES = 1_000_000  # an inline topology in the event
_NAME = re.compile(r"^[A-Za-z0-9_.:/+=@-]{1,128}$")


class InvocationError(Exception):
    """A failure that becomes the structured error result (`kind` is its type there)."""

    kind = "InvocationError"


class InvalidEvent(InvocationError):
    """The event has an unknown key or a value of the wrong shape."""

    kind = "InvalidEvent"


@dataclass(frozen=True, slots=True)
class Request:
    """A validated event."""

    only: tuple[str, ...] = ()
    topology: Any = None  # an inline topology document (dict or YAML/JSON text), when allowed
    publish: str | None = None


def parse_event(event: object, environ: Mapping[str, str]) -> Request:
    """Validate an invocation event: only the keys of EVENT_KEYS, each of the right shape."""
    if event is None:
        return Request()
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"the event must be a JSON object, got {type(event).__name__}")
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        return Request()  # an EventBridge schedule without a constant Input: run the whole topology
    unknown = sorted(str(k) for k in event if k not in EVENT_KEYS)
    if unknown:
        shown = ", ".join(repr(k[:64]) for k in unknown[:5])
        raise InvalidEvent(f"unknown event key(s) {shown}: expected only {', '.join(EVENT_KEYS)}")
    mode = event.get("publish")
    if mode is not None and mode not in SINK_NAMES:
        raise InvalidEvent(f"'publish' must be one of {', '.join(SINK_NAMES)}, got {str(mode)[:40]!r}")
    return Request(
        only=_event_only(event.get("only")), topology=_event_topology(event.get("topology"), environ), publish=mode
    )


def _event_only(raw: object) -> tuple[str, ...]:
    """The event's `only`: an endpoint name, comma-separated names or a list of names."""
    if raw is None:
        return ()
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list) or len(items) > MAX_ONLY:
        raise InvalidEvent(f"'only' must be an endpoint name or a list of at most {MAX_ONLY} names")
    names = []
    for item in items:
        if not isinstance(item, str) or not _NAME.match(item.strip()):
            raise InvalidEvent(f"'only' holds {str(item)[:80]!r}: expected endpoint names")
        names.append(item.strip())
    return tuple(dict.fromkeys(names))


def _event_topology(raw: object, environ: Mapping[str, str]) -> Any:
    """The event's inline topology, where the function allows one (it can name arbitrary targets)."""
    if raw is None:
        return None
    if environ.get("VPC_VERIFY_ALLOW_EVENT_TOPOLOGY", "").lower() != "true":
        raise InvalidEvent(
            "'topology' in the event is not allowed: this function checks its configured "
            "topology (set VPC_VERIFY_ALLOW_EVENT_TOPOLOGY=true to allow it)"
        )
    if not isinstance(raw, Mapping | str):
        raise InvalidEvent("'topology' must be a topology document (an object, or YAML/JSON text)")
    if isinstance(raw, str) and len(raw) > MAX_TOPOLOGY_BYTES:
        raise InvalidEvent(f"'topology' is larger than {MAX_TOPOLOGY_BYTES} characters")
    return raw


def load_topology(request: Request, environ: Mapping[str, str]) -> topology_mod.Topology:
    """The topology: the event's (when allowed), else SSM, else S3, else the packaged file."""
    if request.topology is not None:
        if isinstance(request.topology, str):
            return topology_mod.loads(request.topology, source="event.topology")
        return topology_mod.parse(dict(request.topology), source="event.topology")
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if environ.get("VPC_VERIFY_TOPOLOGY_SSM"):
        name = environ["VPC_VERIFY_TOPOLOGY_SSM"]
        return locations.load(f"ssm:{name}", region=region)
    if environ.get("VPC_VERIFY_TOPOLOGY_S3"):
        url = environ["VPC_VERIFY_TOPOLOGY_S3"]
        if not url.startswith(locations.S3_PREFIX):
            # this variable always names S3: a bare "bucket/key" must not be read as a local file
            raise TopologySourceError(
                "VPC_VERIFY_TOPOLOGY_S3", "", "an S3 location such as s3://bucket/key", url, has_got=True
            )
        return locations.load(url, region=region)
    path = environ.get("VPC_VERIFY_TOPOLOGY_FILE") or "topology.yaml"
    full = packaged_path(path, environ.get("LAMBDA_TASK_ROOT") or "")
    if not _is_file(full):
        raise TopologySourceError(
            full,
            "",
            "the topology file in the package, or VPC_VERIFY_TOPOLOGY_SSM or VPC_VERIFY_TOPOLOGY_S3 set",
            has_got=False,
        )
    return topology_mod.load(full)


def packaged_path(path: str, task_root: str) -> str:
    """`str(Path(path))` when absolute, else `str(Path(task_root or the package's folder) / path)`: the same text,
    by os.path when it is already in pathlib's normal form (pathlib costs a cold start 3 ms before its first
    packet), by pathlib otherwise."""
    base = task_root or os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    full = path if os.path.isabs(path) else os.path.join(base, path)
    if os.path.normpath(full) != full:  # a "." or an empty part, a trailing "/": pathlib's spelling of it
        from pathlib import Path

        full = str(Path(path) if Path(path).is_absolute() else Path(base) / path)
    return full


def _is_file(path: str) -> bool:
    """`Path(path).is_file()`: False when it is not a regular file or not there; other errors (EACCES) raise."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            raise
        return False
    except ValueError:  # a NUL in the path
        return False


def budgets(context: Any, environ: Mapping[str, str]) -> tuple[float, float]:
    """(run deadline, publish budget) in seconds from the time this invocation has left."""
    remaining = _remaining_s(context)
    try:
        margin = float(environ.get("VPC_VERIFY_MARGIN_MS", "")) / 1000.0
    except ValueError:
        margin = DEFAULT_MARGIN_S
    publish_budget = min(PUBLISH_BUDGET_MAX_S, max(0.5, remaining * 0.2))
    deadline = max(1.0, remaining - margin - publish_budget)
    return deadline, publish_budget


def summary(report: Report) -> dict[str, Any]:
    """What the invocation returns: the verdict, each unhealthy endpoint with its codes, the timings."""
    return {
        "version": 1,
        "ok": True,
        "healthy": report.healthy,
        "started_at": report.to_dict()["started_at"],
        "duration_ms": round(report.duration_ms, 1),
        "region": report.region,
        "vpc_id": report.vpc_id,
        "endpoints": len(report.endpoints),
        "unhealthy": [
            {"endpoint": e.name, "codes": sorted({f.code.value for f in e.findings if f.is_error})}
            for e in report.endpoints
            if not e.healthy
        ],
        "run_findings": sorted({f.code.value for f in report.run_findings}),
    }


def _random() -> float:
    """random.random(): the module is imported by the first jitter drawn (it costs every cold start 1 ms)."""
    import random

    return random.random()


def handle(
    event: object,
    context: Any = None,
    environ: Mapping[str, str] | None = None,
    *,
    random: Callable[[], float] = _random,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """One invocation; returns the summary or a structured error, never raises. `random` and `sleep` are the
    start jitter's (VPC_VERIFY_JITTER_SECONDS)."""
    env = os.environ if environ is None else environ
    clear_log_context()
    configure_logs(env.get("VPC_VERIFY_LOG_LEVEL", "info"), json=True)
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        bind_log_context(request_id=str(request_id))
    try:
        return _invoke(event, context, env, random, sleep)
    except TopologySourceError as exc:
        return _error("TopologySourceError", str(exc))
    except topology_mod.TopologyError as exc:
        return _error("TopologyError", str(exc))
    except InvocationError as exc:
        return _error(exc.kind, str(exc))
    except UsageError as exc:  # the function's configuration asks for something impossible (a missing extra)
        return _error("ConfigurationError", str(exc))
    except Exception as exc:
        from vpc_verify.aws.errors import AwsError

        if isinstance(exc, AwsError):
            return _error("AwsError", str(exc))
        _log().error("invocation_failed", error=type(exc).__name__, detail=str(exc)[:500])
        return _error("InternalError", f"{type(exc).__name__}: {str(exc)[:500]}", logged=True)
    finally:
        clear_log_context()


def metric_set(env: Mapping[str, str]) -> MetricSet:
    """VPC_VERIFY_METRICS: `full` or `budget`; anything else is the budget (a typo must not multiply the bill)."""
    value = (env.get("VPC_VERIFY_METRICS") or DEFAULT_METRIC_SET).strip().lower()
    if value not in METRIC_SETS:
        _log().warning("metrics_set_unknown", value=value[:64], used=DEFAULT_METRIC_SET)
        return DEFAULT_METRIC_SET
    return value


def start_delay(request: Request, context: Any, env: Mapping[str, str], random: Callable[[], float]) -> float:
    """The scheduled run's random start delay in seconds (0 for an invocation that asks for something)."""
    if request != Request():
        return 0.0  # a person or a pipeline asked for this run: start now
    try:
        bound = jitter.bound_s(env.get("VPC_VERIFY_JITTER_SECONDS"))
    except jitter.JitterError as exc:
        _log().warning("jitter_invalid", error=str(exc), used=0)
        return 0.0
    return jitter.delay_s(bound, _remaining_s(context), random)


def _remaining_s(context: Any) -> float:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    return max(0.0, float(getter()) / 1000.0) if callable(getter) else NO_CONTEXT_REMAINING_S


def _invoke(
    event: object, context: Any, env: Mapping[str, str], random: Callable[[], float], sleep: Callable[[float], None]
) -> dict[str, Any]:
    request = parse_event(event, env)
    delay = start_delay(request, context, env, random)
    if delay > 0:
        _log().info("start_jitter", delay_s=round(delay, 3))
        sleep(delay)
    deadline, publish_budget = budgets(context, env)  # after the delay: the run has what is left
    mode = request.publish or env.get("VPC_VERIFY_PUBLISH") or "emf"
    if mode not in SINK_NAMES:
        mode = "emf"  # a misconfigured variable must not cost the metrics
    config = SinkConfig(
        name=cast(SinkName, mode),
        namespace=env.get("VPC_VERIFY_NAMESPACE") or DEFAULT_NAMESPACE,
        per_address=env.get("VPC_VERIFY_PER_ADDRESS_METRICS", "").lower() == "true",
        buffer_cap=0,
        emf_fallback=True,
        metrics=metric_set(env),
    )
    derived = _derived(request, env)
    the_plan = plan.build(
        derived.topology if derived is not None else load_topology(request, env),
        mode="lambda",
        only=request.only,
        aws=env.get("VPC_VERIFY_AWS", "true").lower() != "false",
        deadline_s=deadline,
        sink=config,
        authorize=env.get("VPC_VERIFY_AUTHORIZE", "").lower() == "true",
        control_plane=derived.control_plane if derived is not None else None,
    )
    report = derived.annotate(the_plan.run()) if derived is not None else the_plan.run()
    from vpc_verify import publishing  # the judge and the telemetry check: after the run, not before its first packet
    from vpc_verify.publish import sink as sinks

    publication = publishing.publish(
        report,
        sinks.make(config, region=report.region, stream=sys.stdout),
        config,
        resolver=the_plan.topology.resolver,
        cidrs=the_plan.topology.vpc.cidrs,
        mode="lambda",
        budget_s=publish_budget,
    )
    result = summary(publication.report)
    result["published"] = publication.outcome.ok  # False: the report stands, its metrics did not all go out
    result["publish"] = publication.outcome.to_dict()
    if env.get("VPC_VERIFY_REPORT_S3"):
        result["report_s3"] = _keep_report(publication.report, env["VPC_VERIFY_REPORT_S3"], context)
    return result


def _log() -> Any:
    # Made when there is something to say: structlog is imported at the first log line, after the first probe.
    return get_logger(component="lambda")


def _derived(request: Request, env: Mapping[str, str]) -> Any:
    """With VPC_VERIFY_POLICY (and no event topology), the topology derived from the fleet policy for the VPC the
    function runs in (its subnets: VPC_VERIFY_SUBNET_IDS; or VPC_VERIFY_VPC_ID); the policy is read again every
    five minutes by a warm function."""
    location = env.get("VPC_VERIFY_POLICY")
    if not location or request.topology is not None:
        return None
    from vpc_verify.fleet import resolve

    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    policy = resolve.cached_policy(location, region=region)
    return resolve.derived(policy, region=region, env=env)


def _keep_report(report: Report, prefix: str, context: Any) -> str | None:
    """Keep the JSON report at <prefix>/<account>/<region>/<vpc-id>.json for `vpc-verify fleet --reports`; the
    location, or None when it could not be written (logged: the run's result stands)."""
    from vpc_verify.fleet import stored
    from vpc_verify.render import jsonreport

    arn = str(getattr(context, "invoked_function_arn", "") or "")
    account = arn.split(":")[4] if arn.count(":") >= 5 else None
    try:
        return stored.keep(
            jsonreport.render(report), prefix, account=account, region=report.region, vpc_id=report.vpc_id
        )
    except Exception as exc:  # a report not kept must not cost the run's result
        _log().error("report_not_kept", prefix=prefix, error=f"{type(exc).__name__}: {exc}")
        return None


def _error(kind: str, message: str, *, logged: bool = False) -> dict[str, Any]:
    if not logged:
        _log().error("invocation_rejected", error=kind, detail=message[:500])
    return {"version": 1, "ok": False, "healthy": False, "error": {"type": kind, "message": message}}
