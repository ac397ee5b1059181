"""The validated topology as frozen records, and the one table of defaults and ranges.

Every default is written once, here: the dataclasses take their field defaults from these constants and the
parser (vpc_verify.topology.parse) applies and checks the same ones. `vpc_verify.topology.settings.SETTINGS`
lists them with their ranges and meaning, for the reference documentation.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from vpc_verify import service_names
from vpc_verify.checks.calls import Call
from vpc_verify.ranges import NumberRange
from vpc_verify.topology.errors import TopologyError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
EndpointType = Literal["interface", "gateway", "service", "gatewayloadbalancer"]
IpAddressType = Literal["ipv4", "dualstack", "ipv6"]
ENDPOINT_TYPES: tuple[EndpointType, ...] = ("interface", "gateway", "service", "gatewayloadbalancer")
# A Gateway Load Balancer endpoint is a route target: it has no name to resolve and nothing answers TLS on it.
ROUTE_TARGET_TYPES: tuple[EndpointType, ...] = ("gatewayloadbalancer",)
IP_ADDRESS_TYPES: tuple[IpAddressType, ...] = ("ipv4", "dualstack", "ipv6")
HTTP_METHODS = ("GET", "HEAD", "OPTIONS")  # vpc-verify never changes anything

# ---------------------------------------------------------------------------------------------- defaults
DEFAULT_TYPE: EndpointType = "interface"
DEFAULT_PORT = 443
DEFAULT_TIMEOUT_MS = 2000
DEFAULT_LATENCY_BUDGET_MS = 100.0
DEFAULT_RESOLVER_PORT = 53
DEFAULT_RESOLVER_TIMEOUT_MS = 1000
# DNS questions (packets) a second at most: well under the VPC resolver's limit of 1024 packets a second per
# network interface, which the ENI's other traffic (and, in Lambda, other functions on a Hyperplane ENI) shares.
DEFAULT_QUERIES_PER_SECOND = 300
DEFAULT_TLS_VERIFY = True
DEFAULT_HTTP_PATH = "/"
DEFAULT_HTTP_METHOD = "GET"
DEFAULT_HTTP_STATUS: tuple[int, ...] = (200,)
DEFAULT_ALLOW_EMPTY = False
DEFAULT_AUTHORIZE = False

# ------------------------------------------------------------------------------------------------ ranges
PORT_RANGE = NumberRange(1, 65535, integer=True)
TIMEOUT_MS_RANGE = NumberRange(1, 60_000, integer=True)
LATENCY_BUDGET_MS_RANGE = NumberRange(0, 600_000, low_open=True)
HTTP_STATUS_RANGE = NumberRange(100, 599, integer=True)
QUERIES_PER_SECOND_RANGE = NumberRange(1, 100_000, integer=True)


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """How to handshake: verify the chain (against `ca_bundle`, or the system store) and the name."""

    verify: bool = DEFAULT_TLS_VERIFY
    ca_bundle: str | None = None
    server_name: str | None = None


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """One HTTP request after the handshake and the statuses that count as healthy."""

    path: str = DEFAULT_HTTP_PATH
    method: str = DEFAULT_HTTP_METHOD
    status: tuple[int, ...] = DEFAULT_HTTP_STATUS


@dataclass(frozen=True, slots=True)
class Authorize:
    """The signed call through an endpoint (vpc_verify.checks.signed): which call, signed for which region,
    whether it is made, and whether the topology said so (then --authorize does not turn it on)."""

    call: Call
    region: str
    enabled: bool = DEFAULT_AUTHORIZE
    explicit: bool = False


@dataclass(frozen=True, slots=True)
class Hub:
    """A hub VPC that holds the endpoints a spoke uses (centralised endpoints, reached over a Transit Gateway or
    peering, their names answered by private hosted zones shared with the spoke or a Route 53 Profile): answers in
    its CIDRs are right, and the spoke needs a route to them. With `vpc_id` the hub is read for its endpoint and
    that endpoint's security groups: with the agent's own credentials, or those of `role_arn` (a read-only role
    in the hub's account)."""

    cidrs: tuple[IPNetwork, ...]
    vpc_id: str | None = None
    role_arn: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One service the VPC depends on, with every default already applied."""

    name: str
    type: EndpointType
    service: str | None
    dns_names: tuple[str, ...]
    addresses: tuple[str, ...] = ()
    azs: tuple[str, ...] = ()
    port: int = DEFAULT_PORT
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    latency_budget_ms: float = DEFAULT_LATENCY_BUDGET_MS
    tls: TlsSettings | None = field(default_factory=TlsSettings)
    http: HttpSettings | None = None
    ip_address_type: IpAddressType = "ipv4"
    authorize: Authorize | None = None  # None: no call is known for the service (or no region to sign for)
    hub: Hub | None = None  # the endpoint lives in a hub VPC (None: in this VPC)

    @property
    def route_target(self) -> bool:
        """A Gateway Load Balancer endpoint: routes send traffic through it; there is no name or TLS to probe."""
        return self.type in ROUTE_TARGET_TYPES

    @property
    def signs(self) -> bool:
        """Whether each address gets the signed call."""
        return self.authorize is not None and self.authorize.enabled

    @property
    def asks_a(self) -> bool:
        """Whether the DNS phase asks for A records (not for an IPv6-only endpoint)."""
        return self.ip_address_type != "ipv6"

    @property
    def asks_aaaa(self) -> bool:
        """Whether the DNS phase asks for AAAA records (dual-stack and IPv6-only endpoints)."""
        return self.ip_address_type != "ipv4"

    @property
    def server_name(self) -> str:
        """The name sent as SNI and checked against the certificate."""
        if self.tls is not None and self.tls.server_name:
            return self.tls.server_name
        return self.dns_names[0] if self.dns_names else ""  # a route target has no name

    @property
    def timeout_s(self) -> float:
        """Per-phase probe timeout in seconds."""
        return self.timeout_ms / 1000.0


@dataclass(frozen=True, slots=True)
class Resolver:
    """Where DNS questions go (no nameservers means the system resolver) and how fast they may be sent."""

    nameservers: tuple[str, ...] = ()
    port: int = DEFAULT_RESOLVER_PORT
    timeout_ms: int = DEFAULT_RESOLVER_TIMEOUT_MS
    queries_per_second: int = DEFAULT_QUERIES_PER_SECOND


@dataclass(frozen=True, slots=True)
class Vpc:
    """The VPC the agent runs in: its id enables the control-plane comparison."""

    id: str | None = None
    cidrs: tuple[IPNetwork, ...] = ()


@dataclass(frozen=True, slots=True)
class Topology:
    """A validated topology."""

    version: int
    region: str | None
    vpc: Vpc
    resolver: Resolver
    endpoints: tuple[Endpoint, ...]
    source: str = "<memory>"
    allow_empty: bool = DEFAULT_ALLOW_EMPTY
    hub: Hub | None = None  # the file's hub, which its interface and service endpoints use unless they opt out

    def hubs(self) -> tuple[Hub, ...]:
        """Every hub the endpoints use, once each."""
        return tuple(dict.fromkeys(e.hub for e in self.endpoints if e.hub is not None))

    def networks(self, endpoint: Endpoint) -> tuple[IPNetwork, ...]:
        """Where the endpoint's answers are its own: the VPC's CIDRs, and its hub's (empty while the VPC's are
        unknown: then only private or public can be said)."""
        return self.vpc.cidrs + (endpoint.hub.cidrs if endpoint.hub is not None and self.vpc.cidrs else ())

    def endpoint(self, name: str) -> Endpoint:
        """The endpoint called `name` (KeyError when absent)."""
        for endpoint in self.endpoints:
            if endpoint.name == name:
                return endpoint
        raise KeyError(name)

    def authorizing(self) -> Topology:
        """The same topology with the signed call on for every endpoint that has one and does not turn it off
        (the CLI's --authorize)."""

        def on(e: Endpoint) -> Endpoint:
            a = e.authorize
            if a is None or a.enabled or a.explicit:
                return e
            return replace(e, authorize=replace(a, enabled=True))

        return replace(self, endpoints=tuple(on(e) for e in self.endpoints))

    def only(self, names: Iterable[str]) -> Topology:
        """The same topology narrowed to `names`; an unknown name is a TopologyError."""
        wanted = list(dict.fromkeys(names))
        known = {e.name for e in self.endpoints}
        for name in wanted:
            if name not in known:
                raise TopologyError(self.source, "only", f"one of the endpoint names {sorted(known)}", name)
        keep = set(wanted)
        return replace(self, endpoints=tuple(e for e in self.endpoints if e.name in keep))


def default_dns_name(service: str, region: str | None) -> str | None:
    """The name a topology endpoint of an AWS service checks by default (vpc_verify.service_names: the service's
    private DNS name, a wildcard's under a label), or None when there is none (unknown, or execute-api)."""
    names = service_names.lookup(service, region)
    return names.default_name() if names is not None else None
