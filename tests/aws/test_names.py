"""Endpoint DNS names built as AWS builds them, and discovery of a partner service."""

from __future__ import annotations

from tests.judge.builders import state, vpce
from vpc_verify.aws import discover
from vpc_verify.aws.model import VpcEndpoint, VpcState
from vpc_verify.aws.names import regional_dns_name, zonal_dns_names
from vpc_verify.topology import loads


def test_zonal_and_regional_names_are_built_when_dns_entries_are_fake() -> None:
    vpc = state(endpoints=[vpce(dns_entries=("vpce-0aaa-cba9f851.com.amazonaws.eu-west-1.sqs",))])
    e = vpc.endpoints[0]
    assert regional_dns_name(vpc, e) == "vpce-0aaa.sqs.eu-west-1.vpce.amazonaws.com"
    assert zonal_dns_names(vpc, e) == {
        "eu-west-1a": "vpce-0aaa-eu-west-1a.sqs.eu-west-1.vpce.amazonaws.com",
        "eu-west-1b": "vpce-0aaa-eu-west-1b.sqs.eu-west-1.vpce.amazonaws.com",
    }


def test_real_dns_entries_are_kept() -> None:
    real = (
        "vpce-0aaa-1x2y.sqs.eu-west-1.vpce.amazonaws.com",
        "vpce-0aaa-1x2y-eu-west-1a.sqs.eu-west-1.vpce.amazonaws.com",
        "sqs.eu-west-1.amazonaws.com",
    )
    vpc = state(endpoints=[vpce(dns_entries=real)])
    e = vpc.endpoints[0]
    assert regional_dns_name(vpc, e) == real[0]
    assert zonal_dns_names(vpc, e)["eu-west-1a"] == real[1]
    assert zonal_dns_names(vpc, e)["eu-west-1b"] == "vpce-0aaa-1x2y-eu-west-1b.sqs.eu-west-1.vpce.amazonaws.com"


def test_discovered_partner_service_gets_a_name_and_its_vpce_dns_name() -> None:
    partner = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"
    base = state()
    e = VpcEndpoint(
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
    vpc = VpcState(
        region=base.region,
        vpc_id=base.vpc_id,
        cidrs=base.cidrs,
        dns_support=True,
        dns_hostnames=True,
        endpoints=(e,),
        enis=base.enis,
        subnets=base.subnets,
    )
    text = discover.render(vpc)
    topo = loads(text)
    found = topo.endpoint("vpce-svc-0123456789abcdef0")
    assert found.dns_names == ("vpce-0bbb.vpce-svc-0123456789abcdef0.eu-west-1.vpce.amazonaws.com",)
    # AZ ids, the same zones in every account; this account's name as a comment.
    assert found.addresses == ("10.1.1.10",) and found.azs == ("euw1-az1",)
    assert "- euw1-az1  # eu-west-1a" in text
