"""A Resource endpoint's resource configuration read for its ports (vpc-lattice GetResourceConfiguration): a
configuration that cannot be read (denied, another account's, the API unreachable) leaves its ports unknown, with
why, and the other configurations and the run standing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from tests.judge.builders import REGION, state, vpce
from vpc_verify.aws import lattice

ARN = f"arn:aws:vpc-lattice:{REGION}:123456789012:resourceconfiguration/rcfg-0123456789abcdef0"
DENIED = f"arn:aws:vpc-lattice:{REGION}:210987654321:resourceconfiguration/rcfg-0fedcba9876543210"


class Lattice:
    """A VPC Lattice client that answers one configuration and denies another."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_resource_configuration(self, resourceConfigurationIdentifier: str) -> dict[str, Any]:
        self.asked.append(resourceConfigurationIdentifier)
        if resourceConfigurationIdentifier == DENIED:
            error = {"Code": "AccessDeniedException", "Message": "User is not authorized to perform this action"}
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetResourceConfiguration")
        return {"arn": ARN, "id": "rcfg-0123456789abcdef0", "name": "db", "portRanges": ["5432", "8000-8010"]}


def resource_state() -> Any:
    endpoints = [
        replace(vpce(service=arn), id=f"vpce-0{i}", type="resource", resource_configuration_arn=arn)
        for i, arn in enumerate((ARN, DENIED))
    ]
    return state(endpoints=endpoints)


def test_each_configuration_is_read_and_a_denied_one_says_why() -> None:
    api = Lattice()
    got = lattice.with_resource_configurations(api, resource_state())
    assert sorted(api.asked) == sorted([ARN, DENIED])
    config = got.resource_configurations[ARN]
    assert config.port_ranges == ((5432, 5432), (8000, 8010)) and config.covers(8005) and not config.covers(443)
    assert set(got.resource_configuration_errors) == {DENIED}
    assert "AccessDenied" in got.resource_configuration_errors[DENIED]
    assert got.unread == ("vpc-lattice:GetResourceConfiguration",)  # a denied optional read: AWS_READ_PARTIAL


def test_without_a_client_every_configuration_is_unread_with_the_reason() -> None:
    got = lattice.with_resource_configurations(None, resource_state(), why_not="the VPC Lattice API is unreachable")
    assert got.resource_configurations == {}
    assert got.resource_configuration_errors == dict.fromkeys([ARN, DENIED], "the VPC Lattice API is unreachable")
    plain = state()
    assert lattice.with_resource_configurations(None, plain) is plain  # no Resource endpoint: nothing to read


def test_the_control_plane_reads_a_resource_endpoints_ports_from_the_emulator(ec2: Any) -> None:
    """With its VPC Lattice client, the run's control plane reads the configuration's port ranges; with an injected
    EC2 client alone, nothing is made behind the test's back and the ports are unknown, with why."""
    from tests.testbed import aws_seed
    from vpc_verify.aws import clients
    from vpc_verify.aws.control_plane import AwsControlPlane
    from vpc_verify.aws.whereami import Place
    from vpc_verify.topology import parse

    api = clients.client("vpc-lattice", "us-east-1")
    facts = aws_seed.seed(ec2, services=())
    (resource,) = [e for e in aws_seed.add_lattice({"ec2": ec2, "vpc-lattice": api}, facts).values() if e.port_ranges]
    topo = parse(
        {
            "version": 1,
            "region": "us-east-1",
            "vpc": {"id": facts.vpc_id},
            "endpoints": [{"name": "db", "type": "service", "service": resource.arn, "dns_names": [resource.dns_name]}],
        }
    )
    state = AwsControlPlane(ec2=ec2, place=Place(source="test"), lattice_client=api).read(topo).state
    assert state.resource_configurations[resource.arn].ports() == ["8443"]
    assert state.resource_configuration_errors == {} and state.unread == ()
    alone = AwsControlPlane(ec2=ec2, place=Place(source="test")).read(topo).state
    assert alone.resource_configurations == {}
    assert alone.resource_configuration_errors == {resource.arn: "no VPC Lattice client was given"}
