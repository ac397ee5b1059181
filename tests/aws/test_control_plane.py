"""One test per control-plane finding code against the emulator: the code, and a hint naming the resource.

The emulator cannot express an endpoint whose state is not `available` (moto creates every endpoint
available): that case patches the DescribeVpcEndpoints response on the client (a botocore after-call hook).
A security-group verdict becomes a finding only with a probe that agrees (a connect that timed out): the
packets outrank the configuration.
"""

from __future__ import annotations

from typing import Any

from tests.aws.helpers import codes, judged, only, read, run_findings, topology
from tests.testbed import aws_seed
from tests.testbed.aws_seed import SeedFacts
from vpc_verify.findings import Code

REVOKE_VPC_CIDR = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]


def test_healthy_vpc_has_no_control_plane_findings(ec2: Any, seeded: SeedFacts) -> None:
    topo = topology(seeded)
    aws = read(ec2, topo, subnet_id=seeded.agent_subnet_id)
    assert run_findings(topo, aws) == ()
    for e in topo.endpoints:
        out = judged(topo, e.name, aws)
        assert out.findings == (), (e.name, codes(out.findings))
        assert out.aws is not None and out.aws.vpc_endpoint_id
    sqs = judged(
        topo, "sqs", aws, answers=seeded.interfaces["sqs"].addresses, connected=seeded.interfaces["sqs"].addresses
    )
    assert {a.address: a.az for a in sqs.addresses} == seeded.interfaces["sqs"].addresses
    assert sqs.healthy and all(a.expected for a in sqs.addresses)
    assert {str(c) for c in aws.state.cidrs} == set(seeded.cidrs)


def test_endpoint_missing_names_the_vpc(ec2: Any, seeded: SeedFacts) -> None:
    topo = topology(
        seeded, extra=[{"name": "dynamodb", "type": "interface", "service": "com.amazonaws.us-east-1.dynamodb"}]
    )
    aws = read(ec2, topo, subnet_id=seeded.agent_subnet_id)
    f = only(judged(topo, "dynamodb", aws).findings, Code.ENDPOINT_MISSING)
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
    aws = read(ec2, topo, subnet_id=seeded.agent_subnet_id)
    f = only(judged(topo, "sqs", aws).findings, Code.ENDPOINT_NOT_AVAILABLE)
    assert sqs.vpce_id in f.hint and f.evidence["state"] == "pendingAcceptance"
    assert codes(judged(topo, "kms", aws).findings) == []


def test_endpoint_unexpected_names_the_endpoint(ec2: Any, seeded: SeedFacts) -> None:
    topo = topology(seeded, drop=("kms",))
    f = only(run_findings(topo, read(ec2, topo, subnet_id=seeded.agent_subnet_id)), Code.ENDPOINT_UNEXPECTED)
    assert seeded.interfaces["kms"].vpce_id in f.hint and f.severity == "warning"


def test_private_dns_disabled_names_the_endpoint(ec2: Any) -> None:
    facts = aws_seed.seed(ec2, private_dns={"sqs": False})
    topo = topology(facts)
    aws = read(ec2, topo, subnet_id=facts.agent_subnet_id)
    sqs = facts.interfaces["sqs"]
    f = only(judged(topo, "sqs", aws).findings, Code.PRIVATE_DNS_DISABLED)
    assert f.hint == f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {sqs.vpce_id} --private-dns-enabled"
    assert codes(judged(topo, "kms", aws).findings) == []


def test_dns_public_address_joined_with_private_dns_off(ec2: Any) -> None:
    facts = aws_seed.seed(ec2, private_dns={"sqs": False})
    topo = topology(facts)
    aws = read(ec2, topo, subnet_id=facts.agent_subnet_id)
    sqs = facts.interfaces["sqs"]
    f = only(judged(topo, "sqs", aws, answers=["203.0.113.7"]).findings, Code.DNS_PUBLIC_ADDRESS)
    assert sqs.vpce_id in f.message and "private DNS is off" in f.message
    assert f"--vpc-endpoint-id {sqs.vpce_id} --private-dns-enabled" in f.hint
    assert f.evidence["PrivateDnsEnabled"] is False


def test_vpc_dns_support_disabled_names_the_vpc(ec2: Any) -> None:
    facts = aws_seed.seed(ec2, dns_support=False)
    topo = topology(facts)
    f = only(run_findings(topo, read(ec2, topo)), Code.VPC_DNS_SUPPORT_DISABLED)
    assert facts.vpc_id in f.hint and "--enable-dns-support" in f.hint


def test_vpc_dns_hostnames_disabled_names_the_vpc(ec2: Any) -> None:
    facts = aws_seed.seed(ec2, dns_hostnames=False)
    topo = topology(facts)
    f = only(run_findings(topo, read(ec2, topo)), Code.VPC_DNS_HOSTNAMES_DISABLED)
    assert facts.vpc_id in f.hint and "--enable-dns-hostnames" in f.hint
    assert f.evidence["enableDnsHostnames"] is False


def test_endpoint_az_missing_names_the_endpoint_and_a_subnet(ec2: Any, seeded: SeedFacts) -> None:
    subnet_c = ec2.create_subnet(VpcId=seeded.vpc_id, CidrBlock="10.0.3.0/24", AvailabilityZone="us-east-1c")["Subnet"][
        "SubnetId"
    ]
    topo = topology(seeded, azs=("us-east-1a", "us-east-1b", "us-east-1c"))
    aws = read(ec2, topo, subnet_id=seeded.agent_subnet_id)
    kms = seeded.interfaces["kms"]
    f = only(judged(topo, "kms", aws).findings, Code.ENDPOINT_AZ_MISSING)
    assert kms.vpce_id in f.hint and subnet_c in f.hint and "us-east-1c" in f.message


def test_security_group_blocks_names_the_group(ec2: Any, seeded: SeedFacts) -> None:
    sqs = seeded.interfaces["sqs"]
    sg = sqs.security_group_id
    ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=REVOKE_VPC_CIDR)
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.2.0/24"}]}],
    )
    topo = topology(seeded)
    aws = read(ec2, topo, subnet_id=seeded.agent_subnet_id)  # the agent is in 10.0.1.0/24
    dropped = judged(topo, "sqs", aws, answers=sqs.addresses, timeouts=sqs.addresses)
    f = only(dropped.findings, Code.SECURITY_GROUP_BLOCKS)
    assert sg in f.hint and sg in f.message and "--port 443" in f.hint
    assert f.evidence["verdict"] == "blocks" and f.evidence["agent_source"] == ["10.0.1.0/24"]
    # Without a probe that agrees, the configuration alone makes no error.
    assert Code.SECURITY_GROUP_BLOCKS not in codes(judged(topo, "sqs", aws).findings)


def test_security_group_admits_the_agents_group(ec2: Any, seeded: SeedFacts) -> None:
    sqs = seeded.interfaces["sqs"]
    sg = sqs.security_group_id
    ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=REVOKE_VPC_CIDR)
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
    admitted = read(ec2, topo, subnet_id=seeded.agent_subnet_id, groups=(seeded.agent_security_group_id,))
    out = judged(topo, "sqs", admitted, answers=sqs.addresses, timeouts=sqs.addresses)
    assert Code.SECURITY_GROUP_BLOCKS not in codes(out.findings)
    assert out.aws is not None and out.aws.security_groups is not None
    assert out.aws.security_groups.verdict == "admits"
    other = read(ec2, topo, subnet_id=seeded.agent_subnet_id, groups=(sg,))
    f = only(
        judged(topo, "sqs", other, answers=sqs.addresses, timeouts=sqs.addresses).findings, Code.SECURITY_GROUP_BLOCKS
    )
    assert sg in f.hint


def test_tcp_timeout_joined_with_a_blocking_group(ec2: Any, seeded: SeedFacts) -> None:
    sqs = seeded.interfaces["sqs"]
    ec2.revoke_security_group_ingress(GroupId=sqs.security_group_id, IpPermissions=REVOKE_VPC_CIDR)
    topo = topology(seeded)
    aws = read(ec2, topo, subnet_id=seeded.agent_subnet_id)
    address = next(iter(sqs.addresses))
    out = judged(topo, "sqs", aws, answers=[address], timeouts=[address])
    f = only(out.findings, Code.TCP_TIMEOUT)
    assert sqs.security_group_id in f.message and sqs.security_group_id in f.hint
    assert "authorize-security-group-ingress" in f.hint


def test_tcp_timeout_with_admitting_rules_points_at_nacls(ec2: Any, seeded: SeedFacts) -> None:
    sqs = seeded.interfaces["sqs"]
    topo = topology(seeded)
    aws = read(ec2, topo, subnet_id=seeded.agent_subnet_id)
    address, az = next(iter(sqs.addresses.items()))
    f = only(judged(topo, "sqs", aws, answers=[address], timeouts=[address]).findings, Code.TCP_TIMEOUT)
    assert sqs.security_group_id in f.message and f.evidence["verdict"] == "admits"
    # The network ACLs are read too (the default ACL admits everything, or both ends share a subnet), so the
    # drop is past the configuration vpc-verify can read: the route, an appliance, the service.
    assert "network ACL" in f.message and "route table" in f.hint and az


def test_gateway_route_missing_names_the_agents_route_table(ec2: Any, seeded: SeedFacts) -> None:
    topo = topology(seeded)
    # The agent in the second subnet uses the main route table, which has no route to the s3 prefix list.
    aws = read(ec2, topo, subnet_id=seeded.subnets["us-east-1b"])
    f = only(judged(topo, "s3", aws).findings, Code.GATEWAY_ROUTE_MISSING)
    assert seeded.main_route_table_id in f.hint and seeded.gateway.vpce_id in f.hint
    assert f.evidence["prefix_list_id"] == seeded.gateway.prefix_list_id


def test_gateway_route_missing_without_any_route_table(ec2: Any) -> None:
    facts = aws_seed.seed(ec2, gateway_route=False)
    topo = topology(facts)
    f = only(judged(topo, "s3", read(ec2, topo)).findings, Code.GATEWAY_ROUTE_MISSING)
    assert facts.gateway.vpce_id in f.hint


def test_gateway_timeout_points_at_the_route_not_a_security_group(ec2: Any, seeded: SeedFacts) -> None:
    gw = seeded.gateway
    topo = topology(seeded)
    dropped = {"answers": ["52.216.0.10"], "timeouts": ["52.216.0.10"]}
    # From the second subnet (the main table, no route): the missing route is the cause, and its fix.
    routeless = only(
        judged(topo, "s3", read(ec2, topo, subnet_id=seeded.subnets["us-east-1b"]), **dropped).findings,
        Code.TCP_TIMEOUT,
    )
    assert f"route table {seeded.main_route_table_id}" in routeless.message and gw.vpce_id in routeless.message
    assert routeless.hint.endswith(f"--vpc-endpoint-id {gw.vpce_id} --add-route-table-ids {seeded.main_route_table_id}")
    assert routeless.evidence["route_via_endpoint"] is False
    # From the first subnet (routed): the agent's egress and its subnet's ACL, never the endpoint's group.
    routed = only(
        judged(topo, "s3", read(ec2, topo, subnet_id=seeded.agent_subnet_id), **dropped).findings, Code.TCP_TIMEOUT
    )
    assert f"Route table {gw.route_table_id} routes {gw.prefix_list_id} via {gw.vpce_id}" in routed.hint
    assert f"network ACL of subnet {seeded.agent_subnet_id}" in routed.hint and "egress" in routed.hint
    assert "endpoint's security group" not in routed.hint and routed.evidence["route_via_endpoint"] is True


def test_gateway_address_not_in_prefix_list_names_the_list(ec2: Any, seeded: SeedFacts) -> None:
    topo = topology(seeded)
    aws = read(ec2, topo, subnet_id=seeded.agent_subnet_id)
    out = judged(topo, "s3", aws, answers=["52.216.1.1", "203.0.113.9"])
    f = only(out.findings, Code.GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST)
    assert f.address == "203.0.113.9" and seeded.gateway.prefix_list_id in f.hint
