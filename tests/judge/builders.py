"""Synthetic facts for the rules: observations and VPC states made by hand, joined as the run joins them."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Mapping

from vpc_verify import judge
from vpc_verify.aws.control_plane import AwsFacts
from vpc_verify.aws.model import (
    Eni,
    PrefixList,
    Route,
    RouteTable,
    Rule,
    SecurityGroup,
    ServiceInfo,
    Subnet,
    VpcEndpoint,
    VpcState,
)
from vpc_verify.aws.whereami import Place
from vpc_verify.checks.dns import DnsResult, DnsStatus
from vpc_verify.checks.http import HttpResult
from vpc_verify.checks.tcp import TcpResult, TcpStatus
from vpc_verify.checks.tls import TlsResult, TlsStatus
from vpc_verify.findings import CATALOGUE, Finding
from vpc_verify.judge.facts import EndpointFacts, join
from vpc_verify.judge.rules import ENDPOINT_RULES
from vpc_verify.observe.pipeline import Ending, Observation
from vpc_verify.report import AddressProbe, EndpointReport
from vpc_verify.topology import Endpoint, HttpSettings, Resolver, Topology, Vpc

NOW = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
REGION = "eu-west-1"
VPC_ID = "vpc-0123456789abcdef0"
SQS = f"com.amazonaws.{REGION}.sqs"
S3 = f"com.amazonaws.{REGION}.s3"
NAME = f"sqs.{REGION}.amazonaws.com"
EP = Endpoint(
    name="sqs",
    type="interface",
    service=SQS,
    dns_names=(NAME,),
    addresses=("10.1.1.10", "10.1.2.10"),
    latency_budget_ms=50,
    http=HttpSettings(path="/", status=(200, 403)),
)
GW = Endpoint(name="s3", type="gateway", service=S3, dns_names=(f"s3.{REGION}.amazonaws.com",), tls=None)
CIDR = "10.1.0.0/16"


def dns(*answers: str, status: DnsStatus = DnsStatus.OK, name: str = NAME, rcode: str = "NOERROR") -> DnsResult:
    """One name's DNS result (OK with `answers`, or a failure status)."""
    return DnsResult(
        name=name,
        status=status,
        rcode=rcode,
        answers=answers,
        cname_chain=(f"vpce-1.sqs.{REGION}.vpce.amazonaws.com",) if status is DnsStatus.OK else (),
        ms=1.0,
    )


def tls_ok(not_after: str = "2027-06-01T00:00:00Z", hs: float = 1.0) -> TlsResult:
    """A completed handshake with a certificate for the service's name."""
    return TlsResult(status=TlsStatus.OK, handshake_ms=hs, cert_names=(NAME,), cert_not_after=not_after)


def probe(
    address: str,
    tcp: TcpStatus = TcpStatus.OK,
    tls: TlsResult | None = None,
    http: HttpResult | None = None,
    *,
    tcp_ms: float = 0.2,
) -> AddressProbe:
    """One address's probe record; a connected probe of a TLS endpoint gets a good handshake by default."""
    result = TcpResult(address, 443, tcp, tcp_ms if tcp is TcpStatus.OK else 2000.0, "" if tcp is TcpStatus.OK else "x")
    if tcp is not TcpStatus.OK:
        return AddressProbe(tcp=result)
    return AddressProbe(tcp=result, tls=tls if tls is not None else tls_ok(), http=http)


def observation(
    endpoint: Endpoint = EP,
    results: Iterable[DnsResult] = (),
    probes: Iterable[AddressProbe] = (),
    *,
    skipped: Mapping[str, str] | None = None,
    ending: Ending = Ending.DONE,
    phase: str = "done",
    error: BaseException | None = None,
) -> Observation:
    """An observation whose answers are those of `results`."""
    results = tuple(results)
    answers: dict[str, list[str]] = {}
    for r in results:
        for a in r.answers:
            answers.setdefault(a, []).append(r.name)
    return Observation(
        endpoint=endpoint,
        dns=results,
        answers={a: tuple(n) for a, n in answers.items()},
        skipped=dict(skipped or {}),
        probes={p.tcp.address: p for p in probes},
        ending=ending,
        phase=phase,
        error=error,
        ms=3.0,
    )


def topology(endpoint: Endpoint = EP, cidrs: Iterable[str] = (CIDR,), vpc_id: str | None = VPC_ID) -> Topology:
    """A topology of one endpoint."""
    return Topology(
        version=1,
        region=REGION,
        vpc=Vpc(id=vpc_id, cidrs=tuple(ipaddress.ip_network(c) for c in cidrs)),
        resolver=Resolver(timeout_ms=500),
        endpoints=(endpoint,),
    )


def facts(o: Observation, *, cidrs: Iterable[str] = (CIDR,), aws: AwsFacts | None = None) -> EndpointFacts:
    """The joined facts of an observation, as the run joins them."""
    return join(o, topology(o.endpoint, cidrs), aws, NOW)


def report(f: EndpointFacts) -> EndpointReport:
    """Judge the facts, checking on the way that each rule makes only the codes it declares and that every
    finding's evidence keys are documented in the catalogue (where it lists any)."""
    for rule in ENDPOINT_RULES:
        made = {finding.code for finding in rule.judge(f)}
        assert made <= set(rule.codes), (rule.name, made)
    out = judge.endpoint(f)
    for finding in out.findings:
        documented = CATALOGUE[finding.code].evidence
        assert not documented or set(finding.evidence) <= set(documented), (finding.code, set(finding.evidence))
    return out


def codes(findings: Iterable[Finding]) -> list[str]:
    """The findings' codes, sorted."""
    return sorted(f.code.value for f in findings)


def judged(f: EndpointFacts) -> list[str]:
    """The codes an endpoint's facts are judged to."""
    return codes(report(f).findings)


# ------------------------------------------------------------------------------------------------ AWS side


def tcp_rule(port_from: int, port_to: int, **peer: str) -> Rule:
    """An inbound tcp rule of the endpoint's group."""
    return Rule(group_id="sg-vpce", protocol="tcp", from_port=port_from, to_port=port_to, **peer)  # type: ignore[arg-type]


def vpce(
    *, private_dns: bool = True, state: str = "available", dns_entries: tuple[str, ...] = (), service: str = SQS
) -> VpcEndpoint:
    """The interface endpoint of the synthetic VPC."""
    return VpcEndpoint(
        id="vpce-0aaa",
        type="interface",
        service=service,
        state=state,
        private_dns_enabled=private_dns,
        subnet_ids=("subnet-a", "subnet-b"),
        group_ids=("sg-vpce",),
        route_table_ids=(),
        eni_ids=("eni-a", "eni-b"),
        dns_entries=dns_entries,
    )


def gateway(route_tables: tuple[str, ...] = ("rtb-a",)) -> VpcEndpoint:
    """The S3 gateway endpoint of the synthetic VPC."""
    return VpcEndpoint(
        id="vpce-0gw",
        type="gateway",
        service=S3,
        state="available",
        private_dns_enabled=False,
        subnet_ids=(),
        group_ids=(),
        route_table_ids=route_tables,
        eni_ids=(),
        dns_entries=(),
    )


def state(
    rules: Iterable[Rule] = (tcp_rule(443, 443, cidr=CIDR),),
    *,
    endpoints: Iterable[VpcEndpoint] | None = None,
    dns_support: bool = True,
    dns_hostnames: bool = True,
    routed: bool = True,
) -> VpcState:
    """A VPC with two subnets (a, b), an SQS interface endpoint and an S3 gateway routed from subnet a."""
    table_routes = (Route("pl-s3", "vpce-0gw"),) if routed else ()
    return VpcState(
        region=REGION,
        vpc_id=VPC_ID,
        cidrs=(ipaddress.ip_network(CIDR),),
        dns_support=dns_support,
        dns_hostnames=dns_hostnames,
        endpoints=tuple(endpoints) if endpoints is not None else (vpce(), gateway()),
        enis={
            "eni-a": Eni("eni-a", "10.1.1.10", f"{REGION}a", "subnet-a"),
            "eni-b": Eni("eni-b", "10.1.2.10", f"{REGION}b", "subnet-b"),
        },
        security_groups={"sg-vpce": SecurityGroup("sg-vpce", "vpce", tuple(rules))},
        route_tables=(
            RouteTable("rtb-a", False, ("subnet-a",), (Route(CIDR, "local"), *table_routes)),
            RouteTable("rtb-main", True, (), (Route(CIDR, "local"),)),
        ),
        subnets={
            "subnet-a": Subnet("subnet-a", "10.1.1.0/24", f"{REGION}a", "euw1-az1"),
            "subnet-b": Subnet("subnet-b", "10.1.2.0/24", f"{REGION}b", "euw1-az2"),
        },
        prefix_lists={
            "pl-corp": PrefixList("pl-corp", "corp", ("10.1.0.0/20",)),
            "pl-s3": PrefixList("pl-s3", S3, ("52.216.0.0/15",)),
            S3: PrefixList("pl-s3", S3, ("52.216.0.0/15",)),
        },
        services={
            SQS: ServiceInfo(SQS, ("interface",), (NAME,), (f"sqs.{REGION}.vpce.amazonaws.com",), (f"{REGION}a",)),
        },
    )


def aws(vpc: VpcState | None = None, place: Place | None = None) -> AwsFacts:
    """The control plane's answer: the VPC and the agent's place (default: 10.1.1.5 in subnet a)."""
    return AwsFacts(
        state=vpc or state(), place=place or Place(address="10.1.1.5", subnet_id="subnet-a", az=f"{REGION}a")
    )
