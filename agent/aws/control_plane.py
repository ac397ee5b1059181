"""Reading the control plane for a run: the VPC's state and where the agent stands in it, as frozen facts.

`AwsControlPlane.read` is blocking (boto3); the run calls it in a daemon thread, so a hung AWS call cannot
hold the run past its deadline. No judgment here: vpc_verify.judge turns these facts into findings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from vpc_verify.aws import whereami
from vpc_verify.aws.model import VpcState
from vpc_verify.aws.whereami import Place
from vpc_verify.topology import Topology

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

    from vpc_verify.aws.usage import UsageOptions, UsageRead


@dataclass(frozen=True, slots=True)
class AwsFacts:
    """What the control plane said: the VPC's state and the agent's place in it."""

    state: VpcState
    place: Place
    usage: UsageRead | None = None  # `check --usage`: what the endpoints carried and cost
    usage_error: BaseException | None = None  # reading the usage failed (the rest of the facts stand)


@dataclass(frozen=True, slots=True)
class AwsControlPlane:
    """Reads the topology's VPC (blocking; the run calls `read` in a worker thread)."""

    region: str | None = None  # used when the topology names none
    place: Place | None = None  # where the agent runs; located (flags, env, metadata) when None
    subnet_id: str | None = None
    az: str | None = None
    ec2: EC2Client | None = None  # an injected client (tests); made from boto3's chain when None
    usage: UsageOptions | None = None  # also read the endpoints' usage (metrics, capacity, quota)

    def read(self, topology: Topology) -> AwsFacts:
        """Describe the topology's VPC and where the agent is in it."""
        if not topology.vpc.id:
            raise ValueError("the topology names no vpc.id")
        from vpc_verify.aws import clients, read

        client = self.ec2 if self.ec2 is not None else clients.ec2(topology.region or self.region)
        services = [e.service for e in topology.endpoints if e.service]
        state = read.read(client, topology.vpc.id, services=services)
        place = self.place if self.place is not None else whereami.locate(self.subnet_id, self.az)
        facts = AwsFacts(state=state, place=whereami.complete(client, state, place))
        if self.usage is None:
            return facts
        from vpc_verify.aws.usage import read_usage

        try:
            region = topology.region or self.region
            usage = read_usage(
                state, self.usage, ec2=client, cw=clients.cloudwatch(region), sq=clients.service_quotas(region)
            )
        except Exception as exc:  # the usage is extra: its failure is a finding, the comparison stands
            return replace(facts, usage_error=exc)
        return replace(facts, usage=usage)


@dataclass(frozen=True, slots=True)
class AlreadyRead:
    """A control plane read before the run (`diagnose` reads first, so an AWS error stops it at once)."""

    facts: AwsFacts

    def read(self, topology: Topology) -> AwsFacts:
        """The facts read before."""
        return self.facts
