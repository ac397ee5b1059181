"""The Report (docs/report.md): per endpoint, per address, with Findings; pure data plus its JSON form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from vpc_verify.checks.dns import DnsResult
from vpc_verify.checks.http import HttpResult
from vpc_verify.checks.tcp import TcpResult, TcpStatus
from vpc_verify.checks.tls import TlsResult, TlsStatus
from vpc_verify.findings import Finding

REPORT_VERSION = 1


@dataclass(frozen=True, slots=True)
class AddressReport:
    """One address an endpoint's names resolved to (or an expected ENI), and how its probes went."""

    address: str
    names: tuple[str, ...] = ()  # the DNS names that answered with it
    az: str | None = None
    private: bool = False
    in_vpc: bool | None = None  # None when the VPC's CIDRs are unknown
    expected: bool | None = None  # None when no expected addresses are known
    probed: bool = True
    skip_reason: str = ""
    tcp: TcpResult | None = None
    tls: TlsResult | None = None
    http: HttpResult | None = None

    @property
    def tcp_result(self) -> TcpResult | None:
        """The TCP phase, whether probed alone or as the first phase of TLS."""
        return self.tls.tcp if self.tls is not None else self.tcp

    @property
    def tcp_ms(self) -> float | None:
        """Connect time in ms when the connect succeeded."""
        tcp = self.tcp_result
        return tcp.ms if tcp is not None and tcp.status is TcpStatus.OK else None

    @property
    def tls_ms(self) -> float | None:
        """Handshake time in ms when the handshake completed."""
        return self.tls.handshake_ms if self.tls is not None and self.tls.status is TlsStatus.OK else None

    @property
    def connect_tls_ms(self) -> float:
        """Connect plus handshake time, what the latency budget limits (0 for a phase that did not finish)."""
        return (self.tcp_ms or 0.0) + (self.tls_ms or 0.0)

    @property
    def http_status(self) -> int | None:
        """The HTTP status code, when an HTTP phase ran and answered."""
        return self.http.status_code if self.http is not None else None

    @property
    def http_ms(self) -> float | None:
        """Time to the HTTP response in ms."""
        return self.http.ms if self.http is not None and self.http.status_code is not None else None

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the keys of docs/report.md first, then the evidence of each phase."""
        tcp = self.tcp_result
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
        if tcp is not None:
            out["tcp"] = {"status": tcp.status.value, "port": tcp.port, "ms": _round(tcp.ms), "error": tcp.error}
        if self.tls is not None and self.tls.status is not TlsStatus.SKIPPED:
            t = self.tls
            out["tls"] = {
                "status": t.status.value,
                "ms": _round(t.handshake_ms),
                "version": t.version,
                "cipher": t.cipher,
                "subject": t.cert_subject,
                "names": list(t.cert_names),
                "not_after": t.cert_not_after,
                "verify_code": t.verify_code,
                "error": t.error,
            }
        if self.http is not None:
            h = self.http
            out["http"] = {
                "status": h.status.value,
                "status_code": h.status_code,
                "ms": _round(h.ms),
                "connect_ms": _round(h.connect_ms),
                "tls_ms": _round(h.tls_ms),
                "ttfb_ms": _round(h.ttfb_ms),
                "error": h.error,
            }
        return out


@dataclass(frozen=True, slots=True)
class EndpointReport:
    """Everything seen about one endpoint, and the verdict."""

    name: str
    type: str
    service: str | None
    findings: tuple[Finding, ...]
    dns: tuple[DnsResult, ...]
    addresses: tuple[AddressReport, ...]
    ms: float = 0.0
    aws: dict[str, Any] | None = None  # control-plane facts (endpoint id, state, ...) when read

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
        return sum(1 for a in probed if a.address not in bad and _phases_ok(a)) / len(probed)

    def to_dict(self) -> dict[str, Any]:
        """JSON form of docs/report.md."""
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
            out["aws"] = self.aws
        return out


def _phases_ok(a: AddressReport) -> bool:
    tcp = a.tcp_result
    if tcp is None or tcp.status is not TcpStatus.OK:
        return False
    return a.tls is None or a.tls.status is TlsStatus.OK


@dataclass(frozen=True, slots=True)
class Report:
    """The result of one run: healthy when every endpoint is."""

    started_at: dt.datetime
    duration_ms: float
    endpoints: tuple[EndpointReport, ...]
    agent: dict[str, Any] = field(default_factory=dict)
    region: str | None = None
    vpc_id: str | None = None
    run_findings: tuple[Finding, ...] = ()  # findings that concern the run rather than one endpoint
    version: int = REPORT_VERSION

    @property
    def healthy(self) -> bool:
        """Every endpoint healthy and no run-level error."""
        return all(e.healthy for e in self.endpoints) and not any(f.is_error for f in self.run_findings)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """All findings, flat: run-level first, then per endpoint in topology order."""
        return self.run_findings + tuple(f for e in self.endpoints for f in e.findings)

    @property
    def exit_code(self) -> int:
        """docs/report.md: 0 healthy, 1 unhealthy."""
        return 0 if self.healthy else 1

    def endpoint(self, name: str) -> EndpointReport:
        """The report of the endpoint called `name`."""
        for e in self.endpoints:
            if e.name == name:
                return e
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON form of docs/report.md."""
        return {
            "version": self.version,
            "healthy": self.healthy,
            "started_at": self.started_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "duration_ms": _round(self.duration_ms),
            "region": self.region,
            "vpc_id": self.vpc_id,
            "agent": self.agent,
            "endpoints": [e.to_dict() for e in self.endpoints],
            "findings": [f.to_dict() for f in self.findings],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
