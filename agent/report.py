"""The Report (docs/report.md): per endpoint, per address, with Findings; pure data plus its JSON form.

Typed all the way to `to_dict`: the probe record of an address (AddressProbe), what AWS says about an
endpoint (AwsEndpointFacts) and where the run happened (Origin) are frozen records, not dicts read back by key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vpc_verify.checks.dns import DnsResult
from vpc_verify.exit_codes import EXIT_CONTROL_PLANE_UNREAD, EXIT_HEALTHY, EXIT_UNHEALTHY
from vpc_verify.findings import Code
from vpc_verify.observe.probe import AddressProbe, signed_dict
from vpc_verify.observe.probe import round_ms as _round
from vpc_verify.origin import Mode, Origin
from vpc_verify.topology import EndpointType

if TYPE_CHECKING:  # only annotations: the probes import this module on the way to the first packet
    from vpc_verify.aws.model import PrefixList
    from vpc_verify.bill import UsageSummary
    from vpc_verify.evaluate.security_groups import SgVerdict
    from vpc_verify.findings import Finding

__all__ = [
    "CONTROL_PLANE_UNREAD",
    "EXIT_CONTROL_PLANE_UNREAD",
    "EXIT_HEALTHY",
    "EXIT_UNHEALTHY",
    "REPORT_VERSION",
    "AddressProbe",
    "AddressReport",
    "AwsEndpointFacts",
    "EndpointReport",
    "EniFacts",
    "Mode",
    "Origin",
    "Report",
    "signed_dict",
]

REPORT_VERSION = 1
# The findings that say the control plane could not be read (not that the VPC is broken).
CONTROL_PLANE_UNREAD = frozenset({Code.AWS_API_ERROR, Code.AWS_API_UNREACHABLE})


@dataclass(frozen=True, slots=True)
class AddressReport:
    """One address an endpoint's names resolved to, how it was classified, and how its probes went."""

    address: str
    names: tuple[str, ...] = ()  # the DNS names that answered with it
    az: str | None = None
    private: bool = False  # private by range (RFC 1918/6598, ULA) or inside the VPC's (or a declared hub's) CIDRs
    in_vpc: bool | None = None  # None when the VPC's CIDRs are unknown
    expected: bool | None = None  # None when no expected addresses are known
    probe: AddressProbe | None = None  # None: not probed (see skip_reason)
    skip_reason: str = ""

    @property
    def probed(self) -> bool:
        """The address was probed."""
        return self.probe is not None

    @property
    def tcp_ms(self) -> float | None:
        """Connect time in ms when the connect succeeded."""
        return self.probe.tcp_ms if self.probe is not None else None

    @property
    def tls_ms(self) -> float | None:
        """Handshake time in ms when the handshake completed."""
        return self.probe.tls_ms if self.probe is not None else None

    @property
    def http_status(self) -> int | None:
        """The HTTP status code, when an HTTP phase ran and answered."""
        http = self.probe.http if self.probe is not None else None
        return http.status_code if http is not None else None

    @property
    def http_ms(self) -> float | None:
        """Time to the HTTP response in ms."""
        return self.probe.http_ms if self.probe is not None else None

    @property
    def passed(self) -> bool:
        """Probed, connected and (when there is a handshake) handshaken."""
        return self.probe is not None and self.probe.completed

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the summary keys first, then the evidence of each phase."""
        out: dict[str, Any] = {
            "address": self.address,
            "az": self.az,
            "private": self.private,
            "in_vpc": self.in_vpc,
            "tcp_ms": _round(self.tcp_ms),
            "tls_ms": _round(self.tls_ms),
            "http_status": self.http_status,
            "http_ms": _round(self.http_ms),
            "names": list(self.names),
            "expected": self.expected,
            "probed": self.probed,
        }
        if self.skip_reason:
            out["skip_reason"] = self.skip_reason
        if self.probe is not None:
            out.update(self.probe.to_dict())
        return out


@dataclass(frozen=True, slots=True)
class EniFacts:
    """One network interface of an endpoint, as AWS describes it, and where it stands from the agent."""

    eni_id: str
    address: str
    az: str
    subnet_id: str
    status: str
    zone: str  # az-local | cross-az | unknown
    az_id: str | None = None  # the AZ's id (use1-az1), the same zone in every account

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "eni_id": self.eni_id,
            "address": self.address,
            "az": self.az,
            "az_id": self.az_id,
            "subnet_id": self.subnet_id,
            "status": self.status,
            "zone": self.zone,
        }


@dataclass(frozen=True, slots=True)
class AwsEndpointFacts:
    """What AWS says about the endpoint serving a topology endpoint (vpc_endpoint_id None: there is none)."""

    vpc_id: str
    vpc_endpoint_id: str | None = None
    type: str = ""
    service: str = ""
    state: str = ""
    private_dns_enabled: bool = False
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    route_table_ids: tuple[str, ...] = ()
    network_interfaces: tuple[EniFacts, ...] = ()
    agent_az: str | None = None
    agent_az_id: str | None = None
    regional_dns_name: str | None = None
    zonal_dns_names: Mapping[str, str] = field(default_factory=dict)
    security_groups: SgVerdict | None = None
    prefix_list: PrefixList | None = None
    policy_default: bool | None = None  # the endpoint policy grants everything (None: the endpoint has none)
    policy: Mapping[str, Any] | None = None  # the endpoint policy, shown when it is not the default

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the report's `aws` key)."""
        if self.vpc_endpoint_id is None:
            return {"vpc_id": self.vpc_id, "vpc_endpoint_id": None}
        out: dict[str, Any] = {
            "vpc_id": self.vpc_id,
            "vpc_endpoint_id": self.vpc_endpoint_id,
            "type": self.type,
            "service": self.service,
            "state": self.state,
            "private_dns_enabled": self.private_dns_enabled,
            "subnet_ids": list(self.subnet_ids),
            "security_group_ids": list(self.security_group_ids),
            "route_table_ids": list(self.route_table_ids),
            "network_interfaces": [e.to_dict() for e in self.network_interfaces],
            "agent_az": self.agent_az,
            "agent_az_id": self.agent_az_id,
        }
        if self.type != "gateway":
            out["regional_dns_name"] = self.regional_dns_name
            out["zonal_dns_names"] = dict(self.zonal_dns_names)
        if self.security_groups is not None:
            out["security_groups"] = self.security_groups.to_dict()
        if self.type == "gateway":
            out["prefix_list"] = None if self.prefix_list is None else self.prefix_list.to_dict()
        out["policy_default"] = self.policy_default
        if self.policy is not None and self.policy_default is False:
            out["policy"] = dict(self.policy)
        return out


@dataclass(frozen=True, slots=True)
class EndpointReport:
    """Everything seen about one endpoint, and the verdict."""

    name: str
    type: EndpointType
    service: str | None
    findings: tuple[Finding, ...]
    dns: tuple[DnsResult, ...]
    addresses: tuple[AddressReport, ...]
    ms: float = 0.0
    aws: AwsEndpointFacts | None = None  # None when the control plane was not read

    @property
    def healthy(self) -> bool:
        """No error finding."""
        return not any(f.is_error for f in self.findings)

    @property
    def dns_private(self) -> bool:
        """Every name answered, and (except for gateway services) only with private addresses of this VPC."""
        if not self.dns or not all(d.answers for d in self.dns):
            return False
        if self.type == "gateway":
            return True
        return all(a.private and a.in_vpc is not False for a in self.addresses if a.names)

    @property
    def reachable(self) -> float:
        """Fraction of probed addresses whose probes all passed (0 when none was probed)."""
        probed = [a for a in self.addresses if a.probed]
        if not probed:
            return 0.0
        bad = {f.address for f in self.findings if f.is_error and f.address is not None}
        return sum(1 for a in probed if a.address not in bad and a.passed) / len(probed)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (docs/report.md)."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "service": self.service,
            "healthy": self.healthy,
            "dns_private": self.dns_private,
            "reachable": round(self.reachable, 4),
            "ms": _round(self.ms),
            "findings": [f.to_dict() for f in self.findings],
            "dns": [
                {
                    "name": d.name,
                    "answers": list(d.answers),
                    "cname_chain": list(d.cname_chain),
                    "rcode": d.rcode,
                    "ms": _round(d.ms),
                    "status": d.status.value,
                    "nameserver": d.nameserver,
                    "error": d.error,
                }
                for d in self.dns
            ],
            "addresses": [a.to_dict() for a in self.addresses],
        }
        if self.aws is not None:
            out["aws"] = self.aws.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class Report:
    """The result of one run: healthy when every endpoint is."""

    started_at: dt.datetime
    duration_ms: float
    endpoints: tuple[EndpointReport, ...]
    origin: Origin = field(default_factory=lambda: Origin("cli"))
    region: str | None = None
    vpc_id: str | None = None
    run_findings: tuple[Finding, ...] = ()  # findings that concern the run rather than one endpoint
    version: int = REPORT_VERSION
    usage: UsageSummary | None = None  # `check --usage`: what the endpoints carried and cost
    policy: Mapping[str, Any] | None = None  # `check --policy` (or no topology): how the topology was derived

    @property
    def healthy(self) -> bool:
        """Every endpoint healthy and no run-level error."""
        return all(e.healthy for e in self.endpoints) and not any(f.is_error for f in self.run_findings)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """All findings, flat: run-level first, then per endpoint in topology order."""
        return self.run_findings + tuple(f for e in self.endpoints for f in e.findings)

    @property
    def control_plane_unread(self) -> bool:
        """The control plane could not be read (AWS_API_ERROR, AWS_API_UNREACHABLE): the comparison is missing."""
        return any(f.code in CONTROL_PLANE_UNREAD for f in self.run_findings)

    @property
    def exit_code(self) -> int:
        """0 healthy; 1 unhealthy (an error finding other than the control plane's being unread: the VPC is
        broken, and that wins); 4 the control plane could not be read and nothing else is wrong (a CI job
        can tell "vpc-verify could not compare" from "the VPC is broken")."""
        if any(f.is_error and f.code not in CONTROL_PLANE_UNREAD for f in self.findings):
            return EXIT_UNHEALTHY
        if self.control_plane_unread:
            return EXIT_CONTROL_PLANE_UNREAD
        return EXIT_HEALTHY if self.healthy else EXIT_UNHEALTHY

    def endpoint(self, name: str) -> EndpointReport:
        """The report of the endpoint called `name`."""
        for e in self.endpoints:
            if e.name == name:
                return e
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (docs/report.md)."""
        out = {
            "version": self.version,
            "healthy": self.healthy,
            "started_at": self.started_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "duration_ms": _round(self.duration_ms),
            "region": self.region,
            "vpc_id": self.vpc_id,
            "agent": self.origin.to_dict(),
            "endpoints": [e.to_dict() for e in self.endpoints],
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.usage is not None:
            out["usage"] = self.usage.to_dict()
        if self.policy is not None:
            out["policy"] = dict(self.policy)
        return out
