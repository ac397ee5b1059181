"""What a real VPC has that the testbed VPC lacks, seeded in the emulator through boto3 here: network ACLs that
drop, an Amazon-provided IPv6 /56 with dual-stack endpoint ENIs, AZ ids that differ from names, optional reads
the role may not make, and static answers kept between runs.

Emulator gaps worked around here: endpoint ENIs get random 10.x addresses (their /16 is associated with the
VPC, as tests/testbed/aws_seed.py does); CreateVpcEndpoint drops IpAddressType and gives the ENIs no IPv6
address (AssignIpv6Addresses gives them one); the default network ACL of an IPv6 VPC lacks the `::/0` entries
AWS adds (added here); AccessDenied is answered by a botocore before-call hook with AWS's error.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pytest

from tests.aws.helpers import codes, judged, only, read, run_findings, topology
from tests.testbed.aws_seed import SeedFacts
from vpc_verify.aws.control_plane import AwsControlPlane
from vpc_verify.findings import Code
from vpc_verify.topology import parse


def _counting(ec2: Any, operation: str) -> list[str]:
    calls: list[str] = []
    ec2.meta.events.register(f"before-call.ec2.{operation}", lambda **kw: calls.append(operation))
    return calls


class _Denied:
    status_code = 403


def _deny(ec2: Any, operation: str) -> None:
    def answer(**kwargs: Any) -> tuple[Any, dict[str, Any]]:
        error = {"Code": "UnauthorizedOperation", "Message": "You are not authorized to perform this operation."}
        return _Denied(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}

    ec2.meta.events.register(f"before-call.ec2.{operation}", answer)


# ------------------------------------------------------------------------------------------- network ACLs


def test_a_network_acl_that_drops_is_read_and_named(ec2: Any, seeded: SeedFacts) -> None:
    """Subnet b gets its own ACL: inbound 443 from the VPC, but no outbound entry for the return traffic."""
    vpc = seeded.vpc_id
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    subnet_b = seeded.subnets["us-east-1b"]
    default = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"]
    assoc = next(a for x in default for a in x["Associations"] if a["SubnetId"] == subnet_b)
    ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=acl)
    for cidr in seeded.cidrs:
        ec2.create_network_acl_entry(
            NetworkAclId=acl,
            RuleNumber=100 + seeded.cidrs.index(cidr),
            Protocol="6",
            RuleAction="allow",
            Egress=False,
            CidrBlock=cidr,
            PortRange={"From": 443, "To": 443},
        )
    topo = topology(seeded)
    aws = read(ec2, topo, subnet_id=seeded.agent_subnet_id)
    sqs = seeded.interfaces["sqs"]
    address = next(a for a, az in sqs.addresses.items() if az == "us-east-1b")
    out = judged(topo, "sqs", aws, answers=[address], timeouts=[address])
    f = only(out.findings, Code.NACL_BLOCKS)
    assert f.evidence["network_acl_id"] == acl and f.evidence["subnet_id"] == subnet_b
    assert f.evidence["direction"] == "outbound" and f.evidence["leg"] == "return" and f.evidence["rule"] is None
    assert f"create-network-acl-entry --network-acl-id {acl} --egress" in f.hint
    # The agent in subnet b itself: both ends share a subnet, no ACL is on the way.
    same = judged(topo, "sqs", read(ec2, topo, subnet_id=subnet_b), answers=[address], timeouts=[address])
    assert Code.NACL_BLOCKS not in {x.code for x in same.findings}


def test_a_denied_optional_read_is_a_warning_not_a_failure(ec2: Any, seeded: SeedFacts) -> None:
    """A role granted before vpc-verify read network ACLs keeps working: the ACL verdicts are unknown."""
    _deny(ec2, "DescribeNetworkAcls")
    topo = topology(seeded)
    aws = read(ec2, topo, subnet_id=seeded.agent_subnet_id)
    assert aws.state.network_acls == () and aws.state.unread == ("ec2:DescribeNetworkAcls",)
    f = only(run_findings(topo, aws), Code.AWS_READ_PARTIAL)
    assert f.severity == "warning" and f.evidence["actions"] == ["ec2:DescribeNetworkAcls"]


# ---------------------------------------------------------------------------------------- static answers


def test_static_service_answers_are_read_once_across_runs(ec2: Any, seeded: SeedFacts) -> None:
    """`check --wait` runs every few seconds: DescribeVpcEndpointServices (one call per service) and
    DescribeAvailabilityZones are asked once, the rest (which can drift) every run."""
    from vpc_verify.aws.cache import StaticCache

    services = _counting(ec2, "DescribeVpcEndpointServices")
    zones = _counting(ec2, "DescribeAvailabilityZones")
    endpoints = _counting(ec2, "DescribeVpcEndpoints")
    plane = AwsControlPlane(ec2=ec2, subnet_id=seeded.agent_subnet_id, cache=StaticCache())
    topo = topology(seeded)
    for _ in range(3):
        plane.read(topo)
    assert len(services) == 3 and len(zones) == 1  # sqs, kms, s3 once; the zones once
    assert len(endpoints) == 3


# ------------------------------------------------------------------------------------------------ AZ ids


def test_the_agents_az_is_compared_by_id_given_either(ec2: Any, seeded: SeedFacts) -> None:
    zone_ids = {z["ZoneName"]: z["ZoneId"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}
    topo = topology(seeded)
    by_name = AwsControlPlane(ec2=ec2, az="us-east-1b").read(topo)
    by_id = AwsControlPlane(ec2=ec2, az=zone_ids["us-east-1b"]).read(topo)
    assert (by_name.place.az, by_name.place.az_id) == ("us-east-1b", zone_ids["us-east-1b"])
    assert (by_id.place.az, by_id.place.az_id) == ("us-east-1b", zone_ids["us-east-1b"])
    sqs = judged(topo, "sqs", by_id)
    assert sqs.aws is not None
    relation = {e.az: e.zone for e in sqs.aws.network_interfaces}
    assert relation == {"us-east-1a": "cross-az", "us-east-1b": "az-local"}
    # A zone with no subnet of the VPC is named through DescribeAvailabilityZones.
    far = AwsControlPlane(ec2=ec2, az="us-east-1c").read(topo)
    assert far.place.az_id == zone_ids["us-east-1c"]
    f = only(judged(topo, "sqs", far).findings, Code.ENDPOINT_NOT_IN_AGENT_AZ)
    assert f.evidence["agent_az_id"] == zone_ids["us-east-1c"] and f.severity == "warning"


def test_a_topology_of_az_ids_checks_the_right_zones(ec2: Any, seeded: SeedFacts) -> None:
    zone_ids = {z["ZoneName"]: z["ZoneId"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}
    ids = (zone_ids["us-east-1a"], zone_ids["us-east-1b"])
    topo = topology(seeded, azs=ids)
    aws = read(ec2, topo, subnet_id=seeded.agent_subnet_id)
    assert codes(judged(topo, "sqs", aws).findings) == []
    missing = topology(seeded, azs=(*ids, zone_ids["us-east-1c"]))
    f = only(judged(missing, "sqs", read(ec2, missing)).findings, Code.ENDPOINT_AZ_MISSING)
    assert f.evidence["az"] == zone_ids["us-east-1c"]


# ------------------------------------------------------------------------------------------ dual stack


@dataclass(frozen=True, slots=True)
class DualStack:
    vpc_id: str
    cidrs: tuple[str, ...]
    v6: str
    subnet: str
    addresses: tuple[str, ...]  # the ENI's IPv4 and IPv6 addresses


@pytest.fixture
def dual_stack(ec2: Any) -> DualStack:
    """A VPC with an Amazon-provided /56 (global unicast), a dual-stack subnet, and a dual-stack sqs endpoint
    whose group admits the VPC's IPv4 and IPv6 CIDRs; its default ACL has AWS's `::/0` entries."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]["VpcId"]
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        ec2.modify_vpc_attribute(VpcId=vpc, **{attribute: {"Value": True}})
    v6 = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    subnet64 = list(ipaddress.ip_network(v6).subnets(new_prefix=64))[1]
    subnet = ec2.create_subnet(
        VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a", Ipv6CidrBlock=str(subnet64)
    )
    subnet_id = subnet["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="vpce", Description="vpce", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
                "Ipv6Ranges": [{"CidrIpv6": v6}],
            }
        ],
    )
    e = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.sqs",
        VpcEndpointType="Interface",
        SubnetIds=[subnet_id],
        SecurityGroupIds=[sg],
        PrivateDnsEnabled=True,
        IpAddressType="dualstack",
    )["VpcEndpoint"]
    eni = e["NetworkInterfaceIds"][0]
    described = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    # The emulator's launcher gives a dual-stack endpoint's ENI an address of its subnet's /64, as AWS does.
    given = [a["Ipv6Address"] for a in described.get("Ipv6Addresses") or []]
    v6_address = (
        given[0]
        if given
        else ec2.assign_ipv6_addresses(NetworkInterfaceId=eni, Ipv6Addresses=[str(subnet64[16])])[
            "AssignedIpv6Addresses"
        ][0]
    )
    v4_address = described["PrivateIpAddress"]
    block = str(ipaddress.ip_network(f"{v4_address}/16", strict=False))
    if block != "10.0.0.0/16":
        ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock=block)
    acl = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"][0]["NetworkAclId"]
    for egress in (False, True):
        ec2.create_network_acl_entry(
            NetworkAclId=acl, RuleNumber=101, Protocol="-1", RuleAction="allow", Egress=egress, Ipv6CidrBlock="::/0"
        )
    return DualStack(vpc, ("10.0.0.0/16", block), v6, subnet_id, (v4_address, v6_address))


def _dual_topology(d: DualStack) -> Any:
    endpoint = {"name": "sqs", "service": "com.amazonaws.us-east-1.sqs", "ip_address_type": "dualstack"}
    return parse({"version": 1, "region": "us-east-1", "vpc": {"id": d.vpc_id}, "endpoints": [endpoint]})


def test_a_dual_stack_endpoint_inside_the_vpcs_slash_56_is_healthy(ec2: Any, dual_stack: DualStack) -> None:
    """Done when: a dual-stack endpoint inside the VPC's /56 (global unicast) is healthy."""
    topo = _dual_topology(dual_stack)
    aws = read(ec2, topo, subnet_id=dual_stack.subnet)
    out = judged(topo, "sqs", aws, answers=dual_stack.addresses, connected=dual_stack.addresses)
    assert out.findings == (), codes(out.findings)
    assert {a.address: (a.private, a.in_vpc, a.expected) for a in out.addresses} == {
        a: (True, True, True) for a in dual_stack.addresses
    }
    assert ipaddress.ip_address(dual_stack.addresses[1]).is_global  # not a ULA: ours by membership


def test_an_ipv6_probe_is_judged_by_ipv6_rules_in_the_emulator(ec2: Any, dual_stack: DualStack) -> None:
    """The group's IPv6 rule is revoked: the IPv6 connect times out and the finding is about IPv6."""
    sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["vpce"]}])["SecurityGroups"]
    group = next(g for g in sg if g["VpcId"] == dual_stack.vpc_id)["GroupId"]
    ec2.revoke_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": dual_stack.v6}]}
        ],
    )
    topo = _dual_topology(dual_stack)
    aws = read(ec2, topo, subnet_id=dual_stack.subnet)
    v4, v6 = dual_stack.addresses
    out = judged(topo, "sqs", aws, answers=dual_stack.addresses, connected=[v4], timeouts=[v6])
    f = only(out.findings, Code.SECURITY_GROUP_BLOCKS)
    assert f.evidence["address_family"] == 6 and f.evidence["timed_out"] == [v6]
    assert sorted(codes(out.findings)) == ["SECURITY_GROUP_BLOCKS", "TCP_TIMEOUT"]
