"""One endpoint in depth for on-call (`vpc-verify diagnose`): per AZ and per address, with evidence and next step.

`gather` adds to a normal run's endpoint report what an engineer would check by hand next: the endpoint's
zonal DNS names (`vpce-…-<az>.<service>.vpce.amazonaws.com`) resolved and compared with the ENI of that AZ,
and a probe of every ENI address the service's name did not lead to. vpc_verify.render.diagnosis prints it;
`to_dict` is the same for machines.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from vpc_verify.checks import dns, tcp, tls
from vpc_verify.findings import Finding
from vpc_verify.observe import specs
from vpc_verify.report import AddressProbe, EndpointReport, EniFacts, Origin
from vpc_verify.topology import Endpoint, Topology


@dataclass(frozen=True, slots=True)
class ZoneCheck:
    """One AZ of an interface endpoint: its ENI, its zonal name and what the name and the address did."""

    eni: EniFacts
    zonal_name: str | None
    zonal_answers: tuple[str, ...] = ()
    zonal_status: str = ""
    probe: AddressProbe | None = None

    @property
    def zonal_ok(self) -> bool:
        """The zonal name answered exactly this AZ's ENI address."""
        return self.zonal_answers == (self.eni.address,)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        e = self.eni
        return {
            "az": e.az,
            "relation": e.zone,
            "eni_id": e.eni_id,
            "subnet_id": e.subnet_id,
            "address": e.address,
            "zonal_name": self.zonal_name,
            "zonal_answers": list(self.zonal_answers),
            "zonal_status": self.zonal_status,
            "zonal_ok": self.zonal_ok,
            "probe": describe_probe(self.probe),
        }


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Everything `diagnose` shows about one endpoint."""

    endpoint: Endpoint
    report: EndpointReport
    run_findings: tuple[Finding, ...] = ()
    origin: Origin | None = None
    zones: tuple[ZoneCheck, ...] = ()
    regional: dns.DnsResult | None = None

    @property
    def healthy(self) -> bool:
        """No error finding on the endpoint or the VPC, and every zonal name answered its ENI."""
        return (
            self.report.healthy
            and not any(f.is_error for f in self.run_findings)
            and all(z.zonal_ok for z in self.zones if z.zonal_name)
        )

    def next_steps(self) -> list[str]:
        """The fixes to try, most fundamental first (VPC, then endpoint, then per address)."""
        steps: list[str] = []
        errors = sorted((f for f in self.report.findings if f.is_error), key=lambda f: f.address is not None)
        for f in (*[f for f in self.run_findings if f.is_error], *errors):
            text = f"{f.code}: {f.hint}"
            if f.hint and text not in steps:
                steps.append(text)
        for z in self.zones:
            if z.zonal_name and not z.zonal_ok:
                steps.append(
                    f"ZONAL_DNS: {z.zonal_name} answered {', '.join(z.zonal_answers) or z.zonal_status}, not "
                    f"{z.eni.address} ({z.eni.eni_id}): check the resolver and any private hosted zone for "
                    "vpce.amazonaws.com"
                )
        return steps

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the endpoint's report plus the per-AZ view and the next steps."""
        regional = self.regional
        return {
            "endpoint": self.report.to_dict(),
            "healthy": self.healthy,
            "agent": self.origin.to_dict() if self.origin else {},
            "run_findings": [f.to_dict() for f in self.run_findings],
            "zones": [z.to_dict() for z in self.zones],
            "regional_dns": None
            if regional is None
            else {"name": regional.name, "answers": list(regional.answers), "status": regional.status.value},
            "next_steps": self.next_steps(),
        }


def gather(
    topology: Topology,
    endpoint: Endpoint,
    report: EndpointReport,
    run_findings: tuple[Finding, ...] = (),
    origin: Origin | None = None,
) -> Diagnosis:
    """Resolve the zonal and regional names and probe the ENIs the run did not reach (blocking)."""
    return asyncio.run(_gather(topology, endpoint, report, run_findings, origin))


async def _gather(
    topology: Topology,
    endpoint: Endpoint,
    report: EndpointReport,
    run_findings: tuple[Finding, ...],
    origin: Origin | None,
) -> Diagnosis:
    aws = report.aws
    probed = {a.address: a.probe for a in report.addresses if a.probe is not None}

    async def resolve(name: str) -> dns.DnsResult:
        return await dns.resolve(specs.dns_spec(endpoint, topology.resolver, name))

    async def zone(eni: EniFacts) -> ZoneCheck:
        name = aws.zonal_dns_names.get(eni.az) if aws is not None else None
        answers: tuple[str, ...] = ()
        status = ""
        if name:
            result = await resolve(name)
            answers, status = result.answers, result.status.value
        probe = probed.get(eni.address) or await probe_address(endpoint, eni.address)
        return ZoneCheck(eni=eni, zonal_name=name, zonal_answers=answers, zonal_status=status, probe=probe)

    zones = tuple(await asyncio.gather(*(zone(e) for e in aws.network_interfaces))) if aws else ()
    regional = await resolve(aws.regional_dns_name) if aws is not None and aws.regional_dns_name else None
    return Diagnosis(endpoint, report, run_findings, origin, zones, regional)


async def probe_address(endpoint: Endpoint, address: str) -> AddressProbe | None:
    """Connect (and handshake, when the endpoint speaks TLS) to one address, as the run does."""
    if not address:
        return None
    tls_spec = specs.tls_spec(endpoint, address)
    if tls_spec is None:
        return AddressProbe(tcp=await tcp.connect(specs.tcp_spec(endpoint, address)))
    tcp_result, tls_result = await tls.handshake(tls_spec)
    return AddressProbe(tcp=tcp_result, tls=tls_result)


def describe_probe(probe: AddressProbe | None) -> str:
    """One line: "ok tcp 0.3 ms, tls 2.1 ms", or how it failed."""
    if probe is None:
        return "not probed"
    t = probe.tcp
    if not probe.connected:
        return f"tcp/{t.port} {t.status.value} after {t.ms:.0f} ms {t.error}".rstrip()
    text = f"tcp {t.ms:.1f} ms"
    if probe.tls is None:
        return "ok " + text
    if probe.tls.status is not tls.TlsStatus.OK:
        return f"{text}, tls {probe.tls.status.value}: {probe.tls.error}".rstrip(": ")
    return f"ok {text}, tls {probe.tls.handshake_ms or 0:.1f} ms"
