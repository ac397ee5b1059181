"""From a VpcState to a topology file (docs/topology.md): every endpoint with its service, names, addresses and AZs.

The result passes `vpc_verify.topology.loads` unchanged, so `discover` followed by `check` verifies the VPC as
AWS describes it, and nobody types an ENI address. AZs are written as AZ ids (use1-az1), with this account's
names as comments: names map to different zones in each account, ids do not, so a topology shared across
accounts (StackSets) checks the right zones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from vpc_verify.aws.model import VpcEndpoint, VpcState
from vpc_verify.aws.names import private_dns_names, regional_dns_name

_KINDS = {"interface": "interface", "gateway": "gateway"}
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
        entry["dns_names"] = list(_dns_names(vpc_state, vpce))
        if kind == "interface":
            enis = vpc_state.endpoint_enis(vpce)
            entry["addresses"] = [e.address for e in enis if e.address]
            entry["azs"] = sorted({vpc_state.az_id_of(e.az) or e.az for e in enis if e.az})
            if vpce.ip_address_type in ("dualstack", "ipv6"):
                entry["ip_address_type"] = vpce.ip_address_type
                entry["addresses"] = [a for a in entry["addresses"] if vpce.ip_address_type != "ipv6"] + [
                    a for e in enis for a in e.ipv6
                ]
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
    return header + _name_zones(body, vpc_state)


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


def _dns_names(vpc_state: VpcState, vpce: VpcEndpoint) -> tuple[str, ...]:
    private = private_dns_names(vpc_state, vpce.service)
    if vpce.type == "gateway":
        return private[:1] or (f"{vpce.service.rsplit('.', 1)[-1]}.{vpc_state.region}.amazonaws.com",)
    if private:
        # The name workloads use, even with private DNS off: then `check` says PRIVATE_DNS_DISABLED rather
        # than the file quietly testing a name nobody uses.
        return private[:1]
    return (regional_dns_name(vpc_state, vpce),)  # a service with no private DNS name: its vpce-… name


def _unique_name(vpce: VpcEndpoint, taken: set[str]) -> str:
    parts = vpce.service.split(".")
    base = ".".join(parts[3:]) if len(parts) > 3 and parts[:2] == ["com", "amazonaws"] else vpce.service
    if (len(parts) > 2 and parts[2] == "vpce") or not base:
        base = parts[-1]  # a PrivateLink partner service: com.amazonaws.vpce.<region>.vpce-svc-…
    base = base.replace(".", "-")
    name = base
    if name in taken:
        name = f"{base}-{vpce.type}"
    n = 2
    while name in taken:
        name = f"{base}-{vpce.type}-{n}"
        n += 1
    taken.add(name)
    return name
