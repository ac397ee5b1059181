"""From a VpcState to a topology file (docs/topology.md): every endpoint with its service, names, addresses and AZs.

The result passes `vpc_verify.topology.loads` unchanged, so `discover` followed by `check` verifies the VPC as
AWS describes it, and nobody types an ENI address. AZs are written as AZ ids (use1-az1), with this account's
names as comments: names map to different zones in each account, ids do not, so a topology shared across
accounts (StackSets) checks the right zones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from vpc_verify import service_names
from vpc_verify.aws.model import VpcEndpoint, VpcState
from vpc_verify.aws.names import private_dns_names, record_families, regional_dns_name, zonal_dns_names

# AWS's endpoint type -> the topology's. Resource and ServiceNetwork endpoints (VPC Lattice) are checked as a
# `service` through their own DNS names; a Gateway Load Balancer endpoint is a route target.
_KINDS = {
    "interface": "interface",
    "gateway": "gateway",
    "gatewayloadbalancer": "gatewayloadbalancer",
    "resource": "service",
    "servicenetwork": "service",
}
_FAMILY_TYPES = {frozenset({6}): "ipv6", frozenset({4, 6}): "dualstack"}
# The first line tells editors (yaml-language-server: VS Code, Neovim, ...) where the schema is: a path relative
# to the topology file, since nothing outside the user's repository is guaranteed to exist. `discover -o FILE`
# writes the schema there; `vpc-verify schema topology -o topology.schema.json` does it by hand.
SCHEMA_FILE = "topology.schema.json"
SCHEMA_LINE = f"# yaml-language-server: $schema={SCHEMA_FILE}\n"


def topology_document(vpc_state: VpcState) -> dict[str, Any]:
    """The topology mapping for the VPC (endpoints of kinds the agent does not probe are left out)."""
    endpoints: list[dict[str, Any]] = []
    names: set[str] = set()
    for vpce in sorted(vpc_state.endpoints, key=lambda e: (e.service, e.type, e.id)):
        kind = _KINDS.get(vpce.type)
        if kind is None:
            continue
        entry: dict[str, Any] = {"name": _unique_name(vpce, names), "type": kind, "service": vpce.service}
        if kind == "gatewayloadbalancer":  # a route target: its routes are checked, nothing is resolved
            endpoints.append(entry)
            continue
        dns_names = _dns_names(vpc_state, vpce)[0]
        entry["dns_names"] = list(dns_names)
        known = service_names.lookup(vpce.service, vpc_state.region)
        if known is not None and known.port:
            entry["port"] = known.port
        port = _lattice_port(vpc_state, vpce)
        if port is not None and port != 443:
            entry["port"] = port
        if vpce.type != "gateway":
            enis = vpc_state.endpoint_enis(vpce)
            entry["azs"] = sorted({vpc_state.az_id_of(e.az) or e.az for e in enis if e.az})
            # The records the names have (DnsRecordIpType) decide what the DNS phase asks and which ENI
            # addresses answer; a Lattice endpoint answers from its prefixes, so no ENI address is listed.
            families = frozenset().union(*(record_families(vpce, n) for n in dns_names))
            if families in _FAMILY_TYPES:
                entry["ip_address_type"] = _FAMILY_TYPES[families]
            if not vpce.lattice:
                v4 = [e.address for e in enis if e.address] if 4 in families else []
                entry["addresses"] = v4 + ([a for e in enis for a in e.ipv6] if 6 in families else [])
        endpoints.append(entry)
    return {
        "version": 1,
        "region": vpc_state.region,
        "vpc": {"id": vpc_state.vpc_id, "cidrs": [str(c) for c in vpc_state.cidrs]},
        # A VPC without endpoints yet: the file still checks the control plane (an endpoint created later is
        # ENDPOINT_UNEXPECTED), so it says that an empty list is meant.
        **({"allow_empty": True} if not endpoints else {}),
        "endpoints": endpoints,
    }


def render(vpc_state: VpcState, *, now: dt.datetime | None = None) -> str:
    """The topology file as YAML: a first line naming its JSON Schema for editors, a header saying where it
    came from (docs/topology.md)."""
    import yaml

    when = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = (
        SCHEMA_LINE + f"# vpc-verify topology of {vpc_state.vpc_id} ({vpc_state.region}), discovered {when}.\n"
        "# Addresses and AZs are what AWS reported; remove `addresses` to accept whatever the ENIs are.\n"
    )
    body = yaml.safe_dump(topology_document(vpc_state), sort_keys=False, default_flow_style=False)
    return header + _notes(_name_zones(body, vpc_state), vpc_state)


def _notes(text: str, vpc_state: VpcState) -> str:
    """Above an endpoint whose name was chosen rather than read (a label under a wildcard, an endpoint's own name),
    a comment saying so."""
    notes = {}
    taken: set[str] = set()
    for vpce in sorted(vpc_state.endpoints, key=lambda e: (e.service, e.type, e.id)):
        if vpce.type not in _KINDS:
            continue
        name = _unique_name(vpce, taken)
        note = _dns_names(vpc_state, vpce)[1] if vpce.type != "gatewayloadbalancer" else ""
        note = "\n".join(filter(None, (note, _port_note(vpc_state, vpce))))
        if note:
            notes[f"- name: {name}"] = note
    out = []
    for line in text.splitlines():
        comment = notes.get(line.strip())
        if comment:
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# {part}" for part in comment.split("\n")]
        out.append(line)
    return "\n".join(out) + "\n"


def _name_zones(text: str, vpc_state: VpcState) -> str:
    """Each AZ id under `azs:` followed by this account's name for it, as a comment."""
    out, in_azs = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("azs:"):
            in_azs = True
        elif in_azs and stripped.startswith("- "):
            name = vpc_state.az_name_of(stripped[2:])
            if name and name != stripped[2:]:
                line += f"  # {name}"
        else:
            in_azs = False
        out.append(line)
    return "\n".join(out) + "\n"


def _dns_names(vpc_state: VpcState, vpce: VpcEndpoint) -> tuple[tuple[str, ...], str]:
    """The names to check and, when they were chosen rather than read, a note saying why (for a comment): the name
    clients use, then, for an interface endpoint whose records hold IPv6 addresses, its own regional and zonal
    names, which `check` judges per address family (DNS_RECORD_FAMILY: a zone's record without its AAAA)."""
    names, note = _client_names(vpc_state, vpce)
    if vpce.type != "interface":
        return names, note
    own = [regional_dns_name(vpc_state, vpce), *zonal_dns_names(vpc_state, vpce).values()]
    families = record_families(vpce, own[0])
    # Only where every name has the same records (dualstack or ipv6, not service-defined's A-only private names):
    # the DNS phase asks each name the same families. An IPv4 endpoint's own names add questions, not verdicts.
    if 6 not in families or any(record_families(vpce, n) != families for n in names):
        return names, note
    added = [n for n in own if n not in names]
    if not added:
        return names, note
    record = vpce.dns_record_ip_type or vpce.ip_address_type
    why = f"{vpce.id}'s own regional and zonal names are checked for their DnsRecordIpType {record} records"
    return (*names, *added), "\n".join(filter(None, (note, why)))


def _client_names(vpc_state: VpcState, vpce: VpcEndpoint) -> tuple[tuple[str, ...], str]:
    """The name clients use and, when it was chosen rather than read, why."""
    plain_entries = [n.lower().rstrip(".") for n in vpce.dns_entries if not n.startswith("*.")]
    if vpce.lattice and plain_entries:  # a Resource or ServiceNetwork endpoint: its DNS entries are its names
        return (plain_entries[0],), ""
    private = private_dns_names(vpc_state, vpce.service)
    plain = [n for n in private if not n.startswith("*.")]
    if vpce.type == "gateway":
        return (plain[0] if plain else f"{vpce.service.rsplit('.', 1)[-1]}.{vpc_state.region}.amazonaws.com",), ""
    if vpce.private_dns_only_for_inbound_resolver and private:
        # In the VPC the service's name answers the gateway endpoint by design (its own entry checks it): the
        # interface endpoint is reached through its own name.
        own = regional_dns_name(vpc_state, vpce)
        return (own,), (
            f"{', '.join(private)} answer the gateway endpoint inside this VPC "
            f"(PrivateDnsOnlyForInboundResolverEndpoint on {vpce.id}): the interface endpoint is checked through its "
            "own name"
        )
    if plain:
        # The name workloads use, even with private DNS off: then `check` says PRIVATE_DNS_DISABLED rather
        # than the file quietly testing a name nobody uses.
        return (plain[0],), ""
    if private:
        wildcard = private[0]
        label = service_names.probe_name(wildcard)
        known = service_names.lookup(vpce.service, vpc_state.region)
        if known is not None and not known.default:
            return (label,), f"{label} is a name under {wildcard}, which answers any label: {known.note}"
        return (label,), f"{label} is a name under {wildcard}, which answers any label (and its certificate covers)"
    return (regional_dns_name(vpc_state, vpce),), ""  # a service with no private DNS name: its vpce-… name


def _lattice_port(vpc_state: VpcState, vpce: VpcEndpoint) -> int | None:
    """The port to probe on a Resource endpoint: 443 when its configuration shares it, else the lowest port it
    shares; None when that is not known (a ServiceNetwork endpoint, a configuration that could not be read)."""
    config = vpc_state.resource_configurations.get(vpce.resource_configuration_arn)
    if vpce.type != "resource" or config is None or not config.port_ranges:
        return None
    return 443 if config.covers(443) else config.first_port()


def _port_note(vpc_state: VpcState, vpce: VpcEndpoint) -> str:
    """For a Lattice endpoint, where its port came from, or that it is not known (then `check` says so)."""
    if vpce.type == "servicenetwork":
        return (
            f"{vpce.id} connects to service network {vpce.service.rsplit('/', 1)[-1]}, whose ports are its services' "
            "and resources': set `port` to the one your clients use"
        )
    if vpce.type != "resource":
        return ""
    config = vpc_state.resource_configurations.get(vpce.resource_configuration_arn)
    if config is None or not config.port_ranges:
        why = vpc_state.resource_configuration_errors.get(vpce.resource_configuration_arn, "no port ranges given")
        return f"the ports of {vpce.resource_configuration_arn} could not be read ({why}): set `port`"
    return f"{config.id} shares TCP ports {', '.join(config.ports())}"


def _unique_name(vpce: VpcEndpoint, taken: set[str]) -> str:
    if vpce.lattice or not vpce.service:  # an ARN (…:resourceconfiguration/rcfg-…) or nothing: the endpoint's id
        base = vpce.service.rsplit("/", 1)[-1] or vpce.id
        return _first_free(base, vpce, taken)
    parts = vpce.service.split(".")
    if parts[:3] == ["cn", "com", "amazonaws"]:  # a China region's cn.com.amazonaws.<region>.<svc>
        parts = parts[1:]
    base = ".".join(parts[3:]) if len(parts) > 3 and parts[:2] == ["com", "amazonaws"] else vpce.service
    if (len(parts) > 2 and parts[2] == "vpce") or not base:
        base = parts[-1]  # a PrivateLink partner service: com.amazonaws.vpce.<region>.vpce-svc-…
    return _first_free(base.replace(".", "-"), vpce, taken)


def _first_free(base: str, vpce: VpcEndpoint, taken: set[str]) -> str:
    name = base
    if name in taken:
        name = f"{base}-{vpce.type}"
    n = 2
    while name in taken:
        name = f"{base}-{vpce.type}-{n}"
        n += 1
    taken.add(name)
    return name
