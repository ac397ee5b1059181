"""The whole path of one connection, evaluated: from the agent to one address on one port, what every piece of
AWS configuration on the way says, each with the rule that decided it.

Pure. The pieces: the endpoint's security groups inbound (interface endpoints; a gateway endpoint has
none), the agent's own security groups outbound (when its groups are known), and the network ACLs of the
agent's subnet and of the endpoint ENI's subnet, both directions (stateless), skipped when both ends share a
subnet. Per address family: an IPv6 address is judged against IPv6 rules and the agent's IPv6 source.

Where the agent may be in several subnets (a Lambda whose AZ is unknown), an ACL verdict of one of them
counts only when every one of them agrees; otherwise it is "unknown".
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Any

from vpc_verify.aws.model import Eni, VpcEndpoint, VpcState
from vpc_verify.aws.whereami import Place
from vpc_verify.evaluate import nacl, security_groups
from vpc_verify.evaluate.nacl import NaclVerdict
from vpc_verify.evaluate.security_groups import AgentSource, Destination, EgressVerdict, SgVerdict, Verdict


@dataclass(frozen=True, slots=True)
class PathVerdict:
    """What the configuration says about the agent's connection to one address."""

    address: str
    port: int
    source: AgentSource
    inbound: SgVerdict | None = None  # the endpoint's groups (None: a gateway endpoint has none)
    egress: EgressVerdict | None = None  # the agent's own groups (None: its groups are unknown)
    nacls: tuple[NaclVerdict, ...] = ()  # every pass through an ACL (none when both ends share a subnet)
    same_subnet: bool = False

    @property
    def version(self) -> int:
        """4 or 6."""
        return ipaddress.ip_address(self.address).version

    def blocked_nacls(self) -> tuple[NaclVerdict, ...]:
        """The ACL passes that drop the flow."""
        return tuple(v for v in self.nacls if v.verdict == "blocks")

    def blocks(self) -> bool:
        """Some piece of configuration drops the flow."""
        return any(
            (
                self.inbound is not None and self.inbound.verdict == "blocks",
                self.egress is not None and self.egress.verdict == "blocks",
                bool(self.blocked_nacls()),
            )
        )

    def nacl_verdict(self) -> Verdict:
        """The ACLs together: admits, blocks, or unknown (also when they were not evaluated)."""
        if self.same_subnet:
            return "admits"
        return nacl.combined(self.nacls)

    def to_dict(self) -> dict[str, Any]:
        """JSON evidence."""
        return {
            "address": self.address,
            "port": self.port,
            **self.source.to_dict(),
            "endpoint_security_groups": None if self.inbound is None else self.inbound.verdict,
            "agent_egress": None if self.egress is None else self.egress.verdict,
            "network_acls": "not evaluated (same subnet)" if self.same_subnet else self.nacl_verdict(),
        }


def evaluate(
    state: VpcState, place: Place, vpce: VpcEndpoint | None, address: str, port: int, eni: Eni | None = None
) -> PathVerdict:
    """Every piece of configuration between the agent and `address`:`port` (the ENI `eni` of `vpce`)."""
    target = ipaddress.ip_network(address)
    source = security_groups.agent_source(state, place, target.version)
    interface = vpce is not None and vpce.type != "gateway"
    inbound = None
    if vpce is not None and interface:
        inbound = security_groups.inbound(vpce.group_ids, state.security_groups, state.prefix_lists, source, port)
    egress = None
    if place.security_group_ids:
        destination = Destination((target,), vpce.group_ids if vpce is not None and interface else ())
        egress = security_groups.outbound(
            place.security_group_ids, state.security_groups, state.prefix_lists, destination, port
        )
    target_subnet = eni.subnet_id if eni is not None and eni.subnet_id else None
    candidates = place.candidate_subnets()
    if target_subnet and candidates == (target_subnet,):
        return PathVerdict(address, port, source, inbound, egress, (), same_subnet=True)
    back = place.return_ports()
    per_subnet: list[tuple[NaclVerdict, ...]] = []
    for subnet in candidates:
        if subnet == target_subnet:
            continue  # from this one, the ACL is not on the way
        acl = state.network_acl_of(subnet) if state.network_acls else None
        per_subnet.append(
            (
                nacl.evaluate(
                    acl, subnet_id=subnet, direction="outbound", peer=(target,), ports=(port, port), leg="request"
                ),
                nacl.evaluate(acl, subnet_id=subnet, direction="inbound", peer=(target,), ports=back, leg="return"),
            )
        )
    passes = _agreed(per_subnet)
    if not candidates:  # the agent's subnet is unknown: so is its ACL
        passes = (nacl.evaluate(None, subnet_id="?", direction="outbound", peer=(target,), ports=(port, port)),)
    if target_subnet:
        passes += endpoint_side(state, target_subnet, source, port, back)
    return PathVerdict(address, port, source, inbound, egress, passes)


def endpoint_side(
    state: VpcState, subnet_id: str, source: AgentSource, port: int, back: tuple[int, int]
) -> tuple[NaclVerdict, NaclVerdict]:
    """The two passes through the network ACL of the endpoint ENI's subnet (`state` is the VPC holding it: this
    one, or a hub's): the connection in from the agent to `port`, and its return traffic out to the agent's
    ephemeral ports `back`."""
    acl = state.network_acl_of(subnet_id) if state.network_acls else None
    peer = source.networks
    return (
        nacl.evaluate(acl, subnet_id=subnet_id, direction="inbound", peer=peer, ports=(port, port), leg="request"),
        nacl.evaluate(acl, subnet_id=subnet_id, direction="outbound", peer=peer, ports=back, leg="return"),
    )


def _agreed(per_subnet: list[tuple[NaclVerdict, ...]]) -> tuple[NaclVerdict, ...]:
    """The agent-side passes; a block counts only when it holds in every subnet the agent may be in."""
    flat = tuple(v for passes in per_subnet for v in passes)
    if len(per_subnet) <= 1:
        return flat
    if all(any(v.verdict == "blocks" for v in passes) for passes in per_subnet):
        return flat
    return tuple(replace(v, verdict="unknown") if v.verdict == "blocks" else v for v in flat)
