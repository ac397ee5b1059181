"""The probe specs of an endpoint: one builder per probe kind, shared by the run, the latency confirmation
and `diagnose`, so every caller asks the same questions (record types, SNI, timeouts, trust store)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vpc_verify.checks.dns import DnsSpec
from vpc_verify.checks.tcp import TcpSpec
from vpc_verify.checks.tls import TlsSpec
from vpc_verify.topology import Endpoint, Resolver, TlsSettings

if TYPE_CHECKING:  # imported when an endpoint asks for the phase: not on the way to the first packet
    from vpc_verify.checks.http import HttpSpec
    from vpc_verify.checks.signed import SignedSpec


def dns_spec(endpoint: Endpoint, resolver: Resolver, name: str) -> DnsSpec:
    """Resolve `name` through the topology's resolver, asking the record types the endpoint serves."""
    return DnsSpec(
        name=name,
        nameservers=resolver.nameservers,
        port=resolver.port,
        timeout_s=resolver.timeout_ms / 1000.0,
        ipv4=endpoint.asks_a,
        ipv6=endpoint.asks_aaaa,
    )


def tcp_spec(endpoint: Endpoint, address: str) -> TcpSpec:
    """Connect to the endpoint's port on `address`."""
    return TcpSpec(address=address, port=endpoint.port, timeout_s=endpoint.timeout_s)


def tls_spec(endpoint: Endpoint, address: str) -> TlsSpec | None:
    """Handshake on `address` with the endpoint's SNI and trust settings; None when it speaks no TLS."""
    if endpoint.tls is None:
        return None
    return TlsSpec(
        address=address,
        port=endpoint.port,
        server_name=endpoint.server_name,
        timeout_s=endpoint.timeout_s,
        verify=endpoint.tls.verify,
        ca_bundle=endpoint.tls.ca_bundle,
    )


def http_spec(endpoint: Endpoint, address: str) -> HttpSpec | None:
    """The endpoint's HTTP request on `address`; None when it has no HTTP phase."""
    if endpoint.http is None:
        return None
    from vpc_verify.checks.http import HttpSpec

    tls = endpoint.tls
    return HttpSpec(
        address=address,
        port=endpoint.port,
        server_name=endpoint.server_name,
        path=endpoint.http.path,
        method=endpoint.http.method,
        scheme="https" if tls is not None else "http",
        timeout_s=endpoint.timeout_s,
        verify=tls.verify if tls else True,
        ca_bundle=tls.ca_bundle if tls else None,
    )


def signed_spec(endpoint: Endpoint, address: str) -> SignedSpec | None:
    """The endpoint's signed AWS call on `address`; None when it makes none (`authorize`). Always over TLS, with
    the endpoint's trust settings (the defaults for a gateway endpoint without a TLS phase)."""
    authorize = endpoint.authorize
    if authorize is None or not authorize.enabled:
        return None
    from vpc_verify.checks.signed import SignedSpec

    tls = endpoint.tls or TlsSettings()
    return SignedSpec(
        address=address,
        port=endpoint.port,
        server_name=endpoint.server_name,
        region=authorize.region,
        call=authorize.call,
        timeout_s=endpoint.timeout_s,
        verify=tls.verify,
        ca_bundle=tls.ca_bundle,
    )
