"""The run's second step: evidence read after the probes, for the probes that failed (`check --evidence
flowlogs`). Blocking; the run calls it in a worker thread with what is left of its deadline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from vpc_verify.aws.control_plane import AwsFacts
from vpc_verify.aws.flowlogs import FlowFacts, FlowLogReader, Probe
from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.judge.facts import match
from vpc_verify.judge.flows import probe_of
from vpc_verify.observe.pipeline import Observation
from vpc_verify.topology import Topology

FAILED = (TcpStatus.TIMEOUT, TcpStatus.REFUSED)


@dataclass(frozen=True, slots=True)
class FlowLogEvidence:
    """Flow-log records of a run's timed-out and reset probes, and the flow logs of the endpoints' ENIs."""

    reader: FlowLogReader

    def read(
        self, topology: Topology, observations: Sequence[Observation], aws: AwsFacts | None, started_at: dt.datetime
    ) -> FlowFacts | None:
        """None when the control plane was not read (the ENIs and the VPC are unknown)."""
        if aws is None:
            return None
        state = aws.state
        resources: set[str] = set()
        for endpoint in topology.endpoints:
            vpce = match(state, endpoint)
            if vpce is not None:
                resources |= set(vpce.subnet_ids) | set(vpce.eni_ids)
        if aws.place.subnet_id:
            resources.add(aws.place.subnet_id)
        probes: list[Probe] = []
        for o in observations:
            for address, p in o.probes.items():
                if p.tcp.status in FAILED and (probe := probe_of(address, p.tcp)) is not None:
                    probes.append(probe)
        now = dt.datetime.now(dt.UTC)
        return self.reader.read(state.vpc_id, sorted(resources), probes, started_at, now)
