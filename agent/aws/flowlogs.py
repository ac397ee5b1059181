"""VPC Flow Logs as evidence: which flow logs cover the endpoints' network interfaces (DescribeFlowLogs) and the
records of a run's failed probes (FilterLogEvents on CloudWatch Logs destinations; S3 destinations are named,
not read). Facts only: vpc_verify.judge.flows says what the records prove.

A record is matched on the probe's own 5-tuple, source port included (records of the reply are the same tuple
reversed), so other traffic is never taken for the probe's: the filter pattern only narrows what AWS returns
(the emulator ignores it), the match is always made here. The query is bounded: the run's window (widened by
the flow logs' aggregation interval), the probes' ports, at most MAX_CALLS pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from vpc_verify.aws.errors import calling

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_logs import CloudWatchLogsClient

DEFAULT_FORMAT = (
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
    "${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
)
MAX_CALLS = 20  # FilterLogEvents pages per run: the evidence must not cost more than the check
MAX_AGGREGATION_S = 600  # AWS's default maximum aggregation interval


@dataclass(frozen=True, slots=True)
class FlowLog:
    """One flow log: what it covers, what it keeps and where it sends it."""

    id: str
    resource_id: str  # a VPC, subnet or network interface
    traffic_type: str  # ACCEPT | REJECT | ALL
    destination_type: str  # cloud-watch-logs | s3 | kinesis-data-firehose
    destination: str  # the log group name, or the bucket/stream ARN
    log_format: str = DEFAULT_FORMAT
    max_aggregation_s: int = MAX_AGGREGATION_S
    status: str = "ACTIVE"

    @property
    def readable(self) -> bool:
        """Its records can be read here (CloudWatch Logs)."""
        return self.destination_type == "cloud-watch-logs" and bool(self.destination)

    def covers(self, eni_id: str, subnet_id: str, vpc_id: str) -> bool:
        """It logs this ENI (itself, its subnet or its VPC)."""
        return self.status.upper() == "ACTIVE" and self.resource_id in (eni_id, subnet_id, vpc_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence."""
        return {
            "id": self.id,
            "resource_id": self.resource_id,
            "traffic_type": self.traffic_type,
            "destination_type": self.destination_type,
            "destination": self.destination,
        }


@dataclass(frozen=True, slots=True)
class FlowRecord:
    """One flow log record (the fields of the default format; others are kept in `fields`)."""

    interface_id: str
    srcaddr: str
    dstaddr: str
    srcport: int | None
    dstport: int | None
    protocol: str
    action: str  # ACCEPT | REJECT | "-" (NODATA, SKIPDATA)
    log_status: str
    packets: int | None
    start: int | None
    end: int | None
    raw: str
    log_group: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence: the record as AWS wrote it and where it was read."""
        return {"log_group": self.log_group, "record": self.raw}


@dataclass(frozen=True, slots=True)
class Probe:
    """A probe's 5-tuple as the agent sent it (TCP)."""

    src: str | None  # None: the source address is not known (matched on the port alone)
    sport: int
    dst: str
    dport: int

    def outbound(self, r: FlowRecord) -> bool:
        """`r` is this probe's packet (agent -> endpoint)."""
        return (
            r.protocol in ("6", "tcp")
            and r.srcport == self.sport
            and r.dstaddr == self.dst
            and r.dstport == self.dport
            and (self.src is None or r.srcaddr == self.src)
        )

    def reply(self, r: FlowRecord) -> bool:
        """`r` is the reply to this probe (endpoint -> agent)."""
        return (
            r.protocol in ("6", "tcp")
            and r.dstport == self.sport
            and r.srcaddr == self.dst
            and r.srcport == self.dport
            and (self.src is None or r.dstaddr == self.src)
        )


@dataclass(frozen=True, slots=True)
class FlowFacts:
    """What the flow logs said about a run's failed probes, and what reading them took."""

    flow_logs: tuple[FlowLog, ...]
    records: tuple[FlowRecord, ...]  # the probes' records only
    start: dt.datetime
    end: dt.datetime
    calls: int = 0
    events_scanned: int = 0
    bytes_scanned: int = 0
    truncated: bool = False  # MAX_CALLS reached before the last page
    error: str = ""  # the flow logs could not be read (what went wrong)
    vpc_id: str = ""

    def covering(self, eni_id: str, subnet_id: str) -> tuple[FlowLog, ...]:
        """The flow logs that cover this ENI."""
        return tuple(f for f in self.flow_logs if f.covers(eni_id, subnet_id, self.vpc_id))

    def of(self, probe: Probe) -> tuple[tuple[FlowRecord, ...], tuple[FlowRecord, ...]]:
        """The probe's records: (its packets, the replies)."""
        return (
            tuple(r for r in self.records if probe.outbound(r)),
            tuple(r for r in self.records if probe.reply(r)),
        )

    def query(self) -> dict[str, Any]:
        """What the read took (its cost: FilterLogEvents is not billed per query or per GB scanned)."""
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "log_groups": sorted({f.destination for f in self.flow_logs if f.readable}),
            "filter_log_events_calls": self.calls,
            "events_scanned": self.events_scanned,
            "bytes_scanned": self.bytes_scanned,
            "truncated": self.truncated,
        }


def parse(message: str, log_format: str = DEFAULT_FORMAT, log_group: str = "") -> FlowRecord | None:
    """A record in `log_format` (space-separated fields), or None when it is not one (a header, a short line)."""
    names = [f.strip("${}") for f in log_format.split()]
    values = message.split()
    if len(values) != len(names):
        return None
    fields = dict(zip(names, values, strict=True))
    if "srcaddr" not in fields or "dstaddr" not in fields:
        return None
    return FlowRecord(
        interface_id=fields.get("interface-id", "-"),
        srcaddr=fields["srcaddr"],
        dstaddr=fields["dstaddr"],
        srcport=_int(fields.get("srcport")),
        dstport=_int(fields.get("dstport")),
        protocol=fields.get("protocol", "-"),
        action=fields.get("action", "-"),
        log_status=fields.get("log-status", "-"),
        packets=_int(fields.get("packets")),
        start=_int(fields.get("start")),
        end=_int(fields.get("end")),
        raw=message.strip(),
        log_group=log_group,
    )


def describe(ec2: EC2Client, resource_ids: Iterable[str]) -> tuple[FlowLog, ...]:
    """The flow logs of these resources (the VPC, the endpoint subnets and ENIs)."""
    wanted = sorted(set(resource_ids))
    out: list[FlowLog] = []
    for i in range(0, len(wanted), 100):
        with calling("ec2", "DescribeFlowLogs"):
            pages = (
                cast(Any, ec2)
                .get_paginator("describe_flow_logs")
                .paginate(Filters=[{"Name": "resource-id", "Values": wanted[i : i + 100]}])
            )
            for page in pages:
                for f in page.get("FlowLogs") or []:
                    kind = str(f.get("LogDestinationType") or "cloud-watch-logs")
                    out.append(
                        FlowLog(
                            id=str(f.get("FlowLogId", "")),
                            resource_id=str(f.get("ResourceId", "")),
                            traffic_type=str(f.get("TrafficType", "ALL")),
                            destination_type=kind,
                            destination=str(
                                f.get("LogGroupName") if kind == "cloud-watch-logs" else f.get("LogDestination") or ""
                            ),
                            log_format=str(f.get("LogFormat") or DEFAULT_FORMAT),
                            max_aggregation_s=int(f.get("MaxAggregationInterval") or MAX_AGGREGATION_S),
                            status=str(f.get("FlowLogStatus") or "ACTIVE"),
                        )
                    )
    return tuple({f.id: f for f in out}.values())


def read_records(
    logs: CloudWatchLogsClient,
    flow_logs: Sequence[FlowLog],
    probes: Sequence[Probe],
    start: dt.datetime,
    end: dt.datetime,
    *,
    vpc_id: str = "",
) -> FlowFacts:
    """The records of `probes` in the readable flow logs' groups between `start` and `end` (widened backwards by
    the longest aggregation interval: a record is stamped with its capture window's start)."""
    readable = [f for f in flow_logs if f.readable]
    widen = max((f.max_aggregation_s for f in readable), default=0)
    since = start - dt.timedelta(seconds=widen)
    ports = sorted({p.sport for p in probes})
    # Terms narrow what AWS returns (any record naming one of the probes' source ports); the match is exact below.
    pattern = " ".join(f'?"{port}"' for port in ports) if len(ports) > 1 else (f'"{ports[0]}"' if ports else "")
    found: dict[str, FlowRecord] = {}
    calls = scanned = size = 0
    truncated = False
    groups: dict[str, str] = {}
    for f in readable:
        groups.setdefault(f.destination, f.log_format)
    for group, log_format in groups.items():
        if not probes:
            break
        token: str | None = None
        while True:
            if calls >= MAX_CALLS:
                truncated = True
                break
            kwargs: dict[str, Any] = {
                "logGroupName": group,
                "startTime": int(since.timestamp() * 1000),
                "endTime": int(end.timestamp() * 1000),
                "filterPattern": pattern,
            }
            if token:
                kwargs["nextToken"] = token
            with calling("logs", "FilterLogEvents"):
                answer = logs.filter_log_events(**kwargs)
            calls += 1
            for event in answer.get("events") or []:
                message = str(event.get("message", ""))
                scanned += 1
                size += len(message)
                record = parse(message, log_format, group)
                if record is not None and any(p.outbound(record) or p.reply(record) for p in probes):
                    found.setdefault(f"{group}/{event.get('eventId', message)}", record)
            token = answer.get("nextToken")
            if not token:
                break
    return FlowFacts(
        flow_logs=tuple(flow_logs),
        records=tuple(found.values()),
        start=since,
        end=end,
        calls=calls,
        events_scanned=scanned,
        bytes_scanned=size,
        truncated=truncated,
        vpc_id=vpc_id,
    )


@dataclass(frozen=True, slots=True)
class FlowLogReader:
    """Reads the flow-log evidence of a run (`check --evidence flowlogs`); blocking, run in a worker thread."""

    region: str | None = None
    ec2: EC2Client | None = None  # injected clients (tests); made from boto3's chain when None
    logs: CloudWatchLogsClient | None = None

    def read(
        self,
        vpc_id: str,
        resource_ids: Iterable[str],
        probes: Sequence[Probe],
        start: dt.datetime,
        end: dt.datetime,
    ) -> FlowFacts:
        """The flow logs covering `resource_ids` and the records of `probes` in the window."""
        from vpc_verify.aws import clients

        ec2 = self.ec2 if self.ec2 is not None else clients.ec2(self.region)
        flow_logs = describe(ec2, [vpc_id, *resource_ids])
        if not probes or not any(f.readable for f in flow_logs):
            return FlowFacts(flow_logs, (), start, end, vpc_id=vpc_id)
        logs = self.logs if self.logs is not None else clients.logs(self.region)
        return read_records(logs, flow_logs, probes, start, end, vpc_id=vpc_id)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "-") else None
    except ValueError:
        return None


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
