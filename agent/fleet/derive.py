"""One VPC's expected topology, derived from the fleet policy and what AWS reports about the VPC.

Pure: a Policy, a VpcState, the VPC's tags and where the agent stands in, a Derivation out. The topology holds
every interface and gateway endpoint the VPC has (as `discover` writes them, so nothing there is unexpected), and
every endpoint its class requires and it lacks (the run's ENDPOINT_MISSING says so, with the command that creates
it). For the required interface endpoints, `azs` lists the AZ ids the class asks them to cover (ENDPOINT_AZ_MISSING
for each one they do not), and with `private_dns: false` the endpoints are checked by their own vpce names (no
PRIVATE_DNS_DISABLED). The document is validated by the topology's parser like any file, and the report carries it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vpc_verify import service_names
from vpc_verify.aws import discover
from vpc_verify.aws.model import VpcEndpoint, VpcState
from vpc_verify.aws.names import private_dns_names, regional_dns_name
from vpc_verify.aws.whereami import Place
from vpc_verify.fleet.policy import AzRule, Policy, VpcClass, exemptions, service_name, short_name
from vpc_verify.topology import Topology, default_dns_name, parse


@dataclass(frozen=True, slots=True)
class Required:
    """One endpoint the class requires, and whether the VPC has it."""

    service: str
    type: str  # interface | gateway
    name: str  # the derived topology's endpoint name
    present: bool
    azs: tuple[str, ...] = ()  # the AZ ids it must cover (interface endpoints)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "service": self.service,
            "type": self.type,
            "endpoint": self.name,
            "present": self.present,
            "azs": list(self.azs),
        }


@dataclass(frozen=True, slots=True)
class Derivation:
    """The expected topology of one VPC and how it was derived."""

    topology: Topology
    document: Mapping[str, Any]
    policy_source: str
    vpc_class: VpcClass | None
    tags: Mapping[str, str]
    exempt: tuple[str, ...]
    required: tuple[Required, ...]
    notes: tuple[str, ...] = ()

    @property
    def missing(self) -> tuple[Required, ...]:
        """The required endpoints the VPC lacks."""
        return tuple(r for r in self.required if not r.present)

    def to_dict(self) -> dict[str, Any]:
        """The report's `policy` section."""
        return {
            "source": self.policy_source,
            "class": self.vpc_class.to_dict() if self.vpc_class is not None else None,
            "vpc_tags": dict(sorted(self.tags.items())),
            "exempt": list(self.exempt),
            "required": [r.to_dict() for r in self.required],
            "notes": list(self.notes),
            "topology": dict(self.document),
        }


def derive(policy: Policy, state: VpcState, tags: Mapping[str, str], place: Place | None = None) -> Derivation:
    """The expected topology of the VPC `state` describes, under `policy`."""
    klass = policy.classify(tags)
    exempt = exemptions(tags, policy.exemption_tag)
    document = discover.topology_document(state)
    entries: list[dict[str, Any]] = document["endpoints"]
    for entry in entries:
        entry.pop("addresses", None)  # whatever the ENIs are (the control plane knows them)
        entry.pop("azs", None)  # only what the class asks is expected
    notes: list[str] = []
    required: list[Required] = []
    if klass is None:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(tags.items())) or "none"
        if policy.classes:
            notes.append(f"no class of the policy matches the VPC's tags ({shown}): its endpoints are checked as is")
    else:
        exempted = {service_name(s, state.region) for s in exempt}
        wanted = [(service_name(s, state.region), "interface") for s in klass.interface]
        wanted += [(service_name(s, state.region), "gateway") for s in klass.gateway]
        for service, kind in wanted:
            if service in exempted:
                continue
            required.append(_require(state, entries, service, kind, klass, place, notes))
        unknown = sorted(exempted - {s for s, _ in wanted})
        if unknown:
            notes.append(f"the VPC's {policy.exemption_tag} tag names services its class does not require: {unknown}")
        if not klass.private_dns:
            _vpce_names(state, entries)
    if policy.defaults:
        document["defaults"] = dict(policy.defaults)
    if policy.resolver:
        document["resolver"] = dict(policy.resolver)
    document["allow_empty"] = True  # a VPC with nothing required and no endpoint is checked, not refused
    topology = parse(document, source=f"{policy.source} for {state.vpc_id}")
    return Derivation(
        topology=topology,
        document=document,
        policy_source=policy.source,
        vpc_class=klass,
        tags=dict(tags),
        exempt=exempt,
        required=tuple(required),
        notes=tuple(notes),
    )


def _require(
    state: VpcState,
    entries: list[dict[str, Any]],
    service: str,
    kind: str,
    klass: VpcClass,
    place: Place | None,
    notes: list[str],
) -> Required:
    """The entry for a required endpoint: the VPC's own (with the AZs it must cover), else a new one."""
    entry = next((e for e in entries if e["service"] == service and e["type"] == kind), None)
    vpce = next((v for v in state.endpoints if v.service == service and v.type == kind), None)
    present = entry is not None
    if entry is None:
        entry = {
            "name": _free_name(entries, service, kind),
            "type": kind,
            "service": service,
            "dns_names": list(_names(state, service, kind)),
        }
        entries.append(entry)
    azs: tuple[str, ...] = ()
    if kind == "interface":
        azs = _azs(state, vpce, klass.azs, place, notes, entry["name"])
        if azs:
            entry["azs"] = list(azs)
    return Required(service=service, type=kind, name=entry["name"], present=present, azs=azs)


def _names(state: VpcState, service: str, kind: str) -> tuple[str, ...]:
    private = private_dns_names(state, service)
    if private:
        # A wildcard (*.dkr.ecr.<r>) cannot be asked: a plain name first, else a label under the wildcard.
        plain = [n for n in private if not n.startswith("*.")]
        return (plain[0] if plain else service_names.probe_name(private[0]),)
    derived = default_dns_name(service, state.region)
    if derived:
        return (derived,)
    return (f"{short_name(service).replace('.', '-')}.{state.region}.vpce.amazonaws.com",)


def _free_name(entries: Sequence[Mapping[str, Any]], service: str, kind: str) -> str:
    taken = {e["name"] for e in entries}
    base = short_name(service).rsplit(".", 1)[-1] if service.split(".")[2:3] == ["vpce"] else short_name(service)
    base = base.replace(".", "-")
    for name in (base, f"{base}-{kind}", *(f"{base}-{kind}-{n}" for n in range(2, 100))):
        if name not in taken:
            return name
    raise ValueError(f"no free endpoint name for {service}")  # pragma: no cover - 100 endpoints of one service


def _azs(
    state: VpcState, vpce: VpcEndpoint | None, rule: AzRule, place: Place | None, notes: list[str], name: str
) -> tuple[str, ...]:
    """The AZ ids a required interface endpoint must cover: the agent's, then enough of the VPC's to reach
    `min` (those the endpoint covers first, then the VPC's other AZs with a subnet, by id)."""
    if not rule.min and not rule.agent:
        return ()
    have: list[str] = []
    if vpce is not None:
        for eni in state.endpoint_enis(vpce):
            subnet = state.subnets.get(eni.subnet_id)
            zone = (subnet.az_id if subnet is not None and subnet.az_id else None) or state.az_id_of(eni.az)
            if zone and zone not in have:
                have.append(zone)
    wanted: list[str] = []
    agent_zone = (place.az_id or state.az_id_of(place.az)) if place is not None else None
    if rule.agent:
        if agent_zone:
            wanted.append(agent_zone)
        else:
            notes.append(f"{name}: the agent's AZ is unknown, so its coverage is not required (pass --az)")
    vpc_zones = sorted({s.az_id for s in state.subnets.values() if s.az_id})
    for zone in [*sorted(have), *(z for z in vpc_zones if z not in have)]:
        if len(wanted) >= rule.min:
            break
        if zone not in wanted:
            wanted.append(zone)
    if len(wanted) < rule.min:
        notes.append(
            f"{name}: the class asks for {rule.min} AZs but the VPC has subnets in {len(vpc_zones)} "
            f"({', '.join(vpc_zones) or 'none'})"
        )
    return tuple(sorted(wanted))


def _vpce_names(state: VpcState, entries: list[dict[str, Any]]) -> None:
    """With private DNS not required, the VPC's interface endpoints are checked by their own vpce names."""
    by_service = {v.service: v for v in state.endpoints if v.type == "interface"}
    for entry in entries:
        vpce = by_service.get(entry["service"])
        if entry["type"] == "interface" and vpce is not None and not vpce.private_dns_enabled:
            entry["dns_names"] = [regional_dns_name(state, vpce)]
