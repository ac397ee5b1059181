"""Where a shell's topology comes from when it is not a file: derived from a policy, or from AWS alone.

`derived(...)` reads the VPC once (the same read a run makes: vpc_verify.aws.control_plane), derives its topology
(vpc_verify.fleet.derive) and hands the run what it read (`AlreadyRead`), so the VPC is described once per run.
The VPC is the one named (`--vpc-id`), else the one the agent runs in (vpc_verify.fleet.locate). The run's report
then carries the derivation (`annotate`): the class, the required endpoints, the derived topology.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from vpc_verify.fleet import locate
from vpc_verify.fleet.derive import Derivation, derive
from vpc_verify.fleet.policy import EVERY_ENDPOINT, Policy
from vpc_verify.fleet.policy import load as load_policy
from vpc_verify.report import Report
from vpc_verify.topology import Endpoint, Resolver, Topology, Vpc, default_dns_name

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

    from vpc_verify.aws.control_plane import AlreadyRead

POLICY_TTL_S = 300.0  # a warm Lambda reads its policy (an SSM parameter, an S3 object) every five minutes
_POLICIES: dict[str, tuple[float, Policy]] = {}
_POLICIES_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Derived:
    """A derived topology, what AWS said while deriving it, and the derivation for the report."""

    topology: Topology
    control_plane: AlreadyRead
    derivation: Derivation

    def annotate(self, report: Report) -> Report:
        """The run's report with its `policy` section."""
        return replace(report, policy=self.derivation.to_dict())


def cached_policy(location: str, *, region: str | None = None, ttl_s: float = POLICY_TTL_S) -> Policy:
    """The policy at `location`, read again once it is `ttl_s` old (a warm Lambda runs every minute)."""
    now = time.monotonic()
    with _POLICIES_LOCK:
        kept = _POLICIES.get(location)
    if kept is not None and now - kept[0] < ttl_s:
        return kept[1]
    policy = load_policy(location, region=region)
    with _POLICIES_LOCK:
        _POLICIES[location] = (now, policy)
    return policy


def forget_policy(location: str) -> None:
    """Read the policy at `location` again on its next use (the agent's SIGHUP)."""
    with _POLICIES_LOCK:
        _POLICIES.pop(location, None)


def derived(
    policy: Policy | None,
    *,
    vpc_id: str | None = None,
    region: str | None = None,
    subnet_id: str | None = None,
    az: str | None = None,
    security_group_ids: tuple[str, ...] = (),
    ec2: EC2Client | None = None,
    lambda_client: Any = None,
    env: Mapping[str, str] | None = None,
) -> Derived:
    """Read the VPC (named, or the agent's own) and derive its topology under `policy` (None: every endpoint AWS
    reports). Raises UsageError (exit 2) when the VPC is unknown, AwsError when AWS cannot be read."""
    from vpc_verify.aws import clients
    from vpc_verify.aws.control_plane import AlreadyRead, AwsControlPlane

    policy = policy or EVERY_ENDPOINT
    if ec2 is None:
        ec2 = clients.ec2(region)
        clients.reachable(ec2)
    place = locate.locate(subnet_id, az, security_group_ids, env=env)
    vpc = vpc_id or locate.own_vpc(ec2, place, lambda_client=lambda_client, env=env)
    tags = locate.vpc_tags(ec2, vpc)
    the_region = str(ec2.meta.region_name)
    seed = Topology(
        version=1,
        region=the_region,
        vpc=Vpc(id=vpc),
        resolver=Resolver(),
        endpoints=_seed_endpoints(policy, tags, the_region),
        source=policy.source,
        allow_empty=True,
    )
    facts = AwsControlPlane(region=the_region, place=place, ec2=ec2, lambda_client=lambda_client).read(seed)
    derivation = derive(policy, facts.state, tags, facts.place)
    return Derived(topology=derivation.topology, control_plane=AlreadyRead(facts), derivation=derivation)


def _seed_endpoints(policy: Policy, tags: Mapping[str, str], region: str) -> tuple[Endpoint, ...]:
    """The class's services, so the read asks DescribeVpcEndpointServices about them too (their DNS names)."""
    from vpc_verify.fleet.policy import service_name

    klass = policy.classify(tags)
    if klass is None:
        return ()
    out = []
    for i, svc in enumerate((*klass.interface, *klass.gateway)):
        service = service_name(svc, region)
        name = default_dns_name(service, region) or f"seed{i}.invalid"
        out.append(Endpoint(name=f"seed{i}", type="interface", service=service, dns_names=(name,)))
    return tuple(out)
