"""vpc_verify.fleet.derive on synthetic facts: what a class requires joined with what the VPC has, the AZ rule by
AZ id, private DNS not required, exemptions, and the notes that say what could not be done as asked."""

from __future__ import annotations

import ipaddress

from vpc_verify.aws.model import Eni, Subnet, VpcEndpoint, VpcState
from vpc_verify.aws.whereami import Place
from vpc_verify.fleet.derive import derive
from vpc_verify.fleet.policy import loads

SUBNETS = {
    "subnet-a": Subnet("subnet-a", "10.0.1.0/24", "us-east-1a", "use1-az6"),
    "subnet-b": Subnet("subnet-b", "10.0.2.0/24", "us-east-1b", "use1-az1"),
    "subnet-c": Subnet("subnet-c", "10.0.3.0/24", "us-east-1c", "use1-az2"),
}


def _state(*, sqs_private_dns: bool = True) -> VpcState:
    def vpce(vid: str, kind: str, service: str, enis: tuple[str, ...], private_dns: bool = True) -> VpcEndpoint:
        return VpcEndpoint(vid, kind, service, "available", private_dns, (), ("sg-1",), (), enis, ())

    return VpcState(
        region="us-east-1",
        vpc_id="vpc-0123456789abcdef0",
        cidrs=(ipaddress.ip_network("10.0.0.0/16"),),
        dns_support=True,
        dns_hostnames=True,
        endpoints=(
            vpce("vpce-0a", "interface", "com.amazonaws.us-east-1.sqs", ("eni-a",), sqs_private_dns),
            vpce("vpce-0c", "gateway", "com.amazonaws.us-east-1.s3", ()),
        ),
        enis={"eni-a": Eni("eni-a", "10.0.1.10", "us-east-1a", "subnet-a")},
        subnets=SUBNETS,
    )


POLICY = """\
version: 1
defaults: {timeout_ms: 1500}
classes:
  - name: prod
    match: {environment: prod}
    interface: [sqs, sts]
    gateway: [s3, dynamodb]
    azs: {min: 2, agent: true}
"""


def test_required_endpoints_joined_with_what_the_vpc_has() -> None:
    found = derive(loads(POLICY), _state(), {"environment": "prod"}, Place(az="us-east-1c"))
    required = {r.service.rsplit(".", 1)[-1]: r for r in found.required}
    assert {k: r.present for k, r in required.items()} == {"sqs": True, "sts": False, "s3": True, "dynamodb": False}
    # The agent's AZ (by id), then the AZ the endpoint covers, to reach two.
    assert required["sqs"].azs == ("use1-az2", "use1-az6")
    assert required["sts"].azs == ("use1-az1", "use1-az2")  # the agent's, then the VPC's by id
    names = {e.name: e for e in found.topology.endpoints}
    assert set(names) == {"sqs", "s3", "sts", "dynamodb"}
    assert names["sts"].dns_names == ("sts.us-east-1.amazonaws.com",) and names["sts"].type == "interface"
    assert names["dynamodb"].type == "gateway"
    assert all(e.timeout_s == 1.5 for e in found.topology.endpoints)  # the policy's defaults
    assert found.to_dict()["class"]["name"] == "prod" and not found.notes


def test_an_unknown_agent_az_and_too_few_azs_are_notes() -> None:
    policy = loads(POLICY.replace("{min: 2, agent: true}", "{min: 4, agent: true}"))
    found = derive(policy, _state(), {"environment": "prod"}, None)
    assert any("the agent's AZ is unknown" in n for n in found.notes)
    assert any("asks for 4 AZs but the VPC has subnets in 3" in n for n in found.notes)


def test_exemptions_and_unknown_exemptions() -> None:
    tags = {"environment": "prod", "vpc-verify:exempt": "sts,kms"}
    found = derive(loads(POLICY), _state(), tags, Place(az="us-east-1a"))
    assert found.exempt == ("sts", "kms")
    assert {r.service for r in found.required} == {
        "com.amazonaws.us-east-1.sqs",
        "com.amazonaws.us-east-1.s3",
        "com.amazonaws.us-east-1.dynamodb",
    }
    assert any("names services its class does not require" in n and "kms" in n for n in found.notes)


def test_private_dns_not_required_checks_the_vpce_name() -> None:
    policy = loads(POLICY.replace("    azs:", "    private_dns: false\n    azs:"))
    found = derive(policy, _state(sqs_private_dns=False), {"environment": "prod"}, Place(az="us-east-1a"))
    sqs = found.topology.endpoint("sqs")
    assert all(".vpce.amazonaws.com" in n for n in sqs.dns_names), sqs.dns_names


def test_no_matching_class_checks_what_is_there() -> None:
    found = derive(loads(POLICY), _state(), {"environment": "dev"}, None)
    assert found.vpc_class is None and found.required == ()
    assert {e.name for e in found.topology.endpoints} == {"sqs", "s3"}
    assert found.notes == (
        "no class of the policy matches the VPC's tags (environment=dev): its endpoints are checked as is",
    )


def test_a_required_service_with_a_wildcard_name_is_checked_under_it() -> None:
    """ecr.dkr's private DNS name is *.dkr.ecr.<r> (issue 12): the derived topology asks a label under it, which
    the loader accepts, and kinesis-streams its real name, kinesis.<r>."""
    policy = (
        "version: 1\nclasses:\n  - name: prod\n    match: {environment: prod}\n"
        "    interface: [ecr.dkr, kinesis-streams]\n"
    )
    found = derive(loads(policy), _state(), {"environment": "prod"}, Place(az="us-east-1a"))
    names = {e.name: e.dns_names for e in found.topology.endpoints}
    assert names["ecr-dkr"] == ("vpc-verify.dkr.ecr.us-east-1.amazonaws.com",)
    assert names["kinesis-streams"] == ("kinesis.us-east-1.amazonaws.com",)
