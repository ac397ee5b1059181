"""One test per control-plane finding code against the emulator: the code, and a hint naming the resource.

The emulator cannot express an endpoint whose state is not `available` (moto creates every endpoint
available): that case patches the DescribeVpcEndpoints response on the client (a botocore after-call hook).
"""

from __future__ import annotations

from typing import Any

from tests.aws.helpers import codes, empty_report, only, topology, view
from tests.testbed import aws_seed
from tests.testbed.aws_seed import SeedFacts
from vpc_verify.findings import Finding
from vpc_verify.report import AddressReport


def test_healthy_vpc_has_no_control_plane_findings(ec2: Any, seeded: SeedFacts) -> None:
    topo = topology(seeded)
    v = view(ec2, topo, subnet_id=seeded.agent_subnet_id)
    assert v.run_findings() == []
    for e in topo.endpoints:
        refined = v.refine(e, empty_report(topo, e.name))
        assert refined.findings == (), (e.name, codes(refined.findings))
        assert refined.aws is not None and refined.aws["vpc_endpoint_id"]
    sqs = seeded.interfaces["sqs"]
    assert dict(v.expected_addresses(topo.endpoint("sqs")) or {}) == sqs.addresses
    assert {str(c) for c in v.cidrs} == set(seeded.cidrs)


def test_endpoint_missing_names_the_vpc(ec2: Any, seeded: SeedFacts) -> None:
    topo = topology(
        seeded, extra=[{"name": "dynamodb", "type": "interface", "service": "com.amazonaws.us-east-1.dynamodb"}]
    )
    v = view(ec2, topo, subnet_id=seeded.agent_subnet_id)
    assert v.expected_addresses(topo.endpoint("dynamodb")) is None
    f = only(v.refine(topo.endpoint("dynamodb"), empty_report(topo, "dynamodb")).findings, "ENDPOINT_MISSING")
    assert seeded.vpc_id in f.hint and "create-vpc-endpoint" in f.hint
    assert f.evidence["vpc_id"] == seeded.vpc_id


def test_endpoint_not_available_names_the_endpoint(ec2: Any, seeded: SeedFacts) -> None:
    sqs = seeded.interfaces["sqs"]

    def pending(parsed: dict[str, Any], **_: Any) -> None:
        for e in parsed.get("VpcEndpoints", []):
            if e["VpcEndpointId"] == sqs.vpce_id:
                e["State"] = "pendingAcceptance"

    ec2.meta.events.register("after-call.ec2.DescribeVpcEndpoints", pending)
    topo = topology(seeded)
    v = view(ec2, topo, subnet_id=seeded.agent_subnet_id)
    f = only(v.refine(topo.endpoint("sqs"), empty_report(topo, "sqs")).findings, "ENDPOINT_NOT_AVAILABLE")
    assert sqs.vpce_id in f.hint and f.evidence["state"] == "pendingAcceptance"
    assert codes(v.refine(topo.endpoint("kms"), empty_report(topo, "kms")).findings) == []


def test_endpoint_unexpected_names_the_endpoint(ec2: Any, seeded: SeedFacts) -> None:
    topo = topology(seeded, drop=("kms",))
    v = view(ec2, topo, subnet_id=seeded.agent_subnet_id)
    f = only(v.run_findings(), "ENDPOINT_UNEXPECTED")
    assert seeded.interfaces["kms"].vpce_id in f.hint and f.severity == "warning"


def test_private_dns_disabled_names_the_endpoint(ec2: Any) -> None:
    facts = aws_seed.seed(ec2, private_dns={"sqs": False})
    topo = topology(facts)
    v = view(ec2, topo, subnet_id=facts.agent_subnet_id)
    sqs = facts.interfaces["sqs"]
    f = only(v.refine(topo.endpoint("sqs"), empty_report(topo, "sqs")).findings, "PRIVATE_DNS_DISABLED")
    assert f.hint == f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {sqs.vpce_id} --private-dns-enabled"
    assert codes(v.refine(topo.endpoint("kms"), empty_report(topo, "kms")).findings) == []


def test_dns_public_address_joined_with_private_dns_off(ec2: Any) -> None:
    facts = aws_seed.seed(ec2, private_dns={"sqs": False})
    topo = topology(facts)
    v = view(ec2, topo, subnet_id=facts.agent_subnet_id)
    sqs = facts.interfaces["sqs"]
    public = Finding.make(
        "DNS_PUBLIC_ADDRESS", "sqs", "sqs.us-east-1.amazonaws.com answered 203.0.113.7", address="203.0.113.7"
    )
    report = empty_report(topo, "sqs", findings=(public,))
    f = only(v.refine(topo.endpoint("sqs"), report).findings, "DNS_PUBLIC_ADDRESS")
    assert sqs.vpce_id in f.message and "private DNS is off" in f.message
    assert f"--vpc-endpoint-id {sqs.vpce_id} --private-dns-enabled" in f.hint
    assert f.evidence["PrivateDnsEnabled"] is False


def test_vpc_dns_support_disabled_names_the_vpc(ec2: Any) -> None:
    facts = aws_seed.seed(ec2, dns_support=False)
    f = only(view(ec2, topology(facts)).run_findings(), "VPC_DNS_SUPPORT_DISABLED")
    assert facts.vpc_id in f.hint and "--enable-dns-support" in f.hint


def test_vpc_dns_hostnames_disabled_names_the_vpc(ec2: Any) -> None:
    facts = aws_seed.seed(ec2, dns_hostnames=False)
    f = only(view(ec2, topology(facts)).run_findings(), "VPC_DNS_HOSTNAMES_DISABLED")
    assert facts.vpc_id in f.hint and "--enable-dns-hostnames" in f.hint
    assert f.evidence["enableDnsHostnames"] is False


def test_endpoint_az_missing_names_the_endpoint_and_a_subnet(ec2: Any, seeded: SeedFacts) -> None:
    subnet_c = ec2.create_subnet(VpcId=seeded.vpc_id, CidrBlock="10.0.3.0/24", AvailabilityZone="us-east-1c")["Subnet"][
        "SubnetId"
    ]
    topo = topology(seeded, azs=("us-east-1a", "us-east-1b", "us-east-1c"))
    v = view(ec2, topo, subnet_id=seeded.agent_subnet_id)
    kms = seeded.interfaces["kms"]
    f = only(v.refine(topo.endpoint("kms"), empty_report(topo, "kms")).findings, "ENDPOINT_AZ_MISSING")
    assert kms.vpce_id in f.hint and subnet_c in f.hint and "us-east-1c" in f.message


def test_security_group_blocks_names_the_group(ec2: Any, seeded: SeedFacts) -> None:
    sg = seeded.interfaces["sqs"].security_group_id
    ec2.revoke_security_group_ingress(
        GroupId=sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}],
    )
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.2.0/24"}]}],
    )
    topo = topology(seeded)
    v = view(ec2, topo, subnet_id=seeded.agent_subnet_id)  # the agent is in 10.0.1.0/24
    f = only(v.refine(topo.endpoint("sqs"), empty_report(topo, "sqs")).findings, "SECURITY_GROUP_BLOCKS")
    assert sg in f.hint and sg in f.message and "--port 443" in f.hint
    assert f.evidence["verdict"] == "blocks" and f.evidence["agent_source"] == ["10.0.1.0/24"]


def test_security_group_admits_the_agents_group(ec2: Any, seeded: SeedFacts) -> None:
    sg = seeded.interfaces["sqs"].security_group_id
    ec2.revoke_security_group_ingress(
        GroupId=sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}],
    )
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "UserIdGroupPairs": [{"GroupId": seeded.agent_security_group_id}],
            }
        ],
    )
    topo = topology(seeded)
    admitted = view(ec2, topo, subnet_id=seeded.agent_subnet_id, groups=(seeded.agent_security_group_id,))
    refined = admitted.refine(topo.endpoint("sqs"), empty_report(topo, "sqs"))
    assert "SECURITY_GROUP_BLOCKS" not in codes(refined.findings)
    other = view(ec2, topo, subnet_id=seeded.agent_subnet_id, groups=(seeded.interfaces["sqs"].security_group_id,))
    f = only(other.refine(topo.endpoint("sqs"), empty_report(topo, "sqs")).findings, "SECURITY_GROUP_BLOCKS")
    assert sg in f.hint


def test_tcp_timeout_joined_with_a_blocking_group(ec2: Any, seeded: SeedFacts) -> None:
    sqs = seeded.interfaces["sqs"]
    ec2.revoke_security_group_ingress(
        GroupId=sqs.security_group_id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}],
    )
    topo = topology(seeded)
    v = view(ec2, topo, subnet_id=seeded.agent_subnet_id)
    address = next(iter(sqs.addresses))
    timeout = Finding.make("TCP_TIMEOUT", "sqs", f"connect to {address}:443 timed out", address=address)
    f = only(v.refine(topo.endpoint("sqs"), empty_report(topo, "sqs", findings=(timeout,))).findings, "TCP_TIMEOUT")
    assert sqs.security_group_id in f.message and sqs.security_group_id in f.hint
    assert "authorize-security-group-ingress" in f.hint


def test_tcp_timeout_with_admitting_rules_points_at_nacls(ec2: Any, seeded: SeedFacts) -> None:
    sqs = seeded.interfaces["sqs"]
    topo = topology(seeded)
    v = view(ec2, topo, subnet_id=seeded.agent_subnet_id)
    address, az = next(iter(sqs.addresses.items()))
    timeout = Finding.make("TCP_TIMEOUT", "sqs", f"connect to {address}:443 timed out", address=address)
    f = only(v.refine(topo.endpoint("sqs"), empty_report(topo, "sqs", findings=(timeout,))).findings, "TCP_TIMEOUT")
    assert "network ACL" in f.hint and seeded.subnets[az] in f.hint
    assert sqs.security_group_id in f.message and f.evidence["verdict"] == "admits"


def test_gateway_route_missing_names_the_agents_route_table(ec2: Any, seeded: SeedFacts) -> None:
    topo = topology(seeded)
    # The agent in the second subnet uses the main route table, which has no route to the s3 prefix list.
    v = view(ec2, topo, subnet_id=seeded.subnets["us-east-1b"])
    f = only(v.refine(topo.endpoint("s3"), empty_report(topo, "s3")).findings, "GATEWAY_ROUTE_MISSING")
    assert seeded.main_route_table_id in f.hint and seeded.gateway.vpce_id in f.hint
    assert f.evidence["prefix_list_id"] == seeded.gateway.prefix_list_id


def test_gateway_route_missing_without_any_route_table(ec2: Any) -> None:
    facts = aws_seed.seed(ec2, gateway_route=False)
    topo = topology(facts)
    f = only(view(ec2, topo).refine(topo.endpoint("s3"), empty_report(topo, "s3")).findings, "GATEWAY_ROUTE_MISSING")
    assert facts.gateway.vpce_id in f.hint


def test_gateway_timeout_points_at_the_route_not_a_security_group(ec2: Any, seeded: SeedFacts) -> None:
    gw = seeded.gateway
    topo = topology(seeded)
    timeout = Finding.make("TCP_TIMEOUT", "s3", "connect to 52.216.0.10:443 timed out", address="52.216.0.10")
    report = empty_report(topo, "s3", findings=(timeout,))
    # From the second subnet (the main table, no route): the missing route is the cause, and its fix.
    routeless = only(
        view(ec2, topo, subnet_id=seeded.subnets["us-east-1b"]).refine(topo.endpoint("s3"), report).findings,
        "TCP_TIMEOUT",
    )
    assert f"route table {seeded.main_route_table_id}" in routeless.message and gw.vpce_id in routeless.message
    assert routeless.hint.endswith(f"--vpc-endpoint-id {gw.vpce_id} --add-route-table-ids {seeded.main_route_table_id}")
    assert routeless.evidence["route_via_endpoint"] is False
    # From the first subnet (routed): the agent's egress and its subnet's ACL, never the endpoint's group.
    routed = only(
        view(ec2, topo, subnet_id=seeded.agent_subnet_id).refine(topo.endpoint("s3"), report).findings, "TCP_TIMEOUT"
    )
    assert f"Route table {gw.route_table_id} routes {gw.prefix_list_id} via {gw.vpce_id}" in routed.hint
    assert f"network ACL of subnet {seeded.agent_subnet_id}" in routed.hint and "egress" in routed.hint
    assert "endpoint's security group" not in routed.hint and routed.evidence["route_via_endpoint"] is True


def test_gateway_address_not_in_prefix_list_names_the_list(ec2: Any, seeded: SeedFacts) -> None:
    topo = topology(seeded)
    v = view(ec2, topo, subnet_id=seeded.agent_subnet_id)
    inside = AddressReport(address="52.216.1.1", names=("s3.us-east-1.amazonaws.com",))
    outside = AddressReport(address="203.0.113.9", names=("s3.us-east-1.amazonaws.com",))
    refined = v.refine(topo.endpoint("s3"), empty_report(topo, "s3", addresses=(inside, outside)))
    f = only(refined.findings, "GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST")
    assert f.address == "203.0.113.9" and seeded.gateway.prefix_list_id in f.hint
