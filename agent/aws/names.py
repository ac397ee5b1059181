"""The DNS names of VPC endpoints: the service's private names, and an endpoint's regional and zonal vpce names.

The emulator's DnsEntries are not in AWS's format, so a regional or zonal name missing from DnsEntries is
built the way AWS builds it: `vpce-<id>[-<suffix>][-<az>].<service-suffix>.<region>.vpce.amazonaws.com`.
"""

from __future__ import annotations

from vpc_verify.aws.model import VpcEndpoint, VpcState
from vpc_verify.topology import default_dns_name


def private_dns_names(vpc_state: VpcState, service: str) -> tuple[str, ...]:
    """The service's private DNS names (DescribeVpcEndpointServices, else derived from an AWS service name)."""
    info = vpc_state.services.get(service)
    if info is not None and info.private_dns_names:
        return info.private_dns_names
    derived = default_dns_name(service, vpc_state.region)
    return (derived,) if derived else ()


def is_vpce_name(name: str) -> bool:
    """True for an endpoint-specific name (`vpce-….vpce.amazonaws.com`), which works without private DNS."""
    return name.startswith("vpce-") and ".vpce.amazonaws.com" in name


def regional_dns_name(vpc_state: VpcState, vpce: VpcEndpoint) -> str:
    """The endpoint's regional name `vpce-….<service>.vpce.amazonaws.com` (built when DnsEntries are not real)."""
    azs = {e.az for e in vpc_state.endpoint_enis(vpce)}
    for name in vpce.dns_entries:
        first = name.split(".", 1)[0]
        if is_vpce_name(name) and first.startswith(vpce.id) and not any(first.endswith("-" + az) for az in azs):
            return name.lower()
    return f"{vpce.id}.{_base_dns_name(vpc_state, vpce.service)}".lower()


def zonal_dns_names(vpc_state: VpcState, vpce: VpcEndpoint) -> dict[str, str]:
    """AZ → the endpoint's zonal name `vpce-…-<az>.<service>.vpce.amazonaws.com`."""
    azs = sorted({e.az for e in vpc_state.endpoint_enis(vpce) if e.az})
    regional = regional_dns_name(vpc_state, vpce)
    first, rest = regional.split(".", 1)
    out = {}
    for az in azs:
        real = [n for n in vpce.dns_entries if is_vpce_name(n) and n.split(".", 1)[0].endswith("-" + az)]
        out[az] = real[0].lower() if real else f"{first}-{az}.{rest}"
    return out


def _base_dns_name(vpc_state: VpcState, service: str) -> str:
    info = vpc_state.services.get(service)
    if info is not None and info.base_dns_names:
        return info.base_dns_names[0]
    parts = service.split(".")
    if len(parts) == 5 and parts[:3] == ["com", "amazonaws", "vpce"]:  # com.amazonaws.vpce.<region>.vpce-svc-…
        return f"{parts[4]}.{parts[3]}.vpce.amazonaws.com"
    if len(parts) >= 4 and parts[0] == "com" and parts[1] == "amazonaws":
        return f"{'.'.join(parts[3:])}.{parts[2]}.vpce.amazonaws.com"
    return f"{service}.vpce.amazonaws.com"
