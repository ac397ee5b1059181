"""The agent inside a VPC Lambda, against the emulator: its source is the function's subnets and security
groups (GetFunctionConfiguration), its AZ id comes from the Lambda metadata endpoint (a stand-in), and its
link-local address (what the kernel answers inside the sandbox) is never taken as its source. The emulator
creates functions with a VpcConfig without running them, which is all "where am I" needs.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from tests.aws import standins
from tests.aws.helpers import judged, topology
from tests.testbed.aws_seed import SeedFacts
from vpc_verify.aws import clients, whereami
from vpc_verify.aws.control_plane import AwsControlPlane
from vpc_verify.aws.whereami import Place

FUNCTION = "vpc-verify"


def _function(seeded: SeedFacts, subnets: list[str]) -> None:
    iam = clients.client("iam", "us-east-1")
    role = iam.create_role(RoleName="vpc-verify", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    clients.lambda_("us-east-1").create_function(
        FunctionName=FUNCTION,
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
        VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": [seeded.agent_security_group_id]},
    )


@pytest.fixture
def in_lambda(seeded: SeedFacts, monkeypatch: pytest.MonkeyPatch) -> SeedFacts:
    """The seeded VPC with the function in both subnets, and this process dressed as its sandbox: the Lambda
    environment, and a kernel whose only source address is link-local."""
    _function(seeded, list(seeded.subnets.values()))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
    monkeypatch.setattr(whereami, "source_address_towards", lambda address: "169.254.79.1")
    return seeded


def _read(ec2: Any, seeded: SeedFacts) -> Any:
    return AwsControlPlane(ec2=ec2).read(topology(seeded))


def test_the_function_stands_in_its_subnets_with_its_groups_never_its_link_local_address(
    ec2: Any, in_lambda: SeedFacts
) -> None:
    facts = _read(ec2, in_lambda)
    place = facts.place
    assert place.address is None and place.function_name == FUNCTION
    assert set(place.subnet_ids) == set(in_lambda.subnets.values()) and place.subnet_id is None
    assert place.security_group_ids == (in_lambda.agent_security_group_id,)
    # The agent's own groups are read too: their outbound rules decide its egress.
    assert in_lambda.agent_security_group_id in facts.state.security_groups


def test_the_az_id_from_the_metadata_endpoint_picks_the_subnet(
    ec2: Any, in_lambda: SeedFacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone_ids = {s["SubnetId"]: s["AvailabilityZoneId"] for s in ec2.describe_subnets()["Subnets"]}
    subnet_b = in_lambda.subnets["us-east-1b"]
    with standins.serving(standins.lambda_metadata(zone_ids[subnet_b])) as url:
        monkeypatch.setenv("AWS_LAMBDA_METADATA_API", url.removeprefix("http://"))
        monkeypatch.setenv("AWS_LAMBDA_METADATA_TOKEN", standins.TOKEN)
        place = _read(ec2, in_lambda).place
    assert (place.subnet_id, place.az_id, place.az) == (subnet_b, zone_ids[subnet_b], "us-east-1b")


def test_a_healthy_vpc_whose_endpoint_groups_admit_the_vpc_cidr_has_no_finding(ec2: Any, in_lambda: SeedFacts) -> None:
    """Done when: `check` run as a Lambda in a healthy VPC whose endpoint SGs admit the VPC CIDR has no finding."""
    topo = topology(in_lambda)
    facts = AwsControlPlane(ec2=ec2).read(topo)
    for name, e in in_lambda.interfaces.items():
        out = judged(topo, name, facts, answers=e.addresses, connected=e.addresses)
        assert out.findings == (), (name, [f.code for f in out.findings])
        assert out.aws is not None and out.aws.security_groups is not None
        assert out.aws.security_groups.verdict == "admits"
        assert out.aws.security_groups.source.precision == "subnet"


def test_a_link_local_address_given_by_hand_is_not_a_source(ec2: Any, seeded: SeedFacts) -> None:
    place = Place(address="169.254.79.1", subnet_id=seeded.agent_subnet_id, source="env")
    facts = AwsControlPlane(ec2=ec2, place=place).read(topology(seeded))
    assert facts.place.address is None and "link-local" in facts.place.notes[0]


def test_the_templates_environment_tells_the_place_without_the_lambda_api(
    ec2: Any, seeded: SeedFacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lambda/template.yaml sets VPC_VERIFY_SUBNET_IDS and VPC_VERIFY_SECURITY_GROUP_IDS: no function exists in
    the emulator here, so a GetFunctionConfiguration call would fail; none is made. One subnet is the place."""
    subnet = seeded.agent_subnet_id
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
    monkeypatch.setenv("VPC_VERIFY_SUBNET_IDS", subnet)
    monkeypatch.setenv("VPC_VERIFY_SECURITY_GROUP_IDS", seeded.agent_security_group_id)
    place = _read(ec2, seeded).place
    assert (place.subnet_id, place.az) == (subnet, "us-east-1a")
    assert not any("GetFunctionConfiguration" in note for note in place.notes)
    assert place.security_group_ids == (seeded.agent_security_group_id,)
