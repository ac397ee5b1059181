"""The gate's properties: what it checks and how long it waits, validated with errors that name the key.

Properties (the same names in every shell; CloudFormation sends every scalar as a string, so numbers and
booleans are read from strings too):
  Topology              an inline topology: a YAML/JSON string, or an object
  TopologySsmParameter  the name of an SSM parameter holding the topology
  TopologyS3Url         s3://bucket/key of the topology
                        (none of the three: the function's own source, VPC_VERIFY_TOPOLOGY_*)
  WaitSeconds           how long to wait for the endpoints to converge (default 300, 0: one run)
  HealthyRuns           healthy runs in a row that count as converged (default 1)
  IntervalSeconds       pause between runs (default 10)
  RunDeadlineSeconds    one run's deadline (default 60)
  Only                  endpoint names to check (a list or a comma-separated string)
  ControlPlane          false: skip the AWS control-plane comparison (default true)
  ReportS3Url           s3://bucket/prefix: also store each gate's full JSON report there
  Watch                 anything: not read; change it to make CloudFormation run the gate again
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vpc_verify.errors import UsageError

PROPERTIES = (
    "Topology",
    "TopologySsmParameter",
    "TopologyS3Url",
    "WaitSeconds",
    "HealthyRuns",
    "IntervalSeconds",
    "RunDeadlineSeconds",
    "Only",
    "ControlPlane",
    "ReportS3Url",
    "Watch",
)
IGNORED = ("ServiceToken", "ServiceTimeout")  # CloudFormation's own keys in ResourceProperties
DEFAULT_WAIT_S = 300.0
DEFAULT_INTERVAL_S = 10.0
DEFAULT_RUN_DEADLINE_S = 60.0
MAX_WAIT_S = 3600.0
MAX_HEALTHY_RUNS = 20
S3_URL = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<key>.*))?$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/+=@-]{0,127}$")
_SSM_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,2048}$")


class GateSpecError(UsageError):
    """A property of the gate is unknown or of the wrong shape; the message names it and what is expected."""

    def __init__(self, source: str, key: str, expected: str, got: object = None) -> None:
        self.source, self.key, self.expected = source, key, expected
        shown = "" if got is None else f", got {str(got)[:80]!r}"
        super().__init__(f"{source}.{key}: expected {expected}{shown}")


@dataclass(frozen=True, slots=True)
class GateSpec:
    """What a gate checks and how long it waits (see the module's docstring for the property names)."""

    topology: Any = None
    ssm_parameter: str | None = None
    s3_url: str | None = None
    wait_s: float = DEFAULT_WAIT_S
    healthy_runs: int = 1
    interval_s: float = DEFAULT_INTERVAL_S
    run_deadline_s: float = DEFAULT_RUN_DEADLINE_S
    only: tuple[str, ...] = ()
    control_plane: bool = True
    report_s3_url: str | None = None
    source: str = "properties"  # where the properties came from, for error messages


# ------------------------------------------------------------------------------------------------ properties


def parse_spec(props: object, *, source: str = "properties", strings: bool = False) -> GateSpec:
    """Validate the gate's properties. `strings`: the values come from CloudFormation, which turns every
    scalar (nested ones too) into a string, so numbers and booleans are read back from text."""
    if props is None:
        props = {}
    if not isinstance(props, Mapping):
        raise GateSpecError(source, "", "an object of properties", type(props).__name__)
    unknown = [str(k) for k in props if k not in PROPERTIES and k not in IGNORED]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, PROPERTIES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise GateSpecError(source, key, f"one of {', '.join(PROPERTIES)}{hint}", key)
    sources = [k for k in ("Topology", "TopologySsmParameter", "TopologyS3Url") if props.get(k) not in (None, "")]
    if len(sources) > 1:
        raise GateSpecError(source, sources[1], f"one topology source at most ({sources[0]} is given too)")
    topology = props.get("Topology")
    if topology in ("", None):
        topology = None
    elif isinstance(topology, Mapping):
        topology = _restore_scalars(topology) if strings else dict(topology)
    elif not isinstance(topology, str):
        raise GateSpecError(source, "Topology", "a topology as YAML/JSON text or an object", type(topology).__name__)
    elif len(topology) > 1_000_000:
        raise GateSpecError(source, "Topology", "at most 1,000,000 characters")
    ssm = _optional_text(props, "TopologySsmParameter", source, _SSM_NAME, "an SSM parameter name")
    s3 = _optional_text(props, "TopologyS3Url", source, S3_URL, "s3://bucket/key")
    s3_match = S3_URL.match(s3) if s3 is not None else None
    if s3 is not None and (s3_match is None or not s3_match["key"]):
        raise GateSpecError(source, "TopologyS3Url", "s3://bucket/key (with a key)", s3)
    report_s3 = _optional_text(props, "ReportS3Url", source, S3_URL, "s3://bucket or s3://bucket/prefix")
    return GateSpec(
        topology=topology,
        ssm_parameter=ssm,
        s3_url=s3,
        wait_s=_number(props, "WaitSeconds", source, DEFAULT_WAIT_S, 0.0, MAX_WAIT_S),
        healthy_runs=int(_number(props, "HealthyRuns", source, 1, 1, MAX_HEALTHY_RUNS, integer=True)),
        interval_s=_number(props, "IntervalSeconds", source, DEFAULT_INTERVAL_S, 1.0, 300.0),
        run_deadline_s=_number(props, "RunDeadlineSeconds", source, DEFAULT_RUN_DEADLINE_S, 1.0, 600.0),
        only=_only(props.get("Only"), source),
        control_plane=_boolean(props, "ControlPlane", source, True),
        report_s3_url=report_s3,
        source=source,
    )


def _restore_scalars(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _restore_scalars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore_scalars(v) for v in value]
    if isinstance(value, str):
        if value in ("true", "false"):
            return value == "true"
        if re.fullmatch(r"-?\d{1,15}", value):
            return int(value)
        if re.fullmatch(r"-?\d{1,15}\.\d{1,15}", value):
            return float(value)
    return value


def _optional_text(props: Mapping[str, Any], key: str, source: str, pattern: re.Pattern[str], what: str) -> str | None:
    value = props.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise GateSpecError(source, key, what, value)
    return value


def _number(
    props: Mapping[str, Any], key: str, source: str, default: float, low: float, high: float, *, integer: bool = False
) -> float:
    value = props.get(key)
    if value in (None, ""):
        return float(default)
    what = f"{'a whole number' if integer else 'a number'} from {low:g} to {high:g}"
    if isinstance(value, bool):
        raise GateSpecError(source, key, what, value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GateSpecError(source, key, what, value) from None
    if not low <= number <= high or (integer and number != int(number)):
        raise GateSpecError(source, key, what, value)
    return number


def _boolean(props: Mapping[str, Any], key: str, source: str, default: bool) -> bool:
    value = props.get(key)
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise GateSpecError(source, key, "true or false", value)


def _only(value: object, source: str) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or len(items) > 1000:
        raise GateSpecError(source, "Only", "endpoint names: a list, or a comma-separated string", value)
    names = []
    for item in items:
        if not isinstance(item, str) or not _NAME.match(item.strip()):
            raise GateSpecError(source, "Only", "endpoint names", item)
        names.append(item.strip())
    return tuple(dict.fromkeys(names))
