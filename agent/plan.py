"""One plan for every shell: what to check, how, with which control plane, and where the metrics go.

The CLI's `check` and `diagnose`, the EC2 agent loop and the Lambda each say what they were asked (a
topology, `--only`, whether to read AWS, where the agent stands, a deadline, a sink); `build` turns that into
a Plan with the same defaults everywhere. A feature that needs boto3 when it is not installed is a
MissingExtra here, before any packet, naming the extra to install.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from vpc_verify.errors import UsageError
from vpc_verify.observe.workers import auto_workers
from vpc_verify.origin import Mode, Origin
from vpc_verify.publish.config import SinkConfig
from vpc_verify.run import DEFAULT_CONCURRENCY, ControlPlane, RunOptions, run, run_async
from vpc_verify.topology import Topology
from vpc_verify.topology.model import QUERIES_PER_SECOND_RANGE

if TYPE_CHECKING:
    from vpc_verify.aws.control_plane import AwsControlPlane, AwsFacts
    from vpc_verify.aws.whereami import Place
    from vpc_verify.report import Report

if TYPE_CHECKING:
    from vpc_verify.aws.usage import UsageOptions

# The deadline of one run when the shell sets none: a person waits a minute at most; the EC2 agent's runs
# must fit its interval (the loop takes the smaller); diagnose reads AWS first and probes more.
DEFAULT_DEADLINE_S: Mapping[Mode, float] = {"cli": 60.0, "diagnose": 30.0, "agent": 30.0, "lambda": 60.0}


class MissingExtra(UsageError):
    """A feature needs an optional dependency that is not installed; the message names the pip extra."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a run needs, and where its metrics go."""

    topology: Topology
    options: RunOptions
    sink: SinkConfig = field(default_factory=SinkConfig)

    def run(self) -> Report:
        """Run once (blocking)."""
        return run(self.topology, self.options)

    async def run_async(self) -> Report:
        """Run once in the running event loop."""
        return await run_async(self.topology, self.options)

    def with_deadline(self, deadline_s: float) -> Plan:
        """The same plan with another deadline (`--wait` gives each attempt what is left)."""
        return replace(self, options=replace(self.options, deadline_s=deadline_s))


def build(
    topology: Topology,
    *,
    mode: Mode,
    only: Sequence[str] = (),
    aws: bool = True,
    place: Place | None = None,
    subnet_id: str | None = None,
    az: str | None = None,
    security_group_ids: Sequence[str] = (),
    deadline_s: float | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    sink: SinkConfig | None = None,
    control_plane: ControlPlane | None = None,
    usage: UsageOptions | None = None,
    evidence: tuple[str, ...] = (),
    dns_rate: float | None = None,
    workers: int | None = 1,
    authorize: bool = False,
) -> Plan:
    """The plan for a shell's request; raises MissingExtra or TopologyError before anything is sent.

    `dns_rate`: DNS packets a second at most (None: the topology's resolver.queries_per_second); `workers`:
    processes observing the data plane (None: as many as the cores and the topology's size make worth it).
    `authorize` turns the signed call on for every endpoint that has one and does not turn it off (--authorize).
    """
    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if dns_rate is not None and not 0 < dns_rate <= QUERIES_PER_SECOND_RANGE.high:
        raise UsageError(f"--dns-queries-per-second must be above 0 and at most {QUERIES_PER_SECOND_RANGE.high:g}")
    if workers is not None and workers < 1:
        raise UsageError("--workers must be at least 1 (or auto)")
    narrowed = topology.only(only) if only else topology
    if authorize:
        narrowed = narrowed.authorizing()
    if any(e.signs for e in narrowed.endpoints):
        require_boto3("signed calls through the endpoints (authorize)", "turn authorize off")
    sink = sink or SinkConfig()
    if sink.name == "cloudwatch":
        require_boto3("publishing to CloudWatch (--publish cloudwatch)", "use --publish emf")
    if (usage is not None or evidence) and not (aws and topology.vpc.id):
        asked = "--usage" if usage is not None else "--evidence " + ",".join(evidence)
        raise UsageError(f"{asked} reads the VPC's AWS side: it needs vpc.id in the topology and no --no-aws")
    if aws and topology.vpc.id and control_plane is None:
        require_boto3(f"the control-plane comparison (the topology names vpc.id {topology.vpc.id})", "pass --no-aws")
        control_plane = AwsControlPlaneOnRead(
            region=topology.region,
            place=place,
            subnet_id=subnet_id,
            az=az,
            security_group_ids=tuple(security_group_ids),
            usage=usage,
        )
    reader = None
    if "flowlogs" in evidence:
        from vpc_verify.aws.flowlogs import FlowLogReader
        from vpc_verify.evidence import FlowLogEvidence

        reader = FlowLogEvidence(FlowLogReader(region=topology.region))
    options = RunOptions(
        concurrency=concurrency,
        deadline_s=deadline_s if deadline_s is not None else DEFAULT_DEADLINE_S[mode],
        control_plane=control_plane if aws else None,
        origin=Origin(mode, place=place),
        partial=bool(only),
        evidence=reader,
        dns_rate=dns_rate,
        workers=workers if workers is not None else auto_workers(len(narrowed.endpoints)),
    )
    return Plan(topology=narrowed, options=options, sink=sink)


class AwsControlPlaneOnRead:
    """The AWS control plane (vpc_verify.aws.control_plane.AwsControlPlane, made with these arguments) made when
    the run reads it: the run reads it in a thread after its first DNS question, so that module and AWS's model
    (tens of frozen records) are imported there, not on the way to the first packet."""

    __slots__ = ("az", "place", "region", "security_group_ids", "subnet_id", "usage")

    def __init__(
        self,
        *,
        region: str | None,
        place: Place | None,
        subnet_id: str | None,
        az: str | None,
        security_group_ids: tuple[str, ...],
        usage: UsageOptions | None,
    ) -> None:
        self.region = region
        self.place = place
        self.subnet_id = subnet_id
        self.az = az
        self.security_group_ids = security_group_ids
        self.usage = usage

    def made(self) -> AwsControlPlane:
        """The control plane these arguments make."""
        from vpc_verify.aws.control_plane import AwsControlPlane

        return AwsControlPlane(
            region=self.region,
            place=self.place,
            subnet_id=self.subnet_id,
            az=self.az,
            security_group_ids=self.security_group_ids,
            usage=self.usage,
        )

    def read(self, topology: Topology) -> AwsFacts:
        """Read everything the comparison needs (AwsControlPlane.read)."""
        return self.made().read(topology)


def require_boto3(feature: str, instead: str) -> None:
    """Raise MissingExtra when boto3 is not installed (checked without importing it)."""
    if importlib.util.find_spec("boto3") is None:
        raise MissingExtra(
            f"{feature} needs boto3, which is not installed: pip install 'vpc-verify[aws]', or {instead}"
        )
