"""Shared helpers of the control-plane tests: topologies from seeded facts, and empty endpoint reports."""

from __future__ import annotations

from typing import Any

from tests.testbed.aws_seed import SeedFacts
from vpc_verify.aws.compare import AwsControlPlane, AwsView
from vpc_verify.aws.whereami import Place
from vpc_verify.findings import Finding
from vpc_verify.report import AddressReport, EndpointReport
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


def view(
    ec2: Any, topo: Topology, *, subnet_id: str | None = None, address: str | None = None, groups: tuple[str, ...] = ()
) -> AwsView:
    """Read the control plane through the emulator's client, with the agent placed as given."""
    place = Place(address=address, subnet_id=subnet_id, security_group_ids=groups, source="test")
    return AwsControlPlane(ec2=ec2, place=place).read(topo)


def empty_report(
    topo: Topology, name: str, findings: tuple[Finding, ...] = (), addresses: tuple[AddressReport, ...] = ()
) -> EndpointReport:
    """An endpoint report as the data plane would leave it, before the control plane refines it."""
    e = topo.endpoint(name)
    return EndpointReport(name=e.name, type=e.type, service=e.service, findings=findings, dns=(), addresses=addresses)


def codes(findings: Any) -> list[str]:
    """The codes of some findings, in order."""
    return [f.code for f in findings]


def only(findings: Any, code: str) -> Finding:
    """The one finding with `code` (fails the test when there is not exactly one)."""
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, f"expected one {code}, got {[f.code for f in findings]}"
    return found[0]
