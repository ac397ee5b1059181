"""The DNS names of VPC endpoints: the service's private names, and an endpoint's regional and zonal vpce names.

A service's private names are DescribeVpcEndpointServices' PrivateDnsName(s) when the control plane was read
(authoritative: they include wildcards such as `*.dkr.ecr.<r>.amazonaws.com`), else the catalogue's
(vpc_verify.service_names). The emulator's DnsEntries are not in AWS's format, so a regional or zonal name
missing from DnsEntries is built the way AWS builds it:
`vpce-<id>[-<suffix>][-<az>].<service-suffix>.<region>.vpce.amazonaws.com`.
An S3 interface endpoint's own names are wildcards (`*.vpce-<id>-<suffix>.s3.<r>.vpce.amazonaws.com`), used as
`bucket.vpce-…`, `accesspoint.vpce-…` and `control.vpce-…`: its regional and zonal names are given as `bucket.…`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vpc_verify import service_names

if TYPE_CHECKING:  # the judge's rules use these names on every run, AWS's model only a run with a control plane
    from vpc_verify.aws.model import VpcEndpoint, VpcState

VPCE_SUFFIXES = (".vpce.amazonaws.com", ".vpce.amazonaws.com.cn")
S3_LABELS = ("bucket", "accesspoint", "control")  # the forms of an S3 interface endpoint's wildcard names


def private_dns_names(vpc_state: VpcState, service: str) -> tuple[str, ...]:
    """The service's private DNS names, wildcards included (DescribeVpcEndpointServices, else the catalogue)."""
    info = vpc_state.services.get(service)
    if info is not None and info.private_dns_names:
        return tuple(n.lower().rstrip(".") for n in info.private_dns_names)
    known = service_names.lookup(service, vpc_state.region)
    return known.names if known is not None else ()


def names_source(vpc_state: VpcState, service: str) -> str:
    """Where `private_dns_names` came from: DescribeVpcEndpointServices, the catalogue (and its version), or none."""
    info = vpc_state.services.get(service)
    if info is not None and info.private_dns_names:
        return "DescribeVpcEndpointServices"
    known = service_names.lookup(service, vpc_state.region)
    if known is not None and known.known:
        return f"vpc-verify's catalogue ({service_names.catalogue().version})"
    return ""


def is_vpce_name(name: str) -> bool:
    """True for an endpoint-specific name (`vpce-….vpce.amazonaws.com`, S3's `bucket.vpce-…`, China's `….com.cn`),
    which works without private DNS."""
    name = name.lower().rstrip(".")
    if not name.endswith(VPCE_SUFFIXES):
        return False
    labels = name.split(".")
    return labels[0].startswith("vpce-") or (len(labels) > 1 and labels[1].startswith("vpce-"))


def concrete(name: str) -> str:
    """A vpce name that can be asked: S3's wildcard `*.vpce-…` as `bucket.vpce-…`."""
    return f"{S3_LABELS[0]}.{name[2:]}" if name.startswith("*.") else name


def _own_label(name: str) -> str:
    """The label naming the endpoint: `vpce-<id>-<suffix>[-<az>]` (after S3's `*.`/`bucket.` label)."""
    labels = name.split(".")
    return labels[1] if len(labels) > 1 and not labels[0].startswith("vpce-") else labels[0]


def regional_dns_name(vpc_state: VpcState, vpce: VpcEndpoint) -> str:
    """The endpoint's regional name `vpce-….<service>.vpce.amazonaws.com` (built when DnsEntries are not real)."""
    azs = {e.az for e in vpc_state.endpoint_enis(vpce)}
    for name in vpce.dns_entries:
        own = _own_label(name)
        if is_vpce_name(name) and own.startswith(vpce.id) and not any(own.endswith("-" + az) for az in azs):
            return concrete(name.lower())
    return f"{vpce.id}.{_base_dns_name(vpc_state, vpce.service)}".lower()


def zonal_dns_names(vpc_state: VpcState, vpce: VpcEndpoint) -> dict[str, str]:
    """AZ → the endpoint's zonal name `vpce-…-<az>.<service>.vpce.amazonaws.com`."""
    azs = sorted({e.az for e in vpc_state.endpoint_enis(vpce) if e.az})
    regional = regional_dns_name(vpc_state, vpce)
    labels = regional.split(".")
    at = 0 if labels[0].startswith("vpce-") else 1
    out = {}
    for az in azs:
        real = [n for n in vpce.dns_entries if is_vpce_name(n) and _own_label(n).endswith("-" + az)]
        if real:
            out[az] = concrete(real[0].lower())
        else:
            out[az] = ".".join([*labels[:at], f"{labels[at]}-{az}", *labels[at + 1 :]])
    return out


def _base_dns_name(vpc_state: VpcState, service: str) -> str:
    info = vpc_state.services.get(service)
    if info is not None and info.base_dns_names:
        return info.base_dns_names[0]
    suffix = VPCE_SUFFIXES[1] if vpc_state.region.startswith("cn-") else VPCE_SUFFIXES[0]
    if service.startswith("arn:"):  # a Lattice endpoint's resource configuration or service network
        return f"{service.rsplit('/', 1)[-1]}.{vpc_state.region}{suffix}"
    parts = service.split(".")
    if parts[:2] == ["cn", "com"]:
        parts = parts[1:]
    if len(parts) == 5 and parts[:3] == ["com", "amazonaws", "vpce"]:  # com.amazonaws.vpce.<region>.vpce-svc-…
        return f"{parts[4]}.{parts[3]}{suffix}"
    if len(parts) >= 4 and parts[0] == "com" and parts[1] == "amazonaws":
        return f"{'.'.join(parts[3:])}.{parts[2]}{suffix}"
    return f"{service}{suffix}"


def record_families(vpce: VpcEndpoint, name: str) -> frozenset[int]:
    """The address families `name` has records in (DnsOptions.DnsRecordIpType, else the IpAddressType): ipv4 A,
    ipv6 AAAA, dualstack both; service-defined A for the private names and both for the endpoint's own names
    (EC2 API DnsOptionsSpecification; the CDK's VpcEndpointDnsRecordIpType says which records each creates)."""
    record = (vpce.dns_record_ip_type or vpce.ip_address_type or "ipv4").lower()
    if record == "service-defined":
        return frozenset({4, 6}) if is_vpce_name(name) else frozenset({4})
    return {"ipv6": frozenset({6}), "dualstack": frozenset({4, 6})}.get(record, frozenset({4}))
