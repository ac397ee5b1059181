"""The comparison on synthetic VpcStates (no emulator): security group logic, names, discovery output."""

from __future__ import annotations

import ipaddress

import pytest

from vpc_verify.aws import discover
from vpc_verify.aws.compare import AwsView, regional_dns_name, zonal_dns_names
from vpc_verify.aws.state import Eni, PrefixList, Rule, SecurityGroup, ServiceInfo, Subnet, VpcEndpoint, VpcState
from vpc_verify.aws.whereami import Place
from vpc_verify.report import EndpointReport
from vpc_verify.topology import loads, parse

VPC = "vpc-0123456789abcdef0"
SQS = "com.amazonaws.eu-west-1.sqs"


def _state(rules: tuple[Rule, ...], *, dns_entries: tuple[str, ...] = (), private_dns: bool = True) -> VpcState:
    vpce = VpcEndpoint(
        id="vpce-0aaa",
        type="interface",
        service=SQS,
        state="available",
        private_dns_enabled=private_dns,
        subnet_ids=("subnet-a",),
        group_ids=("sg-vpce",),
        route_table_ids=(),
        eni_ids=("eni-a", "eni-b"),
        dns_entries=dns_entries,
    )
    return VpcState(
        region="eu-west-1",
        vpc_id=VPC,
        cidrs=(ipaddress.ip_network("10.1.0.0/16"),),
        dns_support=True,
        dns_hostnames=True,
        endpoints=(vpce,),
        enis={
            "eni-a": Eni("eni-a", "10.1.1.10", "eu-west-1a", "subnet-a"),
            "eni-b": Eni("eni-b", "10.1.2.10", "eu-west-1b", "subnet-b"),
        },
        security_groups={"sg-vpce": SecurityGroup("sg-vpce", "vpce", rules)},
        subnets={
            "subnet-a": Subnet("subnet-a", "10.1.1.0/24", "eu-west-1a", "euw1-az1"),
            "subnet-b": Subnet("subnet-b", "10.1.2.0/24", "eu-west-1b", "euw1-az2"),
        },
        prefix_lists={"pl-corp": PrefixList("pl-corp", "corp", ("10.1.0.0/20",))},
        services={
            SQS: ServiceInfo(
                SQS,
                ("interface",),
                ("sqs.eu-west-1.amazonaws.com",),
                ("sqs.eu-west-1.vpce.amazonaws.com",),
                ("eu-west-1a", "eu-west-1b"),
            )
        },
    )


def _view(state: VpcState, place: Place, azs: tuple[str, ...] = ()) -> AwsView:
    topo = parse(
        {
            "version": 1,
            "region": "eu-west-1",
            "vpc": {"id": VPC},
            "endpoints": [{"name": "sqs", "service": SQS, "azs": list(azs)}],
        }
    )
    return AwsView(state=state, topology=topo, place=place)


def _codes(view: AwsView) -> list[str]:
    e = view.topology.endpoint("sqs")
    report = EndpointReport(name="sqs", type="interface", service=SQS, findings=(), dns=(), addresses=())
    return [f.code for f in view.refine(e, report).findings]


def tcp(port_from: int, port_to: int, **source: str) -> Rule:
    return Rule(group_id="sg-vpce", protocol="tcp", from_port=port_from, to_port=port_to, **source)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rules", "place", "verdict"),
    [
        ((tcp(443, 443, cidr="10.1.0.0/16"),), Place(address="10.1.1.5"), "admits"),
        ((tcp(443, 443, cidr="10.1.9.0/24"),), Place(address="10.1.1.5"), "blocks"),
        ((tcp(80, 80, cidr="0.0.0.0/0"),), Place(address="10.1.1.5"), "blocks"),
        ((Rule("sg-vpce", "-1", None, None, cidr="10.1.1.0/24"),), Place(subnet_id="subnet-a"), "admits"),
        ((tcp(0, 65535, cidr="10.1.1.0/25"),), Place(subnet_id="subnet-a"), "unknown"),  # half the subnet
        ((tcp(443, 443, cidr="10.1.1.0/25"),), Place(), "unknown"),  # somewhere in the VPC
        ((tcp(443, 443, cidr="192.168.0.0/16"),), Place(), "blocks"),  # nowhere in the VPC
        ((tcp(443, 443, source_group_id="sg-agent"),), Place(), "unknown"),
        ((tcp(443, 443, source_group_id="sg-agent"),), Place(security_group_ids=("sg-agent",)), "admits"),
        ((tcp(443, 443, source_group_id="sg-other"),), Place(security_group_ids=("sg-agent",)), "blocks"),
        ((tcp(443, 443, prefix_list_id="pl-corp"),), Place(address="10.1.1.5"), "admits"),
        ((tcp(443, 443, prefix_list_id="pl-unknown"),), Place(address="10.1.1.5"), "unknown"),
        ((), Place(address="10.1.1.5"), "blocks"),
    ],
)
def test_security_verdict(rules: tuple[Rule, ...], place: Place, verdict: str) -> None:
    state = _state(rules)
    view = _view(state, place)
    assert view.security_verdict(state.endpoints[0], 443).verdict == verdict
    assert ("SECURITY_GROUP_BLOCKS" in _codes(view)) is (verdict == "blocks")


def test_az_ids_count_as_covered_and_missing_ones_are_found() -> None:
    view = _view(_state((tcp(443, 443, cidr="10.1.0.0/16"),)), Place(), azs=("euw1-az1", "eu-west-1b", "eu-west-1c"))
    assert _codes(view) == ["ENDPOINT_AZ_MISSING"]


def test_zonal_and_regional_names_are_built_when_dns_entries_are_fake() -> None:
    state = _state((), dns_entries=("vpce-0aaa-cba9f851.com.amazonaws.eu-west-1.sqs",))
    vpce = state.endpoints[0]
    assert regional_dns_name(state, vpce) == "vpce-0aaa.sqs.eu-west-1.vpce.amazonaws.com"
    assert zonal_dns_names(state, vpce) == {
        "eu-west-1a": "vpce-0aaa-eu-west-1a.sqs.eu-west-1.vpce.amazonaws.com",
        "eu-west-1b": "vpce-0aaa-eu-west-1b.sqs.eu-west-1.vpce.amazonaws.com",
    }


def test_real_dns_entries_are_kept() -> None:
    real = (
        "vpce-0aaa-1x2y.sqs.eu-west-1.vpce.amazonaws.com",
        "vpce-0aaa-1x2y-eu-west-1a.sqs.eu-west-1.vpce.amazonaws.com",
        "sqs.eu-west-1.amazonaws.com",
    )
    state = _state((), dns_entries=real)
    vpce = state.endpoints[0]
    assert regional_dns_name(state, vpce) == real[0]
    assert zonal_dns_names(state, vpce)["eu-west-1a"] == real[1]
    assert zonal_dns_names(state, vpce)["eu-west-1b"] == "vpce-0aaa-1x2y-eu-west-1b.sqs.eu-west-1.vpce.amazonaws.com"


def test_private_dns_off_is_not_flagged_when_the_topology_uses_vpce_names() -> None:
    state = _state((tcp(443, 443, cidr="10.1.0.0/16"),), private_dns=False)
    topo = parse(
        {
            "version": 1,
            "region": "eu-west-1",
            "vpc": {"id": VPC},
            "endpoints": [{"name": "sqs", "service": SQS, "dns_names": ["vpce-0aaa.sqs.eu-west-1.vpce.amazonaws.com"]}],
        }
    )
    view = AwsView(state=state, topology=topo, place=Place())
    report = EndpointReport(name="sqs", type="interface", service=SQS, findings=(), dns=(), addresses=())
    assert view.refine(topo.endpoint("sqs"), report).findings == ()
    assert "PRIVATE_DNS_DISABLED" in _codes(_view(state, Place()))


def test_discovered_partner_service_gets_a_name_and_its_vpce_dns_name() -> None:
    partner = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"
    vpce = VpcEndpoint(
        id="vpce-0bbb",
        type="interface",
        service=partner,
        state="available",
        private_dns_enabled=False,
        subnet_ids=("subnet-a",),
        group_ids=(),
        route_table_ids=(),
        eni_ids=("eni-a",),
        dns_entries=(),
    )
    base = _state(())
    state = VpcState(
        region=base.region,
        vpc_id=VPC,
        cidrs=base.cidrs,
        dns_support=True,
        dns_hostnames=True,
        endpoints=(vpce,),
        enis=base.enis,
        subnets=base.subnets,
    )
    topo = loads(discover.render(state))
    e = topo.endpoint("vpce-svc-0123456789abcdef0")
    assert e.dns_names == ("vpce-0bbb.vpce-svc-0123456789abcdef0.eu-west-1.vpce.amazonaws.com",)
    assert e.addresses == ("10.1.1.10",) and e.azs == ("eu-west-1a",)
