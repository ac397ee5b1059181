"""The joined view: per endpoint, what the topology expects, what the packets showed, and what AWS says.

Joined once, before any rule runs, so a rule that needs both planes reads both at once and nothing is
rewritten afterwards. Evaluators (vpc_verify.evaluate) run here, once, and rules read their verdicts.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from vpc_verify.addresses import in_networks, is_private
from vpc_verify.aws.control_plane import AwsFacts
from vpc_verify.aws.model import Eni, PrefixList, ResourceConfiguration, RouteTable, VpcEndpoint, VpcState
from vpc_verify.aws.names import record_families, regional_dns_name, zonal_dns_names
from vpc_verify.aws.whereami import Place
from vpc_verify.evaluate import dns_path, endpoint_policy, path, routes, security_groups
from vpc_verify.evaluate.nacl import NaclVerdict
from vpc_verify.evaluate.path import PathVerdict
from vpc_verify.evaluate.security_groups import AgentSource, SgVerdict
from vpc_verify.observe.pipeline import Ending, Observation
from vpc_verify.observe.telemetry import TelemetryPath
from vpc_verify.report import AddressReport, AwsEndpointFacts, EniFacts
from vpc_verify.topology import Endpoint, IPNetwork, Topology

if TYPE_CHECKING:
    from vpc_verify.aws.flowlogs import FlowFacts

RUN = "*"  # the endpoint field of findings about the run or the VPC as a whole
# How long after its creation an endpoint's private DNS may still be propagating (AWS: a few minutes).
PROPAGATION_S = 900.0
DEADLINE_SKIP = "the run's deadline came before this address was probed"

# Which AWS endpoint types can serve a topology endpoint of each type.
AWS_TYPES: dict[str, tuple[str, ...]] = {
    "interface": ("interface",),
    "gateway": ("gateway",),
    "service": ("interface", "gatewayloadbalancer", "resource", "servicenetwork"),
    "gatewayloadbalancer": ("gatewayloadbalancer",),
}


@dataclass(frozen=True)  # not slotted: cached_property needs the instance's __dict__
class AwsSide:
    """The AWS facts of one topology endpoint: the VPC, the agent's place, and the endpoint serving it."""

    state: VpcState
    place: Place
    vpce: VpcEndpoint | None  # None: the VPC has no endpoint for the service
    source: AgentSource
    sg: SgVerdict | None = None  # the endpoint's groups for the endpoint's port (interface endpoints)
    paths: Mapping[str, PathVerdict] = field(default_factory=dict)  # probed address -> its whole path
    # A hub endpoint: for each of the agent's route tables and each hub CIDR, the route that carries it.
    hub_routes: tuple[routes.Carried, ...] = ()
    # Each of the endpoint's names -> what the VPC resolver does with it (empty: the DNS path was not read).
    dns: Mapping[str, dns_path.NameVerdict] = field(default_factory=dict)
    hub: HubSide | None = None  # the endpoint lives in a hub VPC the topology names by id

    @cached_property
    def enis(self) -> tuple[Eni, ...]:
        """The endpoint's network interfaces."""
        return self.state.endpoint_enis(self.vpce) if self.vpce is not None else ()

    @cached_property
    def resource_configuration(self) -> ResourceConfiguration | None:
        """A Resource endpoint's resource configuration (its port ranges), when it was read."""
        if self.vpce is None or not self.vpce.resource_configuration_arn:
            return None
        return self.state.resource_configurations.get(self.vpce.resource_configuration_arn)

    @cached_property
    def prefix_list(self) -> PrefixList | None:
        """The gateway service's prefix list."""
        return self.state.prefix_lists.get(self.vpce.service) if self.vpce is not None else None

    @cached_property
    def agent_table(self) -> RouteTable | None:
        """The route table of the agent's subnet, when the subnet is known."""
        return routes.table_of(self.state, self.place.subnet_id)

    @cached_property
    def agent_tables(self) -> tuple[RouteTable, ...]:
        """The route tables of every subnet the agent may be in (one, or a Lambda's several)."""
        tables = (routes.table_of(self.state, s) for s in self.place.candidate_subnets())
        return tuple({t.id: t for t in tables if t is not None}.values())

    @cached_property
    def agent_az_id(self) -> str | None:
        """The id of the agent's AZ (ids name the same zone in every account; names do not)."""
        return self.place.az_id or self.state.az_id_of(self.place.az)

    @cached_property
    def own_names(self) -> Mapping[str, str | None]:
        """An interface endpoint's own names: its regional name (-> None) and each zonal name (-> its AZ)."""
        if self.vpce is None or self.vpce.type != "interface":
            return {}
        names: dict[str, str | None] = {regional_dns_name(self.state, self.vpce): None}
        return names | {name: az for az, name in zonal_dns_names(self.state, self.vpce).items()}

    def zone(self, az: str | None) -> str:
        """'az-local' when `az` is the agent's zone, 'cross-az' when another, 'unknown' otherwise (AZ ids)."""
        mine, theirs = self.agent_az_id, self.state.az_id_of(az)
        if not theirs or not mine:
            return "unknown"
        return "az-local" if theirs == mine else "cross-az"

    def created_s_ago(self, now: dt.datetime) -> float | None:
        """Seconds since the endpoint was created, when that is recent enough for private DNS to be still
        propagating (CreationTimestamp); None otherwise."""
        if self.vpce is None or not self.vpce.created:
            return None
        try:
            created = dt.datetime.fromisoformat(self.vpce.created.replace("Z", "+00:00"))
        except ValueError:
            return None
        if created.tzinfo is None:
            created = created.replace(tzinfo=dt.UTC)
        age = (now - created).total_seconds()
        return age if 0 <= age <= PROPAGATION_S else None

    def eni_of(self, address: str | None) -> Eni | None:
        """The endpoint's ENI holding `address`."""
        return next((e for e in self.enis if address and (e.address == address or address in e.ipv6)), None)

    def to_report(self) -> AwsEndpointFacts:
        """The report's typed view of these facts."""
        vpce = self.vpce
        if vpce is None:
            return AwsEndpointFacts(vpc_id=self.state.vpc_id)
        interface = vpce.type != "gateway"
        return AwsEndpointFacts(
            vpc_id=self.state.vpc_id,
            vpc_endpoint_id=vpce.id,
            type=vpce.type,
            service=vpce.service,
            state=vpce.state,
            private_dns_enabled=vpce.private_dns_enabled,
            subnet_ids=vpce.subnet_ids,
            security_group_ids=vpce.group_ids,
            route_table_ids=vpce.route_table_ids,
            network_interfaces=tuple(
                EniFacts(e.id, e.address, e.az, e.subnet_id, e.status, self.zone(e.az), self.state.az_id_of(e.az))
                for e in self.enis
            ),
            agent_az=self.place.az,
            agent_az_id=self.agent_az_id,
            regional_dns_name=regional_dns_name(self.state, vpce) if interface else None,
            zonal_dns_names=zonal_dns_names(self.state, vpce) if interface else {},
            security_groups=self.sg,
            prefix_list=None if interface else self.prefix_list,
            policy_default=endpoint_policy.is_default(vpce.policy_document),
            policy=endpoint_policy.parse(vpce.policy_document),
        )


@dataclass(frozen=True, slots=True)
class HubSide:
    """What the hub VPC says of an endpoint that lives there: its endpoint and whether its groups admit the
    agent, or why the hub could not be read."""

    vpc_id: str
    state: VpcState | None  # None: unread (`error` says why)
    vpce: VpcEndpoint | None = None
    sg: SgVerdict | None = None
    error: str = ""
    # Probed address -> the passes through the network ACL of the hub ENI's subnet that holds it (in, and the
    # return traffic out); the spoke's own passes are in AwsSide.paths.
    nacls: Mapping[str, tuple[NaclVerdict, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EndpointFacts:
    """Everything the rules may read about one endpoint."""

    endpoint: Endpoint
    observation: Observation
    addresses: tuple[AddressReport, ...]  # every answered address, classified
    expected: tuple[str, ...]  # the expected ENI addresses (the topology's, else AWS's)
    cidrs: tuple[IPNetwork, ...]  # the VPC's CIDRs (the topology's, else AWS's); empty when unknown
    resolver_timeout_ms: int
    now: dt.datetime
    aws: AwsSide | None = None  # None when the control plane was not read
    flows: FlowFacts | None = None  # `check --evidence flowlogs`: the run's flow-log records
    answered_in_run: tuple[str, ...] = ()  # a few names the resolver answered in this run (any endpoint's)
    # A Lattice endpoint's IP prefixes (DescribeVpcEndpoints Ipv4Prefixes/Ipv6Prefixes): its answers lie in them.
    expected_prefixes: tuple[IPNetwork, ...] = ()

    @property
    def name(self) -> str:
        """The endpoint's name (the findings' `endpoint`)."""
        return self.endpoint.name

    def probed(self) -> Iterable[AddressReport]:
        """The addresses that were probed."""
        return (a for a in self.addresses if a.probe is not None)


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the run-level rules read: the topology, the control plane's outcome, and whether it is partial."""

    topology: Topology
    aws: AwsFacts | None
    aws_error: BaseException | None = None
    aws_timed_out: bool = False
    partial: bool = False  # only some endpoints are checked (--only): the others are not unexpected

    def unmatched(self) -> tuple[VpcEndpoint, ...]:
        """The VPC's endpoints that no topology endpoint matches."""
        if self.aws is None:
            return ()
        used = {m.id for m in (match(self.aws.state, e) for e in self.topology.endpoints) if m is not None}
        return tuple(e for e in self.aws.state.endpoints if e.id not in used)


@dataclass(frozen=True, slots=True)
class Published:
    """What publishing one report's metrics did (a sink's outcome, as facts)."""

    sink: str  # cloudwatch | emf
    ok: bool
    datums: int = 0
    sent: int = 0
    failed: int = 0
    emf_lines: int = 0  # EMF lines written instead of what PutMetricData could not take
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PublishFacts:
    """What the publish rules read: the agent's path to its telemetry endpoints, then what publishing did."""

    paths: tuple[TelemetryPath, ...] = ()
    published: Published | None = None  # None: nothing was published (publishing off, or a dry run)


def match(state: VpcState, endpoint: Endpoint) -> VpcEndpoint | None:
    """The VPC endpoint that serves a topology endpoint (same service and kind; an available one holding an
    expected address first), or None."""
    if not endpoint.service:
        return None
    kinds = AWS_TYPES[endpoint.type]
    candidates = [e for e in state.endpoints if e.service == endpoint.service and e.type in kinds]
    if not candidates:
        return None
    wanted = set(endpoint.addresses)

    def rank(e: VpcEndpoint) -> tuple[bool, bool]:
        addresses = {eni.address for eni in state.endpoint_enis(e)}
        return (bool(wanted & addresses), e.state.lower() == "available")

    return max(candidates, key=rank)


def join(
    observation: Observation,
    topology: Topology,
    aws: AwsFacts | None,
    now: dt.datetime,
    flows: FlowFacts | None = None,
    *,
    answered: tuple[str, ...] = (),
) -> EndpointFacts:
    """The joined facts of one endpoint (`answered`: a few names the resolver answered in the run)."""
    endpoint = observation.endpoint
    cidrs = topology.vpc.cidrs or (aws.state.cidrs if aws is not None else ())
    # A declared hub's answers are the endpoint's own (centralised endpoints): in its CIDRs is "in the VPC".
    networks = cidrs + (endpoint.hub.cidrs if endpoint.hub is not None and cidrs else ())
    side = _aws_side(endpoint, aws) if aws is not None and endpoint.service else None
    if side is not None:
        side = replace(
            side,
            paths=_paths(side, observation, endpoint.port),
            hub_routes=_hub_routes(side, endpoint),
            dns=_dns_verdicts(side.state, endpoint),
            hub=_hub_side(side, endpoint, aws, tuple(observation.probes)) if aws is not None else None,
        )
    azs = _eni_addresses(endpoint, side) if side is not None and side.vpce is not None else {}
    prefixes = _lattice_prefixes(side) if not endpoint.addresses else ()
    # A Lattice endpoint answers from its prefixes, not its ENIs' own addresses: those are not missing answers.
    expected = endpoint.addresses or (() if prefixes else _recorded(azs, endpoint, side))
    addresses = tuple(
        AddressReport(
            address=address,
            names=names,
            az=azs.get(address),
            private=is_private(address) or (bool(networks) and in_networks(address, networks)),
            in_vpc=in_networks(address, networks) if networks else None,
            expected=(address in expected or in_networks(address, prefixes)) if expected or prefixes else None,
            probe=observation.probes.get(address),
            skip_reason=_skip_reason(observation, address),
        )
        for address, names in observation.answers.items()
    )
    return EndpointFacts(
        endpoint=endpoint,
        observation=observation,
        addresses=addresses,
        expected=expected,
        expected_prefixes=prefixes,
        cidrs=cidrs,
        resolver_timeout_ms=topology.resolver.timeout_ms,
        now=now,
        aws=side,
        flows=flows,
        answered_in_run=answered,
    )


def _aws_side(endpoint: Endpoint, aws: AwsFacts) -> AwsSide:
    state, place = aws.state, aws.place
    vpce = match(state, endpoint)
    source = security_groups.agent_source(state, place, 6 if endpoint.ip_address_type == "ipv6" else 4)
    sg = None
    if vpce is not None and vpce.type != "gateway":
        sg = security_groups.inbound(vpce.group_ids, state.security_groups, state.prefix_lists, source, endpoint.port)
    return AwsSide(state=state, place=place, vpce=vpce, source=source, sg=sg)


def _paths(side: AwsSide, observation: Observation, port: int) -> dict[str, PathVerdict]:
    """The whole path to every probed address, each judged in its own address family."""
    out = {}
    for address in observation.probes:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            continue
        out[address] = path.evaluate(side.state, side.place, side.vpce, address, port, side.eni_of(address))
    return out


def _hub_routes(side: AwsSide, endpoint: Endpoint) -> tuple[routes.Carried, ...]:
    """How the agent's route tables carry each of the endpoint's hub CIDRs (none without a hub)."""
    if endpoint.hub is None:
        return ()
    return tuple(routes.carrying(t, network) for t in side.agent_tables for network in endpoint.hub.cidrs)


def _hub_side(side: AwsSide, endpoint: Endpoint, aws: AwsFacts, probed: tuple[str, ...] = ()) -> HubSide | None:
    """The hub's endpoint for a hub endpoint named by VPC id, and its groups' and its ENIs' network ACLs' verdicts
    for the agent's traffic to each probed address."""
    hub_id = endpoint.hub.vpc_id if endpoint.hub is not None else None
    if not hub_id:
        return None
    state = aws.hubs.get(hub_id)
    if state is None:
        return HubSide(hub_id, None, error=aws.hub_errors.get(hub_id, "not read"))
    vpce = match(state, endpoint)
    sg = None
    if vpce is not None and vpce.type != "gateway":
        sg = security_groups.inbound(
            vpce.group_ids, state.security_groups, state.prefix_lists, side.source, endpoint.port
        )
    nacls = {}
    enis = state.endpoint_enis(vpce) if vpce is not None else ()
    for address in probed:
        eni = next((e for e in enis if address in (e.address, *e.ipv6)), None)
        if eni is None or not eni.subnet_id:
            continue
        source = security_groups.agent_source(side.state, side.place, ipaddress.ip_address(address).version)
        back = side.place.return_ports()
        nacls[address] = path.endpoint_side(state, eni.subnet_id, source, endpoint.port, back)
    return HubSide(hub_id, state, vpce, sg, nacls=nacls)


def _dns_verdicts(state: VpcState, endpoint: Endpoint) -> dict[str, dns_path.NameVerdict]:
    """What the VPC resolver does with each of the endpoint's names, when the DNS path was read."""
    if state.dns is None:
        return {}
    return {name: dns_path.evaluate(state.dns, name) for name in endpoint.dns_names}


def _eni_addresses(endpoint: Endpoint, side: AwsSide) -> Mapping[str, str | None]:
    """The matched interface endpoint's ENI addresses and their AZs, in the families the DNS phase asks for
    (an IPv4 endpoint's ENI may hold IPv6 addresses too)."""
    if side.vpce is None or side.vpce.type == "gateway":
        return {}
    out: dict[str, str | None] = {}
    for eni in side.enis:
        if eni.address and endpoint.asks_a:
            out[eni.address] = eni.az or None
        for address in eni.ipv6 if endpoint.asks_aaaa else ():
            out[address] = eni.az or None
    return out


def _lattice_prefixes(side: AwsSide | None) -> tuple[IPNetwork, ...]:
    """The IP prefixes a Resource or ServiceNetwork endpoint (VPC Lattice) answers from, as AWS reports them."""
    vpce = side.vpce if side is not None else None
    if vpce is None or not vpce.lattice:
        return ()
    out = []
    for prefix in (*vpce.ipv4_prefixes, *vpce.ipv6_prefixes):
        try:
            out.append(ipaddress.ip_network(prefix, strict=False))
        except ValueError:
            continue
    return tuple(out)


def _recorded(azs: Mapping[str, str | None], endpoint: Endpoint, side: AwsSide | None) -> tuple[str, ...]:
    """The ENI addresses the endpoint's names have records for: DnsRecordIpType (not IpAddressType) decides
    which families' records exist, so a dual-stack endpoint with IPv4 records expects no IPv6 answer."""
    vpce = side.vpce if side is not None else None
    if vpce is None:
        return tuple(azs)
    families = frozenset().union(*(record_families(vpce, n) for n in endpoint.dns_names)) or frozenset({4, 6})
    return tuple(a for a in azs if ipaddress.ip_address(a).version in families)


def _skip_reason(observation: Observation, address: str) -> str:
    if address in observation.probes:
        return ""
    if address in observation.skipped:
        return observation.skipped[address]
    return DEADLINE_SKIP if observation.ending is Ending.DEADLINE else ""
