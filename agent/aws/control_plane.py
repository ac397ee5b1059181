"""Reading the control plane for a run: the VPC's state and where the agent stands in it, as frozen facts.

`AwsControlPlane.read` is blocking (boto3); the run calls it in a daemon thread, so a hung AWS call cannot
hold the run past its deadline. No judgment here: vpc_verify.judge turns these facts into findings.

Before the first call the EC2 API's endpoint gets one TCP connect: where neither an ec2 interface endpoint
nor a NAT leads to it (a Lambda in private subnets), the read fails at once with AwsUnreachable instead of
spending boto3's retries (~19 s) on a route that does not exist. Static answers (endpoint services, AZ
names) are kept between runs in a StaticCache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from vpc_verify.aws import whereami
from vpc_verify.aws.cache import SHARED, StaticCache
from vpc_verify.aws.errors import AwsAccessDenied, AwsNotFound
from vpc_verify.aws.model import VpcState
from vpc_verify.aws.whereami import Place, PlaceError
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
    # Hub VPCs the topology names (centralised endpoints): vpc id -> its state, or why it could not be read
    # (another account's VPC, a denied call): then what is there is unverifiable, not absent.
    hubs: Mapping[str, VpcState] = field(default_factory=dict)
    hub_errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AwsControlPlane:
    """Reads the topology's VPC (blocking; the run calls `read` in a worker thread)."""

    region: str | None = None  # used when the topology names none
    place: Place | None = None  # where the agent runs; located (flags, env, metadata) when None
    subnet_id: str | None = None
    az: str | None = None  # a name (us-east-1a) or an id (use1-az1)
    security_group_ids: tuple[str, ...] = ()
    ec2: EC2Client | None = None  # an injected client (tests); made from boto3's chain when None
    usage: UsageOptions | None = None  # also read the endpoints' usage (metrics, capacity, quota)
    lambda_client: Any = None  # an injected Lambda client (tests)
    # Injected Route 53 Resolver and Route 53 clients (tests). With an injected EC2 client and none of these, the
    # DNS path (Resolver rules, DNS Firewall, private hosted zones) is not read.
    resolver_client: Any = None
    route53_client: Any = None
    profiles_client: Any = None  # Route 53 Profiles; with injected clients and none of this one, not read
    # An injected VPC Lattice client (tests); with an injected EC2 client and none, Resource endpoints'
    # configurations are recorded as unread (their ports unknown).
    lattice_client: Any = None
    cache: StaticCache = field(default_factory=lambda: SHARED)

    def read(self, topology: Topology) -> AwsFacts:
        """Describe the topology's VPC and where the agent is in it.

        Raises PlaceError (a usage error) when the subnet or a security group the agent was told it has is
        not the VPC's, AwsUnreachable when the EC2 API cannot be reached, and other AwsErrors as they come.
        """
        if not topology.vpc.id:
            raise ValueError("the topology names no vpc.id")
        from vpc_verify.aws import clients, read

        client = self.ec2
        if client is None:
            client = clients.ec2(topology.region or self.region)
            clients.reachable(client)
        services = [e.service for e in topology.endpoints if e.service]
        state = read.read(client, topology.vpc.id, services=services, cache=self.cache)
        state = self._with_dns_path(client, state, topology)
        state = self._with_lattice(state, topology)
        place = self.place
        if place is None:
            place = whereami.locate(self.subnet_id, self.az, security_group_ids=self.security_group_ids)
        place = whereami.complete(client, state, place, lambda_client=self.lambda_client)
        hubs, hub_errors = _hubs(client, topology, self.cache)
        facts = AwsFacts(state=_with_agent_groups(client, state, place), place=place, hubs=hubs, hub_errors=hub_errors)
        if self.usage is None:
            return facts
        from vpc_verify.aws.usage import read_usage

        try:
            region = topology.region or self.region
            usage = read_usage(
                facts.state, self.usage, ec2=client, cw=clients.cloudwatch(region), sq=clients.service_quotas(region)
            )
        except Exception as exc:  # the usage is extra: its failure is a finding, the comparison stands
            return replace(facts, usage_error=exc)
        return replace(facts, usage=usage)

    def _with_lattice(self, state: VpcState, topology: Topology) -> VpcState:
        """The state with its Resource endpoints' resource configurations (their port ranges), when it has any."""
        from vpc_verify.aws import clients, lattice
        from vpc_verify.aws.errors import AwsError

        if not lattice.resource_configuration_arns(state):
            return state
        api = self.lattice_client
        if api is None:
            if self.ec2 is not None:
                return lattice.with_resource_configurations(None, state, why_not="no VPC Lattice client was given")
            try:
                api = clients.client("vpc-lattice", topology.region or self.region)
                clients.reachable(api)
            except AwsError as exc:
                return lattice.with_resource_configurations(None, state, why_not=str(exc))
            except Exception as exc:  # an older botocore without the service (UnknownServiceError)
                return lattice.with_resource_configurations(None, state, why_not=f"{type(exc).__name__}: {exc}")
        return lattice.with_resource_configurations(api, state)

    def _with_dns_path(self, ec2: EC2Client, state: VpcState, topology: Topology) -> VpcState:
        """The state with its DNS path, read for the names the topology resolves (an API unreachable from here, or
        a call denied, leaves its part unread)."""
        from vpc_verify.aws import clients
        from vpc_verify.aws.dns_path import NOT_ASKED, read_dns_path
        from vpc_verify.aws.errors import AwsError

        names = [n for e in topology.endpoints if e.type != "gateway" for n in e.dns_names]
        if not names:
            return state
        resolver, route53 = self.resolver_client, self.route53_client
        profiles = self.profiles_client if self.profiles_client is not None else NOT_ASKED
        if resolver is None and route53 is None:
            if self.ec2 is not None:
                return state
            region = topology.region or self.region
            apis: dict[str, Any] = {}
            for name in ("route53resolver", "route53", "route53profiles"):
                try:
                    apis[name] = clients.client(name, region)
                    clients.reachable(apis[name])
                except AwsError:
                    apis[name] = None
                except Exception:  # an older botocore without the service (UnknownServiceError): as unreachable
                    apis[name] = None
            resolver, route53, profiles = apis["route53resolver"], apis["route53"], apis["route53profiles"]
        got = read_dns_path(ec2, resolver, route53, state, names, profiles)
        return replace(state, dns=got.path, unread=(*state.unread, *got.unread))


def _hubs(ec2: EC2Client, topology: Topology, cache: StaticCache) -> tuple[dict[str, VpcState], dict[str, str]]:
    """Each hub VPC the topology names, read with the agent's own credentials, or through the hub's role_arn."""
    from vpc_verify.aws import clients, read
    from vpc_verify.aws.errors import AwsError

    states: dict[str, VpcState] = {}
    errors: dict[str, str] = {}
    for hub in topology.hubs():
        if not hub.vpc_id or hub.vpc_id in states or hub.vpc_id in errors:
            continue
        services = [e.service for e in topology.endpoints if e.hub == hub and e.service]
        try:
            if hub.role_arn:
                # Another account: its AZ names map to other zones, so nothing cached for this one applies.
                reader, kept = clients.ec2_as_role(hub.role_arn, str(ec2.meta.region_name)), StaticCache()
            else:
                reader, kept = ec2, cache
            states[hub.vpc_id] = read.read(reader, hub.vpc_id, services=services, cache=kept)
        except AwsError as exc:  # another account's VPC, or a denied call: unverifiable, and the run goes on
            errors[hub.vpc_id] = str(exc)
    return states, errors


def _with_agent_groups(ec2: EC2Client, state: VpcState, place: Place) -> VpcState:
    """The state with the agent's own security groups (their outbound rules decide its egress)."""
    from vpc_verify.aws import read

    if not place.security_group_ids:
        return state
    try:
        out = read.with_groups(ec2, state, place.security_group_ids)
    except AwsNotFound:
        raise PlaceError(
            f"the agent's security groups {', '.join(place.security_group_ids)} (from {place.source}) do not all "
            f"exist in {state.region}: pass --security-group-id with groups of {state.vpc_id}"
        ) from None
    except AwsAccessDenied:
        return _noted(state, "ec2:DescribeSecurityGroups (the agent's own groups)")
    foreign = [
        g
        for g in place.security_group_ids
        if g not in out.security_groups or out.security_groups[g].vpc_id not in ("", state.vpc_id)
    ]
    if foreign:
        raise PlaceError(
            f"the agent's security groups {', '.join(foreign)} (from {place.source}) are not groups of {state.vpc_id}"
        )
    return out


def _noted(state: VpcState, action: str) -> VpcState:
    return replace(state, unread=(*state.unread, action))


@dataclass(frozen=True, slots=True)
class AlreadyRead:
    """A control plane read before the run (`diagnose` reads first, so an AWS error stops it at once)."""

    facts: AwsFacts

    def read(self, topology: Topology) -> AwsFacts:
        """The facts read before."""
        return self.facts
