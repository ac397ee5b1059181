"""Address classification: private (RFC 1918, RFC 6598, IPv6 ULA) and inside the VPC's CIDRs."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from vpc_verify.topology import IPNetwork

PRIVATE_NETWORKS: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("100.64.0.0/10"),  # RFC 6598 shared address space, used by some VPCs
    ipaddress.ip_network("fc00::/7"),  # IPv6 unique local
)


# Parsed once per address: a run asks of each answer whether it is in scope (the sweep) and again (the judge).
_parse = lru_cache(maxsize=65536)(ipaddress.ip_address)


@lru_cache(maxsize=65536)
def is_private(address: str) -> bool:
    """True for an address a VPC endpoint ENI can have; loopback, link-local and public are not private."""
    ip = _parse(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in PRIVATE_NETWORKS)


def in_networks(address: str, networks: Iterable[IPNetwork]) -> bool:
    """True when `address` lies in one of `networks`."""
    ip = _parse(address)
    return any(ip.version == net.version and ip in net for net in networks)
