"""The agent's own telemetry path, observed before publishing: do the endpoints it publishes to resolve (through
the topology's resolver) to private addresses, and do they answer?

The agent publishes metrics with PutMetricData (the `monitoring` endpoint) or as EMF lines that a log agent
carries to the `logs` endpoint. When those names answer public addresses, the telemetry leaves the VPC through a
NAT or internet gateway; when they do not resolve or answer, publishing will fail, and the monitor would go dark
without saying why. One DNS question and one connect (with the TLS handshake for https) per endpoint, bounded
by `timeout_s`; vpc_verify.judge.rules.telemetry judges what was seen.
"""

from __future__ import annotations

import asyncio
import ipaddress
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from vpc_verify.addresses import in_networks, is_private
from vpc_verify.checks import dns, tcp, tls
from vpc_verify.checks.dns import DnsSpec
from vpc_verify.checks.tcp import TcpResult, TcpSpec, TcpStatus
from vpc_verify.checks.tls import TlsResult, TlsSpec
from vpc_verify.topology import IPNetwork, Resolver

LITERAL = "literal"  # the URL names an address: nothing to resolve


@dataclass(frozen=True, slots=True)
class Target:
    """An endpoint the agent publishes to: the service (monitoring, logs) and its URL."""

    service: str
    url: str


@dataclass(frozen=True, slots=True)
class TelemetryPath:
    """What the agent saw of one telemetry endpoint."""

    service: str
    url: str
    host: str
    answers: tuple[str, ...]
    dns_status: str  # a DnsStatus value, or "literal"
    private: bool | None  # every answer private (in the VPC, RFC 1918, loopback); None: nothing answered
    connect: TcpResult | None
    tls: TlsResult | None
    error: str = ""

    @property
    def answered(self) -> bool:
        """The name resolved and the first address answered (the handshake too, for https)."""
        if self.connect is None or self.connect.status is not TcpStatus.OK:
            return False
        return self.tls is None or self.tls.status.value == "ok"


async def observe(
    targets: Sequence[Target], resolver: Resolver, cidrs: Sequence[IPNetwork], timeout_s: float = 2.0
) -> tuple[TelemetryPath, ...]:
    """Observe every target concurrently; never raises (a failure is in the path's fields)."""
    return tuple(await asyncio.gather(*(_one(t, resolver, cidrs, timeout_s) for t in targets)))


async def _one(target: Target, resolver: Resolver, cidrs: Sequence[IPNetwork], timeout_s: float) -> TelemetryPath:
    parts = urllib.parse.urlsplit(target.url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        ipaddress.ip_address(host)
        answers: tuple[str, ...] = (host,)
        status, error = LITERAL, ""
    except ValueError:
        result = await dns.resolve(
            DnsSpec(
                name=host,
                nameservers=resolver.nameservers,
                port=resolver.port,
                timeout_s=resolver.timeout_ms / 1000.0,
                ipv6=False,
            )
        )
        answers, status, error = result.answers, result.status.value, result.error
    if not answers:
        return TelemetryPath(target.service, target.url, host, (), status, None, None, None, error or status)
    private = all(_private(a, cidrs) for a in answers)
    first = answers[0]
    if https:
        connect, handshake = await tls.handshake(TlsSpec(first, port, host, timeout_s))
    else:
        connect, handshake = await tcp.connect(TcpSpec(first, port, timeout_s)), None
    failed = handshake.error if handshake is not None and handshake.error else connect.error
    return TelemetryPath(target.service, target.url, host, answers, status, private, connect, handshake, failed)


def _private(address: str, cidrs: Sequence[IPNetwork]) -> bool:
    return is_private(address) or in_networks(address, cidrs) or ipaddress.ip_address(address).is_loopback
