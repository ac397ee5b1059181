"""The three-way comparison: the topology's expectations, the AWS control plane, and what the packets showed.

`AwsControlPlane` implements vpc_verify.run.ControlPlane (it reads a VpcState in the run's worker thread);
`AwsView` implements vpc_verify.run.ControlPlaneView: the VPC's CIDRs, each endpoint's ENI addresses by AZ, the
control-plane findings of docs/findings.md, and the joined diagnoses (a public DNS answer explained by private DNS
being off; a connect timeout explained by a security group, or pointed at NACLs/routes when the rules admit
it). Every finding names the resource to fix and carries the API fields it was judged on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from vpc_verify.aws import state as state_mod
from vpc_verify.aws import whereami
from vpc_verify.aws.errors import AwsError
from vpc_verify.aws.state import RouteTable, Rule, VpcEndpoint, VpcState
from vpc_verify.aws.whereami import Place
from vpc_verify.findings import Code, Finding
from vpc_verify.report import EndpointReport
from vpc_verify.topology import Endpoint, IPNetwork, Topology, default_dns_name

RUN = "*"  # the endpoint field of findings about the VPC as a whole
_AWS_TYPES: dict[str, tuple[str, ...]] = {
    "interface": ("interface",),
    "gateway": ("gateway",),
    "service": ("interface", "gatewayloadbalancer", "resource", "servicenetwork"),
}

Verdict = Literal["admits", "blocks", "unknown"]


@dataclass(frozen=True, slots=True)
class AgentSource:
    """Where the agent's packets come from, as precisely as known, for security group evaluation."""

    networks: tuple[IPNetwork, ...]  # its address (/32), else its subnet, else the VPC's CIDRs
    precision: str  # address | subnet | vpc
    group_ids: tuple[str, ...] | None  # None when the agent's security groups are unknown

    def describe(self) -> str:
        """For messages: 'this agent (10.0.1.5)', 'subnet 10.0.1.0/24', ..."""
        shown = ", ".join(str(n) for n in self.networks) or "?"
        return {"address": f"the agent ({shown})", "subnet": f"the agent's subnet ({shown})"}.get(
            self.precision, f"the VPC ({shown})"
        )


@dataclass(frozen=True, slots=True)
class SgVerdict:
    """Whether an endpoint's security groups admit the agent on a port, and the rules that decided it."""

    verdict: Verdict
    port: int
    group_ids: tuple[str, ...]
    admitting: tuple[Rule, ...] = ()
    possible: tuple[Rule, ...] = ()
    rules: tuple[Rule, ...] = ()

    def evidence(self, source: AgentSource) -> dict[str, Any]:
        """JSON evidence: the groups, every inbound rule, and which rules admit the agent."""
        return {
            "security_group_ids": list(self.group_ids),
            "port": self.port,
            "verdict": self.verdict,
            "agent_source": [str(n) for n in source.networks],
            "agent_source_precision": source.precision,
            "agent_security_group_ids": None if source.group_ids is None else list(source.group_ids),
            "inbound_rules": [r.to_dict() for r in self.rules],
            "admitting_rules": [r.to_dict() for r in self.admitting],
            "possibly_admitting_rules": [r.to_dict() for r in self.possible],
        }


# ---------------------------------------------------------------------------------------------- the reader


@dataclass(frozen=True, slots=True)
class AwsControlPlane:
    """Reads the control plane for vpc_verify.run (blocking; the run calls `read` in a worker thread)."""

    region: str | None = None  # used when the topology names none
    place: Place | None = None  # where the agent runs; located (flags, env, IMDS) when None
    subnet_id: str | None = None
    az: str | None = None
    ec2: Any = None  # an injected client (tests); made from boto3's chain when None
    report_unexpected: bool = True  # False when the run checks only part of the topology (--only)

    def read(self, topology: Topology) -> AwsView:
        """Describe the topology's VPC and where the agent is in it."""
        if not topology.vpc.id:
            raise ValueError("the topology names no vpc.id")
        from vpc_verify.aws import clients

        client = self.ec2 if self.ec2 is not None else clients.ec2(topology.region or self.region)
        services = [e.service for e in topology.endpoints if e.service]
        vpc_state = state_mod.read(client, topology.vpc.id, services=services)
        place = self.place if self.place is not None else whereami.locate(self.subnet_id, self.az)
        place = complete_place(client, vpc_state, place)
        return AwsView(state=vpc_state, topology=topology, place=place, report_unexpected=self.report_unexpected)


def for_cli(*, subnet_id: str | None, az: str | None, partial: bool) -> tuple[AwsControlPlane, dict[str, Any]]:
    """The control plane for a command: where the agent runs (flags, env, metadata) and its JSON form.

    `partial` (the run checks only some endpoints) turns ENDPOINT_UNEXPECTED off: the others are not unexpected.
    """
    place = whereami.locate(subnet_id, az)
    return AwsControlPlane(place=place, report_unexpected=not partial), place.to_dict()


def complete_place(ec2: Any, vpc_state: VpcState, place: Place) -> Place:
    """Fill what the control plane can tell about the agent: its subnet from its address, its AZ from its
    subnet, its security groups from its ENI (or, in Lambda, from the function's VPC configuration)."""
    if place.function_name and not (place.subnet_id and place.security_group_ids):
        place = place.merged(_lambda_place(vpc_state, place.function_name))
    if place.address and not place.subnet_id:
        subnet = vpc_state.subnet_of_address(place.address)
        if subnet is not None:
            place = replace(place, subnet_id=subnet.id)
    if place.subnet_id and not place.az and place.subnet_id in vpc_state.subnets:
        place = replace(place, az=vpc_state.subnets[place.subnet_id].az)
    if place.address and not place.security_group_ids:
        try:
            found = state_mod.agent_interface(ec2, vpc_state.vpc_id, place.address)
        except AwsError:
            found = None  # a missing permission for this lookup costs precision, not the run
        if found is not None:
            place = replace(place, subnet_id=place.subnet_id or found[0], security_group_ids=found[1])
    return place


def _lambda_place(vpc_state: VpcState, function_name: str) -> Place:
    from vpc_verify.aws import clients

    address = None
    v4 = [c for c in vpc_state.cidrs if c.version == 4]
    if v4:
        address = whereami.source_address_towards(str(v4[0].network_address + 2))
    groups: tuple[str, ...] = ()
    try:
        config = clients.client("lambda", vpc_state.region).get_function_configuration(FunctionName=function_name)
        groups = tuple((config.get("VpcConfig") or {}).get("SecurityGroupIds") or [])
    except Exception:  # lambda:GetFunctionConfiguration is optional precision, never a failure
        groups = ()
    return Place(address=address, security_group_ids=groups, source="lambda")


# ------------------------------------------------------------------------------------------------ the view


@dataclass(frozen=True, slots=True)
class AwsView:
    """The control plane as the run sees it (vpc_verify.run.ControlPlaneView)."""

    state: VpcState
    topology: Topology
    place: Place = field(default_factory=Place)
    report_unexpected: bool = True

    # --- matching ------------------------------------------------------------------------------------

    def match(self, endpoint: Endpoint) -> VpcEndpoint | None:
        """The VPC endpoint that serves a topology endpoint (same service and kind), or None."""
        if not endpoint.service:
            return None
        kinds = _AWS_TYPES[endpoint.type]
        candidates = [e for e in self.state.endpoints if e.service == endpoint.service and e.type in kinds]
        if not candidates:
            return None
        wanted = set(endpoint.addresses)

        def rank(e: VpcEndpoint) -> tuple[bool, bool]:
            addresses = {eni.address for eni in self.state.endpoint_enis(e)}
            return (bool(wanted & addresses), e.state.lower() == "available")

        return max(candidates, key=rank)

    def unmatched(self) -> tuple[VpcEndpoint, ...]:
        """The VPC's endpoints that no topology endpoint matches."""
        used = {m.id for m in (self.match(e) for e in self.topology.endpoints) if m is not None}
        return tuple(e for e in self.state.endpoints if e.id not in used)

    # --- ControlPlaneView ----------------------------------------------------------------------------

    @property
    def cidrs(self) -> tuple[IPNetwork, ...]:
        """The VPC's CIDR blocks."""
        return self.state.cidrs

    def expected_addresses(self, endpoint: Endpoint) -> Mapping[str, str | None] | None:
        """The matched interface endpoint's ENI addresses and their AZs (None when there is none)."""
        vpce = self.match(endpoint)
        if vpce is None or vpce.type == "gateway":
            return None
        # Only the families the DNS phase asks for: an IPv4 endpoint's ENI may hold IPv6 addresses too.
        v4 = getattr(endpoint, "asks_a", True)
        v6 = getattr(endpoint, "asks_aaaa", False)
        out: dict[str, str | None] = {}
        for eni in self.state.endpoint_enis(vpce):
            if eni.address and v4:
                out[eni.address] = eni.az or None
            for address in eni.ipv6 if v6 else ():
                out[address] = eni.az or None
        return out

    def run_findings(self) -> list[Finding]:
        """VPC DNS attributes, and endpoints the topology does not list."""
        vpc = self.state.vpc_id
        evidence = {
            "vpc_id": vpc,
            "enableDnsSupport": self.state.dns_support,
            "enableDnsHostnames": self.state.dns_hostnames,
        }
        findings = []
        if not self.state.dns_support:
            findings.append(
                Finding.make(
                    Code.VPC_DNS_SUPPORT_DISABLED,
                    RUN,
                    f"{vpc} has enableDnsSupport off: the VPC resolver does not answer, "
                    "so no private DNS name resolves",
                    evidence=evidence,
                    hint=f"aws ec2 modify-vpc-attribute --vpc-id {vpc} --enable-dns-support '{{\"Value\":true}}'",
                )
            )
        if not self.state.dns_hostnames:
            findings.append(
                Finding.make(
                    Code.VPC_DNS_HOSTNAMES_DISABLED,
                    RUN,
                    f"{vpc} has enableDnsHostnames off: interface endpoints' private DNS names cannot take effect",
                    evidence=evidence,
                    hint=f"aws ec2 modify-vpc-attribute --vpc-id {vpc} --enable-dns-hostnames '{{\"Value\":true}}'",
                )
            )
        if self.report_unexpected:
            for e in self.unmatched():
                findings.append(
                    Finding.make(
                        Code.ENDPOINT_UNEXPECTED,
                        RUN,
                        f"{vpc} has {e.type} endpoint {e.id} for {e.service}, which the topology does not list",
                        evidence={
                            "vpc_endpoint_id": e.id,
                            "service": e.service,
                            "type": e.type,
                            "state": e.state,
                            "topology": self.topology.source,
                        },
                        hint=f"Add {e.service} to the topology (`vpc-verify discover --vpc-id {vpc}`), or delete "
                        f"{e.id} if nothing uses it: aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {e.id}",
                    )
                )
        return findings

    def refine(self, endpoint: Endpoint, report: EndpointReport) -> EndpointReport:
        """Add the control-plane findings of one endpoint and join them with the data plane's."""
        if not endpoint.service:
            return report  # a private service with no AWS endpoint: nothing to compare
        vpce = self.match(endpoint)
        if vpce is None:
            return replace(
                report,
                findings=(*self._join(endpoint, report, None, None), self._missing(endpoint)),
                aws={"vpc_id": self.state.vpc_id, "vpc_endpoint_id": None},
            )
        verdict = self.security_verdict(vpce, endpoint.port) if vpce.type != "gateway" else None
        extra: list[Finding] = []
        extra += self._availability(endpoint, vpce)
        if vpce.type == "gateway":
            extra += self._gateway(endpoint, vpce, report)
        else:
            extra += self._private_dns(endpoint, vpce)
            extra += self._azs(endpoint, vpce)
            if verdict is not None and verdict.verdict == "blocks":
                extra.append(self._blocked(endpoint, vpce, verdict))
        findings = self._join(endpoint, report, vpce, verdict) + tuple(extra)
        return replace(report, findings=findings, aws=self.facts(vpce, verdict))

    # --- facts ---------------------------------------------------------------------------------------

    def facts(self, vpce: VpcEndpoint, verdict: SgVerdict | None = None) -> dict[str, Any]:
        """What AWS says about the endpoint, for the report (and `diagnose`)."""
        enis = []
        for eni in self.state.endpoint_enis(vpce):
            enis.append(
                {
                    "eni_id": eni.id,
                    "address": eni.address,
                    "az": eni.az,
                    "subnet_id": eni.subnet_id,
                    "status": eni.status,
                    "zone": self.zone_relation(eni.az),
                }
            )
        out: dict[str, Any] = {
            "vpc_id": self.state.vpc_id,
            "vpc_endpoint_id": vpce.id,
            "type": vpce.type,
            "service": vpce.service,
            "state": vpce.state,
            "private_dns_enabled": vpce.private_dns_enabled,
            "subnet_ids": list(vpce.subnet_ids),
            "security_group_ids": list(vpce.group_ids),
            "route_table_ids": list(vpce.route_table_ids),
            "network_interfaces": enis,
            "agent_az": self.place.az,
        }
        if vpce.type != "gateway":
            out["regional_dns_name"] = regional_dns_name(self.state, vpce)
            out["zonal_dns_names"] = zonal_dns_names(self.state, vpce)
        if verdict is not None:
            out["security_groups"] = verdict.evidence(self.agent_source())
        if vpce.type == "gateway":
            pl = self.state.prefix_lists.get(vpce.service)
            out["prefix_list"] = None if pl is None else {"id": pl.id, "name": pl.name, "cidrs": list(pl.cidrs)}
        return out

    def zone_relation(self, az: str | None) -> str:
        """'az-local' when `az` is the agent's AZ, 'cross-az' when another, 'unknown' otherwise."""
        if not az or not self.place.az:
            return "unknown"
        return "az-local" if az == self.place.az else "cross-az"

    def agent_source(self) -> AgentSource:
        """The agent's source networks and groups, as precisely as known."""
        groups = self.place.security_group_ids or None
        if self.place.address:
            return AgentSource((ipaddress.ip_network(self.place.address),), "address", groups)
        subnet = self.state.subnets.get(self.place.subnet_id or "")
        if subnet is not None and subnet.cidr:
            return AgentSource((ipaddress.ip_network(subnet.cidr, strict=False),), "subnet", groups)
        return AgentSource(self.state.cidrs, "vpc", groups)

    def security_verdict(self, vpce: VpcEndpoint, port: int) -> SgVerdict:
        """Do the endpoint's security groups admit tcp/`port` from the agent?"""
        source = self.agent_source()
        rules: list[Rule] = []
        missing = False
        for gid in vpce.group_ids:
            group = self.state.security_groups.get(gid)
            if group is None:
                missing = True
                continue
            rules.extend(group.ingress)
        admitting: list[Rule] = []
        possible: list[Rule] = []
        for rule in rules:
            if not rule.covers_port(port):
                continue
            fit = self._rule_fit(rule, source)
            if fit == "admits":
                admitting.append(rule)
            elif fit == "unknown":
                possible.append(rule)
        verdict: Verdict
        if admitting:
            verdict = "admits"
        elif possible or missing or not vpce.group_ids:
            verdict = "unknown"
        else:
            verdict = "blocks"
        return SgVerdict(verdict, port, vpce.group_ids, tuple(admitting), tuple(possible), tuple(rules))

    def _rule_fit(self, rule: Rule, source: AgentSource) -> Verdict:
        if rule.source_group_id:
            if source.group_ids is None:
                return "unknown"
            return "admits" if rule.source_group_id in source.group_ids else "blocks"
        cidrs: tuple[str, ...]
        if rule.cidr:
            cidrs = (rule.cidr,)
        else:
            pl = self.state.prefix_lists.get(rule.prefix_list_id or "")
            if pl is None:
                return "unknown"
            cidrs = pl.cidrs
        nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
        mine = list(source.networks)
        if mine and all(any(n.version == m.version and m.subnet_of(n) for n in nets) for m in mine):  # type: ignore[arg-type]
            return "admits"
        if any(n.version == m.version and n.overlaps(m) for n in nets for m in mine):
            return "unknown"
        return "blocks"

    def agent_route_table(self) -> RouteTable | None:
        """The route table of the agent's subnet, when the subnet is known."""
        return self.state.route_table_of(self.place.subnet_id) if self.place.subnet_id else None

    # --- findings ------------------------------------------------------------------------------------

    def _missing(self, endpoint: Endpoint) -> Finding:
        vpc = self.state.vpc_id
        kind = {"gateway": "Gateway"}.get(endpoint.type, "Interface")
        others = [e for e in self.state.endpoints if e.service == endpoint.service]
        extra = ""
        if kind == "Gateway":
            table = self.agent_route_table()
            extra = f" --route-table-ids {table.id if table else '<route table of the agent subnet>'}"
        else:
            extra = " --subnet-ids <one subnet per AZ> --security-group-ids <sg admitting 443> --private-dns-enabled"
        message = f"{vpc} has no {kind.lower()} endpoint for {endpoint.service}"
        if others:
            message += f" (it has {', '.join(f'{o.type} endpoint {o.id}' for o in others)})"
        return Finding.make(
            Code.ENDPOINT_MISSING,
            endpoint.name,
            message,
            evidence={
                "vpc_id": vpc,
                "service": endpoint.service,
                "type": endpoint.type,
                "vpc_endpoints": [
                    {"id": e.id, "service": e.service, "type": e.type, "state": e.state} for e in self.state.endpoints
                ],
            },
            hint=f"Create it: aws ec2 create-vpc-endpoint --vpc-id {vpc} --vpc-endpoint-type {kind} "
            f"--service-name {endpoint.service}{extra}",
        )

    def _availability(self, endpoint: Endpoint, vpce: VpcEndpoint) -> list[Finding]:
        state = vpce.state
        if state.lower() == "available":
            return []
        hints = {
            "pending": f"{vpce.id} is still being created: wait a minute and check again (`vpc-verify check --wait`).",
            "pendingacceptance": f"The service owner must accept {vpce.id}: aws ec2 "
            f"accept-vpc-endpoint-connections --service-id <vpce-svc-…> --vpc-endpoint-ids {vpce.id}",
            "rejected": f"The service owner rejected {vpce.id}: ask them to accept it, or delete and recreate it.",
            "failed": f"{vpce.id} failed{': ' + vpce.failure if vpce.failure else ''}; delete it and create it "
            f"again: aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {vpce.id}",
            "expired": f"{vpce.id} expired before it was accepted: delete and recreate it.",
        }
        hint = hints.get(state.lower(), f"{vpce.id} is {state}: wait for it to become available or recreate it.")
        return [
            Finding.make(
                Code.ENDPOINT_NOT_AVAILABLE,
                endpoint.name,
                f"VPC endpoint {vpce.id} for {vpce.service} is {state}, not available",
                evidence={"vpc_endpoint_id": vpce.id, "state": state, "last_error": vpce.failure},
                hint=hint,
            )
        ]

    def _private_dns(self, endpoint: Endpoint, vpce: VpcEndpoint) -> list[Finding]:
        if vpce.private_dns_enabled:
            return []
        private_names = set(private_dns_names(self.state, vpce.service))
        # Only a problem when the topology uses the service's own name: the vpce-… names work without it.
        used = [n for n in endpoint.dns_names if n in private_names or not _is_vpce_name(n)]
        if not private_names or not used:
            return []
        return [
            Finding.make(
                Code.PRIVATE_DNS_DISABLED,
                endpoint.name,
                f"{vpce.id} has private DNS off, so {', '.join(used)} resolves to the public service, not the endpoint",
                evidence={
                    "vpc_endpoint_id": vpce.id,
                    "PrivateDnsEnabled": False,
                    "names": used,
                    "service_private_dns_names": sorted(private_names),
                },
                hint=f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce.id} --private-dns-enabled",
            )
        ]

    def _azs(self, endpoint: Endpoint, vpce: VpcEndpoint) -> list[Finding]:
        enis = self.state.endpoint_enis(vpce)
        have: set[str] = set()
        for eni in enis:
            have.add(eni.az)
            subnet = self.state.subnets.get(eni.subnet_id)
            if subnet is not None and subnet.az_id:
                have.add(subnet.az_id)
        findings = []
        for az in endpoint.azs:
            if az in have:
                continue
            candidates = [s.id for s in self.state.subnets.values() if az in (s.az, s.az_id)]
            subnet_hint = candidates[0] if candidates else f"<a subnet of {self.state.vpc_id} in {az}>"
            findings.append(
                Finding.make(
                    Code.ENDPOINT_AZ_MISSING,
                    endpoint.name,
                    f"{vpce.id} has no network interface in {az} "
                    f"(it has: {', '.join(sorted({e.az for e in enis})) or 'none'})",
                    evidence={
                        "vpc_endpoint_id": vpce.id,
                        "az": az,
                        "subnet_ids": list(vpce.subnet_ids),
                        "network_interfaces": [
                            {"eni_id": e.id, "az": e.az, "subnet_id": e.subnet_id, "address": e.address} for e in enis
                        ],
                        "subnets_in_az": candidates,
                    },
                    hint=f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce.id} --add-subnet-ids {subnet_hint}",
                )
            )
        return findings

    def _blocked(self, endpoint: Endpoint, vpce: VpcEndpoint, verdict: SgVerdict) -> Finding:
        source = self.agent_source()
        groups = ", ".join(verdict.group_ids)
        first = verdict.group_ids[0]
        if source.group_ids:
            origin = f"--source-group {source.group_ids[0]}"
        else:
            origin = f"--cidr {source.networks[0] if source.networks else '<agent CIDR>'}"
        return Finding.make(
            Code.SECURITY_GROUP_BLOCKS,
            endpoint.name,
            f"no inbound rule of {groups} (on {vpce.id}) admits tcp/{verdict.port} from {source.describe()}",
            evidence={"vpc_endpoint_id": vpce.id, **verdict.evidence(source)},
            hint=f"aws ec2 authorize-security-group-ingress --group-id {first} --protocol tcp "
            f"--port {verdict.port} {origin}",
        )

    def routes_via(self, table: RouteTable, vpce: VpcEndpoint) -> bool:
        """True when `table` routes the gateway service's prefix list through `vpce` (and not to a blackhole)."""
        pl = self.state.prefix_lists.get(vpce.service)
        return any(
            r.target == vpce.id and (pl is None or r.destination == pl.id) and r.state.lower() != "blackhole"
            for r in table.routes
        )

    def _gateway(self, endpoint: Endpoint, vpce: VpcEndpoint, report: EndpointReport) -> list[Finding]:
        findings = []
        pl = self.state.prefix_lists.get(vpce.service)
        table = self.agent_route_table()
        evidence: dict[str, Any] = {
            "vpc_endpoint_id": vpce.id,
            "prefix_list_id": pl.id if pl else None,
            "endpoint_route_table_ids": list(vpce.route_table_ids),
            "agent_subnet_id": self.place.subnet_id,
        }
        if table is not None:
            if not self.routes_via(table, vpce):
                findings.append(
                    Finding.make(
                        Code.GATEWAY_ROUTE_MISSING,
                        endpoint.name,
                        f"route table {table.id} of the agent's subnet {self.place.subnet_id} has no route to "
                        f"{pl.id if pl else vpce.service} via {vpce.id}",
                        evidence={
                            **evidence,
                            "route_table_id": table.id,
                            "routes": [
                                {"destination": r.destination, "target": r.target, "state": r.state}
                                for r in table.routes
                            ],
                        },
                        hint=f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce.id} "
                        f"--add-route-table-ids {table.id}",
                    )
                )
        elif not any(self.routes_via(t, vpce) for t in self.state.route_tables):
            findings.append(
                Finding.make(
                    Code.GATEWAY_ROUTE_MISSING,
                    endpoint.name,
                    f"no route table of {self.state.vpc_id} routes {pl.id if pl else vpce.service} via {vpce.id}",
                    evidence={**evidence, "route_table_ids": [t.id for t in self.state.route_tables]},
                    hint=f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce.id} --add-route-table-ids "
                    "<route table of the agent's subnet>",
                )
            )
        if pl is not None and pl.cidrs:
            nets = [ipaddress.ip_network(c, strict=False) for c in pl.cidrs]
            for a in report.addresses:
                if not a.names:
                    continue
                ip = ipaddress.ip_address(a.address)
                if any(ip.version == n.version and ip in n for n in nets):
                    continue
                findings.append(
                    Finding.make(
                        Code.GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST,
                        endpoint.name,
                        f"{', '.join(a.names)} answered {a.address}, outside prefix list {pl.id} ({pl.name}): "
                        f"traffic to it does not use {vpce.id}",
                        address=a.address,
                        evidence={
                            "vpc_endpoint_id": vpce.id,
                            "prefix_list_id": pl.id,
                            "prefix_list_name": pl.name,
                            "prefix_list_cidrs": list(pl.cidrs),
                            "names": list(a.names),
                        },
                        hint=f"The name does not resolve into {pl.id} ({pl.name}): check the resolver (a custom "
                        f"zone or forwarder) and that the name is the service's in {self.state.region}.",
                    )
                )
        return findings

    # --- joined diagnoses ----------------------------------------------------------------------------

    def _join(
        self, endpoint: Endpoint, report: EndpointReport, vpce: VpcEndpoint | None, verdict: SgVerdict | None
    ) -> tuple[Finding, ...]:
        out = []
        for f in report.findings:
            if f.code == "DNS_PUBLIC_ADDRESS" and endpoint.type != "gateway":
                f = self._explain_public(f, endpoint, vpce)
            elif f.code == "TCP_TIMEOUT" and vpce is not None and verdict is not None:
                f = self._explain_timeout(f, vpce, verdict)
            elif f.code == "TCP_TIMEOUT" and vpce is not None and vpce.type == "gateway":
                f = self._explain_gateway_timeout(f, endpoint, vpce)
            out.append(f)
        return tuple(out)

    def _explain_public(self, f: Finding, endpoint: Endpoint, vpce: VpcEndpoint | None) -> Finding:
        vpc = self.state.vpc_id
        facts = {
            "vpc_id": vpc,
            "enableDnsSupport": self.state.dns_support,
            "enableDnsHostnames": self.state.dns_hostnames,
        }
        if vpce is None:
            return replace(
                f,
                message=f"{f.message}; {vpc} has no endpoint for {endpoint.service}",
                evidence={**f.evidence, **facts, "vpc_endpoint_id": None},
                hint=self._missing(endpoint).hint,
            )
        facts |= {"vpc_endpoint_id": vpce.id, "PrivateDnsEnabled": vpce.private_dns_enabled}
        if not vpce.private_dns_enabled:
            return replace(
                f,
                message=f"{f.message}: private DNS is off on {vpce.id}",
                evidence={**f.evidence, **facts},
                hint=f"Enable private DNS on {vpce.id}: aws ec2 modify-vpc-endpoint --vpc-endpoint-id "
                f"{vpce.id} --private-dns-enabled",
            )
        if not (self.state.dns_support and self.state.dns_hostnames):
            off = "enableDnsSupport" if not self.state.dns_support else "enableDnsHostnames"
            flag = "--enable-dns-support" if off == "enableDnsSupport" else "--enable-dns-hostnames"
            return replace(
                f,
                message=f"{f.message}: private DNS of {vpce.id} is on, but {vpc} has {off} off",
                evidence={**f.evidence, **facts},
                hint=f"aws ec2 modify-vpc-attribute --vpc-id {vpc} {flag} '{{\"Value\":true}}'",
            )
        return replace(
            f,
            message=f"{f.message}: private DNS of {vpce.id} and the DNS attributes of {vpc} are "
            "on, so the answer did not come from the VPC resolver's private zone",
            evidence={**f.evidence, **facts},
            hint="Point the agent's resolver at the VPC resolver (base+2 or 169.254.169.253), or make a "
            f"custom resolver forward {', '.join(endpoint.dns_names)} to it; look for a private hosted "
            f"zone overriding the name in {vpc}.",
        )

    def _explain_timeout(self, f: Finding, vpce: VpcEndpoint, verdict: SgVerdict) -> Finding:
        source = self.agent_source()
        evidence = {**f.evidence, "vpc_endpoint_id": vpce.id, **verdict.evidence(source)}
        eni = next((e for e in self.state.endpoint_enis(vpce) if e.address == f.address), None)
        eni_subnet = eni.subnet_id if eni is not None else None
        groups = ", ".join(verdict.group_ids) or "(none)"
        if verdict.verdict == "blocks":
            first = verdict.group_ids[0]
            return replace(
                f,
                message=f"{f.message}: no inbound rule of {groups} admits tcp/{verdict.port} from {source.describe()}",
                evidence=evidence,
                hint=f"Add an inbound rule to {first}: aws ec2 authorize-security-group-ingress "
                f"--group-id {first} --protocol tcp --port {verdict.port} "
                f"--cidr {source.networks[0] if source.networks else '<agent CIDR>'}",
            )
        table = self.agent_route_table()
        where = f"the network ACL of subnet {eni_subnet}" if eni_subnet else "the endpoint subnets' network ACLs"
        if self.place.subnet_id:
            where += f" and of the agent's subnet {self.place.subnet_id}"
        route = f", and route table {table.id}" if table is not None else ""
        if verdict.verdict == "admits":
            rule = verdict.admitting[0]
            return replace(
                f,
                message=f"{f.message}; security group {rule.group_id} admits tcp/{verdict.port} "
                f"from {rule.source()}, so the drop is elsewhere",
                evidence=evidence,
                hint=f"Check {where} (inbound tcp/{verdict.port}, outbound ephemeral ports 1024-65535){route}.",
            )
        return replace(
            f,
            message=f"{f.message}; the rules of {groups} may or may not admit the agent "
            "(its address or security groups are unknown: pass --subnet-id)",
            evidence=evidence,
            hint=f"Check that {groups} admits tcp/{verdict.port} from this agent, then {where}{route}.",
        )

    def _explain_gateway_timeout(self, f: Finding, endpoint: Endpoint, vpce: VpcEndpoint) -> Finding:
        # A gateway endpoint has no security group of its own: the default TCP_TIMEOUT hint would send on-call
        # looking for one. The route decides first, then the agent's side (its egress rules, its subnet's ACL).
        pl = self.state.prefix_lists.get(vpce.service)
        target = pl.id if pl is not None else vpce.service
        table = self.agent_route_table()
        routed = self.routes_via(table, vpce) if table is not None else None
        evidence = {
            **f.evidence,
            "vpc_endpoint_id": vpce.id,
            "prefix_list_id": pl.id if pl else None,
            "agent_subnet_id": self.place.subnet_id,
            "route_table_id": table.id if table else None,
            "route_via_endpoint": routed,
        }
        if table is not None and not routed:
            return replace(
                f,
                message=f"{f.message}: route table {table.id} of the agent's subnet has no route to "
                f"{target} via {vpce.id}",
                evidence=evidence,
                hint=f"Add the route: aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce.id} "
                f"--add-route-table-ids {table.id}",
            )
        if table is not None:
            route = f"Route table {table.id} routes {target} via {vpce.id}, so check"
        else:
            route = f"Check that the agent subnet's route table routes {target} via {vpce.id}, then"
        subnet = f"subnet {self.place.subnet_id}" if self.place.subnet_id else "the agent's subnet"
        return replace(
            f,
            message=f"{f.message}; {vpce.id} is a gateway endpoint, with no security group of its own",
            evidence=evidence,
            hint=f"{route} the agent's security group egress to {target} on tcp/{endpoint.port}, and the "
            f"network ACL of {subnet} (outbound tcp/{endpoint.port}, inbound ephemeral ports 1024-65535).",
        )


# ------------------------------------------------------------------------------------------------ DNS names


def private_dns_names(vpc_state: VpcState, service: str) -> tuple[str, ...]:
    """The service's private DNS names (DescribeVpcEndpointServices, else derived from an AWS service name)."""
    info = vpc_state.services.get(service)
    if info is not None and info.private_dns_names:
        return info.private_dns_names
    derived = default_dns_name(service, vpc_state.region)
    return (derived,) if derived else ()


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


def _is_vpce_name(name: str) -> bool:
    return name.startswith("vpce-") and ".vpce.amazonaws.com" in name


def regional_dns_name(vpc_state: VpcState, vpce: VpcEndpoint) -> str:
    """The endpoint's regional name `vpce-….<service>.vpce.amazonaws.com` (built when DnsEntries are not real)."""
    azs = {e.az for e in vpc_state.endpoint_enis(vpce)}
    for name in vpce.dns_entries:
        first = name.split(".", 1)[0]
        if _is_vpce_name(name) and first.startswith(vpce.id) and not any(first.endswith("-" + az) for az in azs):
            return name.lower()
    return f"{vpce.id}.{_base_dns_name(vpc_state, vpce.service)}".lower()


def zonal_dns_names(vpc_state: VpcState, vpce: VpcEndpoint) -> dict[str, str]:
    """AZ → the endpoint's zonal name `vpce-…-<az>.<service>.vpce.amazonaws.com`."""
    azs = sorted({e.az for e in vpc_state.endpoint_enis(vpce) if e.az})
    regional = regional_dns_name(vpc_state, vpce)
    first, rest = regional.split(".", 1)
    out = {}
    for az in azs:
        real = [n for n in vpce.dns_entries if _is_vpce_name(n) and n.split(".", 1)[0].endswith("-" + az)]
        out[az] = real[0].lower() if real else f"{first}-{az}.{rest}"
    return out
