"""Shared helpers of the control-plane tests: topologies from seeded facts, the emulator read as the run reads
it, and synthetic observations judged against it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tests.judge.builders import NOW, dns, observation, probe
from tests.testbed.aws_seed import SeedFacts
from vpc_verify import judge
from vpc_verify.aws.control_plane import AwsControlPlane, AwsFacts
from vpc_verify.aws.whereami import Place
from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import RunFacts, join
from vpc_verify.report import EndpointReport
from vpc_verify.topology import Topology, parse


def topology(
    facts: SeedFacts,
    *,
    drop: tuple[str, ...] = (),
    extra: list[dict[str, Any]] | None = None,
    azs: tuple[str, ...] = ("us-east-1a", "us-east-1b"),
) -> Topology:
    """The topology of the seeded VPC as an engineer would write it (names, no addresses)."""
    endpoints: list[dict[str, Any]] = [
        {"name": i.name, "type": "interface", "service": i.service, "azs": list(azs)}
        for i in facts.interfaces.values()
        if i.name not in drop
    ]
    if facts.gateway.name not in drop:
        endpoints.append({"name": facts.gateway.name, "type": "gateway", "service": facts.gateway.service})
    endpoints += extra or []
    return parse({"version": 1, "region": facts.region, "vpc": {"id": facts.vpc_id}, "endpoints": endpoints})


def read(
    ec2: Any, topo: Topology, *, subnet_id: str | None = None, address: str | None = None, groups: tuple[str, ...] = ()
) -> AwsFacts:
    """Read the control plane through the emulator's client, with the agent placed as given."""
    place = Place(address=address, subnet_id=subnet_id, security_group_ids=groups, source="test")
    return AwsControlPlane(ec2=ec2, place=place).read(topo)


def judged(
    topo: Topology,
    name: str,
    aws: AwsFacts,
    *,
    answers: Iterable[str] = (),
    timeouts: Iterable[str] = (),
    connected: Iterable[str] = (),
) -> EndpointReport:
    """Judge one endpoint: its first name answering `answers`, `timeouts` dropped and `connected` probed fine."""
    e = topo.endpoint(name)
    answers = tuple(answers)
    probes = [probe(a, TcpStatus.TIMEOUT) for a in timeouts] + [probe(a) for a in connected]
    results = [dns(*answers, name=e.dns_names[0])] if answers else []
    return judge.endpoint(join(observation(e, results, probes), topo, aws, NOW))


def run_findings(topo: Topology, aws: AwsFacts) -> tuple[Finding, ...]:
    """The run-level findings of a topology against the control plane."""
    return judge.run(RunFacts(topology=topo, aws=aws))


def codes(findings: Iterable[Finding]) -> list[str]:
    """The codes of some findings, in order."""
    return [f.code.value for f in findings]


def only(findings: Iterable[Finding], code: Code) -> Finding:
    """The one finding with `code` (fails the test when there is not exactly one)."""
    findings = list(findings)
    found = [f for f in findings if f.code is code]
    assert len(found) == 1, f"expected one {code}, got {codes(findings)}"
    return found[0]
