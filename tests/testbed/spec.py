"""What a VPC in a box holds: a YAML spec of endpoints and their faults, and the finding codes each must give.

```yaml
region: us-east-1
vpc_cidrs: [10.0.0.0/16]
resolver: {address: 10.0.0.2, server: dnsmasq}   # server: dnsmasq (default) | authdns | unbound; down: drop|stopped
latency_budget_ms: 100
endpoints:
  - name: sqs                                      # a PrivateLink chain: name -> vpce-....vpce.amazonaws.com -> ENIs
    service: com.amazonaws.us-east-1.sqs
    addresses: [10.0.1.10, 10.0.2.10]
  - name: kms
    service: com.amazonaws.us-east-1.kms
    addresses: [10.0.1.11]
    fault: drop                                    # one of FAULTS
  - name: billing                                  # any other private service
    type: service
    dns_name: billing.internal.example.com
    addresses: [10.0.3.20]
    http: {path: /health, status: [200]}
    fault: http_status
  - name: ssm                                      # served by nginx rather than the Python targets
    service: com.amazonaws.us-east-1.ssm
    addresses: [10.0.1.12]
    server: nginx                                  # python (default) | nginx (tests/testbed/thirdparty.py)
    fault: no_intermediate                         # FAULTS, or one of NGINX_FAULTS for nginx only
```

Real-VPC shapes (issues 11 and 12):

```yaml
vpc_cidrs: [10.0.0.0/16, 100.64.0.0/16, "2600:1f18:1234:5600::/56"]   # non-RFC1918 and IPv6 GUA are the VPC's own
resolver: {address: 10.0.0.2, rate_limit_pps: 50}   # drop queries above N packets/s per source (AWS: 1024 per ENI)
hub: {vpc_id: vpc-0hub, cidrs: [10.1.0.0/16]}     # endpoints live in a hub VPC; the topology declares it
endpoints:
  - name: ecr-dkr                                  # a wildcard private DNS name: any label answers, the apex has no
    service: com.amazonaws.us-east-1.ecr.dkr       # record (NODATA); the certificate covers *.dkr.ecr.<r>; the
    addresses: [10.0.1.10, "2600:1f18:1234:5601::10"]   # topology probes probe_name (default probe.<zone>)
    probe_name: 123456789012.dkr.ecr.us-east-1.amazonaws.com
  - name: sqs
    service: com.amazonaws.us-east-1.sqs
    addresses: [10.0.1.11]
    fault: firewall_override                       # DNS Firewall BLOCK/OVERRIDE: a CNAME to a walled garden
```

A service in the emulator's catalogue (tests/testbed/emulator_vpce.py) gets AWS's private DNS name by default
(ecr.dkr -> *.dkr.ecr.<r>, kinesis-streams -> kinesis.<r>, execute-api -> *.execute-api.<r>); others get
<svc>.<region>.amazonaws.com.
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

# fault -> the docs/findings.md codes the endpoint must then have, exactly.
FAULTS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "public_address": frozenset({"DNS_PUBLIC_ADDRESS"}),
    "outside_vpc": frozenset({"DNS_OUTSIDE_VPC"}),
    "unexpected_address": frozenset({"DNS_UNEXPECTED_ADDRESS"}),
    "missing_address": frozenset({"DNS_MISSING_ADDRESS"}),
    "nxdomain": frozenset({"DNS_NXDOMAIN"}),
    "nodata": frozenset({"DNS_NO_ANSWER"}),
    "servfail": frozenset({"DNS_SERVFAIL"}),
    "refused": frozenset({"DNS_SERVFAIL"}),
    "dns_timeout": frozenset({"DNS_TIMEOUT"}),
    "dns_slow": frozenset({"DNS_TIMEOUT"}),  # answers, but after twice the resolver timeout
    "truncate": frozenset(),  # a large answer over TCP: healthy
    "malformed": frozenset({"DNS_SERVFAIL"}),  # through authdns; dnsmasq drops it (then DNS_TIMEOUT)
    "cname_loop": frozenset({"DNS_SERVFAIL"}),
    "cname_nodata": frozenset({"DNS_NO_ANSWER"}),
    "drop": frozenset({"TCP_TIMEOUT"}),
    "closed": frozenset({"TCP_REFUSED"}),
    "wrong_name": frozenset({"TLS_CERT_NAME_MISMATCH"}),
    "untrusted": frozenset({"TLS_CERT_UNTRUSTED"}),
    "expired": frozenset({"TLS_CERT_UNTRUSTED"}),
    "expiring": frozenset({"TLS_CERT_EXPIRING"}),
    "silent": frozenset({"TLS_HANDSHAKE_FAILED"}),
    "garbage": frozenset({"TLS_HANDSHAKE_FAILED"}),
    "reset": frozenset({"TLS_HANDSHAKE_FAILED"}),
    "slow_tls": frozenset({"LATENCY_OVER_BUDGET"}),
    "slow_once": frozenset(),  # slow on the first handshake only: a queue, not a slow endpoint
    "http_status": frozenset({"HTTP_UNEXPECTED_STATUS"}),
    "slow_headers": frozenset({"HTTP_FAILED"}),
    "late": frozenset({"TCP_REFUSED"}),  # until slow_ms has passed: an endpoint still being created
    # The box alone (no control plane); with the DNS path seeded in the emulator, check adds the culprit's code:
    "firewall_nodata": frozenset({"DNS_NO_ANSWER"}),  # DNS Firewall BLOCK, BlockResponse NODATA
    "firewall_nxdomain": frozenset({"DNS_NXDOMAIN"}),  # DNS Firewall BLOCK, BlockResponse NXDOMAIN
    "firewall_override": frozenset({"DNS_PUBLIC_ADDRESS"}),  # BLOCK/OVERRIDE: CNAME to a walled garden (public)
    "phz_shadow": frozenset({"DNS_NXDOMAIN"}),  # a private hosted zone covers the name but lacks the record
    "forwarder_silent": frozenset({"DNS_TIMEOUT"}),  # a Resolver FORWARD rule to a DNS server that never answers
}
DNS_FAULTS = frozenset(
    {
        "nxdomain",
        "nodata",
        "servfail",
        "refused",
        "dns_timeout",
        "dns_slow",
        "truncate",
        "malformed",
        "cname_loop",
        "cname_nodata",
        "firewall_nodata",
        "firewall_nxdomain",
        "firewall_override",
        "forwarder_silent",
    }
)
HTTP_FAULTS = frozenset({"http_status", "slow_headers", "slow_body"})
# Faults only the nginx endpoints make (tests/testbed/thirdparty.py), and their codes.
NGINX_FAULTS: dict[str, frozenset[str]] = {
    "no_intermediate": frozenset({"TLS_CERT_UNTRUSTED"}),
    "not_tls": frozenset({"TLS_HANDSHAKE_FAILED"}),
    "old_tls": frozenset({"TLS_HANDSHAKE_FAILED"}),
    "slow_body": frozenset({"HTTP_FAILED"}),
}
SERVERS = ("python", "nginx")


class SpecError(ValueError):
    """A testbed spec that cannot be built."""


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """One endpoint of the box."""

    name: str
    type: str
    service: str | None
    dns_name: str
    addresses: tuple[str, ...]
    port: int = 443
    fault: str = "none"
    http: Mapping[str, Any] | None = None
    azs: tuple[str, ...] = ()
    cname: str | None = None  # the chain's target, when the spec names it (e.g. the endpoint's regional name)
    server: str = "python"  # what serves the endpoint: the Python targets or nginx
    probe_name: str | None = None  # for a wildcard dns_name: the concrete name the topology probes

    @property
    def wildcard(self) -> bool:
        """Whether the private DNS name is a wildcard (`*.dkr.ecr.<r>.amazonaws.com`)."""
        return self.dns_name.startswith("*.")

    @property
    def zone(self) -> str:
        """The name without its wildcard label (the private zone's apex for a wildcard name)."""
        return self.dns_name[2:] if self.wildcard else self.dns_name

    @property
    def probed_name(self) -> str:
        """The name the topology lists: the DNS name, or for a wildcard a concrete child of its zone."""
        return self.probe_name or (f"probe.{self.zone}" if self.wildcard else self.dns_name)

    @property
    def region(self) -> str:
        """The service's region (us-east-1 when there is no service)."""
        return self.service.split(".")[2] if self.service and self.service.count(".") >= 3 else "us-east-1"

    @property
    def vpce_name(self) -> str:
        """The PrivateLink target of the chain: vpce-<id>-<suffix>.<svc>.<region>.vpce.amazonaws.com."""
        if self.cname:
            return self.cname
        suffix = f".{self.region}.amazonaws.com"
        short = self.zone[: -len(suffix)] if self.wildcard and self.zone.endswith(suffix) else self.zone.split(".")[0]
        ident = zlib.crc32(self.name.encode()) * 2654435761 % 16**16
        return f"vpce-0{ident:016x}-{ident % 36**8:08x}.{short}.{self.region}.vpce.amazonaws.com"

    @property
    def expected_codes(self) -> frozenset[str]:
        """The codes docs/findings.md says this endpoint's fault produces."""
        return FAULTS[self.fault] if self.fault in FAULTS else NGINX_FAULTS[self.fault]


@dataclass(frozen=True, slots=True)
class Spec:
    """A whole box."""

    region: str = "us-east-1"
    vpc_cidrs: tuple[str, ...] = ("10.0.0.0/16",)
    resolver: str = "10.0.0.2"
    resolver_server: str = "dnsmasq"
    resolver_down: str = ""  # "", "drop" (nft drops port 53: timeouts) or "stopped" (nothing listens)
    resolver_rate_limit_pps: int = 0  # >0: the resolver drops UDP queries above this rate per source address
    latency_budget_ms: float = 100.0
    timeout_ms: int = 1000
    resolver_timeout_ms: int = 800
    slow_ms: int = 250  # the delay of slow_tls, slow_headers
    endpoints: tuple[EndpointSpec, ...] = field(default_factory=tuple)
    records: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # more names the resolver serves
    hub_vpc_id: str | None = None  # the endpoints live in this hub VPC (hub-and-spoke)
    hub_cidrs: tuple[str, ...] = ()

    def expected_codes(self) -> dict[str, set[str]]:
        """Per endpoint, the exact finding codes a correct vpc-verify reports (with the hub declared, if any)."""
        if self.resolver_down:
            return {e.name: {"DNS_TIMEOUT"} for e in self.endpoints}
        return {e.name: set(e.expected_codes) for e in self.endpoints}


def _service_name(service: str) -> str:
    from tests.testbed.emulator_vpce import catalogue_entry

    parts = service.split(".")
    if len(parts) < 4:
        raise SpecError(f"service {service!r}: expected com.amazonaws.<region>.<name>")
    entry = catalogue_entry(service, parts[2])
    if entry is not None and entry[0]:
        return entry[0][0]
    return f"{'.'.join(parts[3:])}.{parts[2]}.amazonaws.com"


def parse(doc: Mapping[str, Any]) -> Spec:
    """A Spec from a mapping (YAML already loaded); SpecError names what is wrong."""
    resolver = doc.get("resolver") or {}
    endpoints = []
    names: set[str] = set()
    for i, raw in enumerate(doc.get("endpoints") or []):
        where = f"endpoints[{i}]"
        try:
            name = str(raw["name"])
        except (KeyError, TypeError):
            raise SpecError(f"{where}: needs a name") from None
        if name in names:
            raise SpecError(f"{where}: duplicate name {name}")
        names.add(name)
        kind = str(raw.get("type", "interface"))
        service = raw.get("service")
        dns_name = raw.get("dns_name") or (_service_name(service) if service else None)
        if not dns_name:
            raise SpecError(f"{where}: needs a service or a dns_name")
        fault = str(raw.get("fault", "none"))
        server = str(raw.get("server", "python"))
        if server not in SERVERS:
            raise SpecError(f"{where}.server: {server!r} is not one of {', '.join(SERVERS)}")
        known = {**FAULTS, **NGINX_FAULTS} if server == "nginx" else FAULTS
        if fault not in known:
            raise SpecError(f"{where}.fault: {fault!r} is not one of {', '.join(known)}")
        addresses = tuple(str(ipaddress.ip_address(a)) for a in raw.get("addresses") or [])
        if not addresses:
            raise SpecError(f"{where}: needs addresses (the ENIs)")
        if str(dns_name).startswith("*.") and fault in DNS_FAULTS | {"public_address", "outside_vpc", "phz_shadow"}:
            raise SpecError(f"{where}.fault: {fault} is not modelled for a wildcard name ({dns_name})")
        http = raw.get("http")
        if fault in HTTP_FAULTS and not http:
            http = {"path": "/", "status": [200]}
        endpoints.append(
            EndpointSpec(
                name=name,
                type=kind,
                service=service,
                dns_name=dns_name,
                addresses=addresses,
                port=int(raw.get("port", 443)),
                fault=fault,
                http=http,
                azs=tuple(raw.get("azs") or ()),
                cname=raw.get("cname"),
                server=server,
                probe_name=raw.get("probe_name"),
            )
        )
    hub = doc.get("hub") or {}
    return Spec(
        region=str(doc.get("region", "us-east-1")),
        vpc_cidrs=tuple(str(ipaddress.ip_network(c)) for c in doc.get("vpc_cidrs") or ["10.0.0.0/16"]),
        resolver=str(resolver.get("address", "10.0.0.2")),
        resolver_server=str(resolver.get("server", "dnsmasq")),
        resolver_down=str(resolver.get("down", "") or ""),
        resolver_rate_limit_pps=int(resolver.get("rate_limit_pps", 0) or 0),
        latency_budget_ms=float(doc.get("latency_budget_ms", 100.0)),
        timeout_ms=int(doc.get("timeout_ms", 1000)),
        resolver_timeout_ms=int(doc.get("resolver_timeout_ms", 800)),
        slow_ms=int(doc.get("slow_ms", 250)),
        endpoints=tuple(endpoints),
        records={str(k): tuple(str(ipaddress.ip_address(a)) for a in v) for k, v in (doc.get("records") or {}).items()},
        hub_vpc_id=hub.get("vpc_id"),
        hub_cidrs=tuple(str(ipaddress.ip_network(c)) for c in hub.get("cidrs") or []),
    )


def load(path: str) -> Spec:
    """A Spec from a YAML file."""
    with open(path) as f:
        return parse(yaml.safe_load(f) or {})
