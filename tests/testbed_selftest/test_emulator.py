"""The patched emulator answers as AWS does where moto 5.2.5 does not (tests/testbed/emulator_*.py)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.testbed import emulator

REGION = "us-east-1"


@pytest.fixture
def c(aws: emulator.Emulator) -> dict[str, Any]:
    import boto3

    return {n: boto3.client(n, region_name=REGION) for n in ("ec2", "lambda", "iam", "route53resolver")}


def vpc_with_subnets(ec2: Any, *, ipv6: bool = False) -> tuple[str, list[str], str]:
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16", AmazonProvidedIpv6CidrBlock=ipv6)["Vpc"]
    sixty_fours = []
    if ipv6:
        block = vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
        sixty_fours = [str(n) for n in list(ipaddress.ip_network(block).subnets(new_prefix=64))[1:3]]
    subnets = []
    for i, az in enumerate(("us-east-1a", "us-east-1b")):
        kwargs = {"Ipv6CidrBlock": sixty_fours[i]} if ipv6 else {}
        subnets.append(
            ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=f"10.9.{i + 3}.0/24", AvailabilityZone=az, **kwargs)[
                "Subnet"
            ]["SubnetId"]
        )
    sg = ec2.create_security_group(GroupName="e", Description="e", VpcId=vpc["VpcId"])["GroupId"]
    return vpc["VpcId"], subnets, sg


def interface(ec2: Any, vpc: str, subnets: list[str], sg: str, svc: str = "sqs", **kwargs: Any) -> dict[str, Any]:
    return dict(
        ec2.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName=f"com.amazonaws.{REGION}.{svc}",
            VpcEndpointType="Interface",
            SubnetIds=subnets,
            SecurityGroupIds=[sg],
            **kwargs,
        )["VpcEndpoint"]
    )


def enis(ec2: Any, endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    return list(
        ec2.describe_network_interfaces(NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])["NetworkInterfaces"]
    )


def test_the_patches_are_in_force(aws: emulator.Emulator) -> None:
    assert {"vpc-endpoint-enis", "vpc-endpoint-dns-entries", "dns-firewall"} <= set(aws.patches())


def test_endpoint_enis_live_in_their_subnets_with_the_endpoints_groups(c: dict[str, Any]) -> None:
    ec2 = c["ec2"]
    vpc, subnets, sg = vpc_with_subnets(ec2)
    cidrs = {s["SubnetId"]: s["CidrBlock"] for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]}
    for e in [interface(ec2, vpc, subnets, sg, svc) for svc in ("sqs", "kms", "sts")]:
        for n in enis(ec2, e):
            network = ipaddress.ip_network(cidrs[n["SubnetId"]])
            address = ipaddress.ip_address(n["PrivateIpAddress"])
            assert address in network and 4 <= int(address) - int(network.network_address) <= 254
            assert [g["GroupId"] for g in n["Groups"]] == [sg]
            assert n["Description"] == f"VPC Endpoint Interface {e['VpcEndpointId']}" and n["RequesterManaged"]
    # A plain network interface never takes an address in use
    taken = {n["PrivateIpAddress"] for n in ec2.describe_network_interfaces()["NetworkInterfaces"]}
    for _ in range(5):
        eni = ec2.create_network_interface(SubnetId=subnets[0])["NetworkInterface"]
        assert eni["PrivateIpAddress"] not in taken
        taken.add(eni["PrivateIpAddress"])


def test_dns_entries_are_awss_regional_zonal_and_private_names(c: dict[str, Any]) -> None:
    ec2 = c["ec2"]
    vpc, subnets, sg = vpc_with_subnets(ec2)
    e = interface(ec2, vpc, subnets, sg, "sqs")
    names = [d["DnsName"] for d in e["DnsEntries"]]
    vpce = re.escape(e["VpcEndpointId"])
    assert re.fullmatch(rf"{vpce}-[a-z0-9]{{8}}\.sqs\.us-east-1\.vpce\.amazonaws\.com", names[0])
    suffix = names[0].split(".")[0]
    assert names[1:3] == [
        f"{suffix}-us-east-1a.sqs.us-east-1.vpce.amazonaws.com",
        f"{suffix}-us-east-1b.sqs.us-east-1.vpce.amazonaws.com",
    ]
    assert names[3:] == ["sqs.us-east-1.amazonaws.com"]
    assert e["DnsEntries"][0]["HostedZoneId"] == "Z7HUB22UULQXV"
    off = interface(ec2, vpc, subnets, sg, "kms", PrivateDnsEnabled=False)
    assert not any(d["DnsName"] == "kms.us-east-1.amazonaws.com" for d in off["DnsEntries"])
    ecr = interface(ec2, vpc, subnets, sg, "ecr.dkr")
    assert ecr["DnsEntries"][0]["DnsName"].endswith(".dkr.ecr.us-east-1.vpce.amazonaws.com")
    assert ecr["DnsEntries"][-1]["DnsName"] == "*.dkr.ecr.us-east-1.amazonaws.com"
    s3 = interface(ec2, vpc, subnets, sg, "s3", PrivateDnsEnabled=False)
    assert s3["DnsEntries"][0]["DnsName"].startswith(f"*.{e['VpcEndpointId'][:5]}")


def test_dual_stack_and_ipv6_endpoints_take_addresses_of_the_subnets_64(c: dict[str, Any]) -> None:
    ec2 = c["ec2"]
    vpc, subnets, sg = vpc_with_subnets(ec2, ipv6=True)
    blocks = {
        s["SubnetId"]: s["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
        for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]
    }
    dual = interface(ec2, vpc, subnets, sg, IpAddressType="dualstack", DnsOptions={"DnsRecordIpType": "dualstack"})
    assert dual["IpAddressType"] == "dualstack"
    assert dual["DnsOptions"] == {"DnsRecordIpType": "dualstack", "PrivateDnsOnlyForInboundResolverEndpoint": False}
    for n in enis(ec2, dual):
        (v6,) = n["Ipv6Addresses"]
        assert ipaddress.ip_address(v6["Ipv6Address"]) in ipaddress.ip_network(blocks[n["SubnetId"]])
        assert n["PrivateIpAddress"].startswith("10.9.")
    only6 = interface(ec2, vpc, subnets[:1], sg, "kms", IpAddressType="ipv6")
    (n,) = enis(ec2, only6)
    assert "PrivateIpAddress" not in n and len(n["Ipv6Addresses"]) == 1
    assert only6["DnsOptions"]["DnsRecordIpType"] == "ipv6"  # defaults to the IpAddressType
    described = ec2.describe_vpc_endpoints(VpcEndpointIds=[dual["VpcEndpointId"]])["VpcEndpoints"][0]
    assert described["IpAddressType"] == "dualstack" and described["DnsOptions"]["DnsRecordIpType"] == "dualstack"


def test_ipv4_subnets_refuse_a_dual_stack_endpoint_and_s3_inbound_only_needs_a_gateway(c: dict[str, Any]) -> None:
    ec2 = c["ec2"]
    vpc, subnets, sg = vpc_with_subnets(ec2)
    with pytest.raises(ClientError, match="needs an IPv6 CIDR"):
        interface(ec2, vpc, subnets, sg, IpAddressType="dualstack")
    inbound = {"PrivateDnsOnlyForInboundResolverEndpoint": True}
    with pytest.raises(ClientError, match="must have a Gateway endpoint"):
        interface(ec2, vpc, subnets, sg, "s3", DnsOptions=inbound)
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]["RouteTableId"]
    ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway", RouteTableIds=[table]
    )
    s3 = interface(ec2, vpc, subnets, sg, "s3", DnsOptions=inbound)
    assert s3["DnsOptions"]["PrivateDnsOnlyForInboundResolverEndpoint"] is True
    assert len(ec2.describe_vpc_endpoints()["VpcEndpoints"]) == 2  # the refused ones left nothing behind


def test_endpoint_state_is_settable_through_the_test_hook(c: dict[str, Any], aws: emulator.Emulator) -> None:
    ec2 = c["ec2"]
    vpc, subnets, sg = vpc_with_subnets(ec2)
    vpce = interface(ec2, vpc, subnets, sg)["VpcEndpointId"]

    def described() -> dict[str, Any]:
        return dict(ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce])["VpcEndpoints"][0])

    for state in ("pending", "pendingAcceptance", "rejected", "expired", "deleted", "available"):
        assert aws.set_endpoint_state(vpce, state) == {"VpcEndpointId": vpce, "State": state}
        assert described()["State"] == state and "LastError" not in described()
    aws.set_endpoint_state(
        vpce, "failed", last_error=("VpceServiceError", "the service rejected"), created_seconds_ago=90
    )
    e = described()
    assert e["State"] == "failed" and e["LastError"] == {"Code": "VpceServiceError", "Message": "the service rejected"}
    age = dt.datetime.now(dt.UTC) - e["CreationTimestamp"]
    assert 80 < age.total_seconds() < 200
    aws.set_endpoint_state(vpce, private_dns_enabled=False)
    assert described()["PrivateDnsEnabled"] is False
    with pytest.raises(emulator.EmulatorHookError, match="InvalidParameterValue"):
        aws.set_endpoint_state(vpce, "bogus")
    with pytest.raises(emulator.EmulatorHookError, match="NotFound"):
        aws.set_endpoint_state("vpce-0000000000000000", "failed")


def test_endpoint_services_carry_awss_private_dns_names(c: dict[str, Any]) -> None:
    ec2 = c["ec2"]

    def details(svc: str) -> dict[str, dict[str, Any]]:
        found = ec2.describe_vpc_endpoint_services(ServiceNames=[f"com.amazonaws.{REGION}.{svc}"])["ServiceDetails"]
        return {t["ServiceType"]: d for d in found for t in d["ServiceType"]}

    assert details("execute-api")["Interface"]["PrivateDnsName"] == "*.execute-api.us-east-1.amazonaws.com"
    assert details("ecr.dkr")["Interface"]["PrivateDnsName"] == "*.dkr.ecr.us-east-1.amazonaws.com"
    assert details("kinesis-streams")["Interface"]["PrivateDnsName"] == "kinesis.us-east-1.amazonaws.com"
    sagemaker = details("sagemaker.runtime")["Interface"]  # absent from moto: added
    assert sagemaker["PrivateDnsName"] == "runtime.sagemaker.us-east-1.amazonaws.com"
    s3 = details("s3")
    assert "PrivateDnsName" not in s3["Gateway"] and s3["Gateway"]["BaseEndpointDnsNames"] == [
        "s3.us-east-1.amazonaws.com"
    ]
    assert "PrivateDnsName" not in s3["Interface"]
    assert s3["Interface"]["BaseEndpointDnsNames"] == ["s3.us-east-1.vpce.amazonaws.com"]


def test_a_lambda_functions_vpc_config_names_its_vpc(c: dict[str, Any]) -> None:
    from tests.testbed import aws_seed

    facts = aws_seed.add_lambda(c, aws_seed.seed(c["ec2"], services=()))
    config = c["lambda"].get_function_configuration(FunctionName="vpc-verify")["VpcConfig"]
    assert config["VpcId"] == facts.vpc_id and config["SubnetIds"] == [facts.agent_subnet_id]


def test_dns_firewall_rules_groups_and_associations(c: dict[str, Any], aws: emulator.Emulator) -> None:
    r = c["route53resolver"]
    domains = r.create_firewall_domain_list(CreatorRequestId="a", Name="d")["FirewallDomainList"]["Id"]
    r.update_firewall_domains(FirewallDomainListId=domains, Operation="ADD", Domains=["sqs.us-east-1.amazonaws.com"])
    r.update_firewall_domains(FirewallDomainListId=domains, Operation="ADD", Domains=["kms.us-east-1.amazonaws.com"])
    r.update_firewall_domains(FirewallDomainListId=domains, Operation="REMOVE", Domains=["sqs.us-east-1.amazonaws.com"])
    assert r.list_firewall_domains(FirewallDomainListId=domains)["Domains"] == ["kms.us-east-1.amazonaws.com"]
    group = r.create_firewall_rule_group(CreatorRequestId="b", Name="g")["FirewallRuleGroup"]["Id"]
    base = {"FirewallRuleGroupId": group, "FirewallDomainListId": domains, "Name": "r", "Action": "BLOCK"}
    r.create_firewall_rule(CreatorRequestId="c", Priority=2, BlockResponse="NXDOMAIN", **base)
    r.create_firewall_rule(
        CreatorRequestId="d",
        Priority=1,
        BlockResponse="OVERRIDE",
        BlockOverrideDomain="walled.example.com",
        BlockOverrideDnsType="CNAME",
        BlockOverrideTtl=30,
        **base,
    )
    rules = r.list_firewall_rules(FirewallRuleGroupId=group)["FirewallRules"]
    assert [(x["Priority"], x["BlockResponse"]) for x in rules] == [(1, "OVERRIDE"), (2, "NXDOMAIN")]
    assert r.get_firewall_rule_group(FirewallRuleGroupId=group)["FirewallRuleGroup"]["RuleCount"] == 2
    with pytest.raises(ClientError, match="OVERRIDE needs"):
        r.create_firewall_rule(CreatorRequestId="e", Priority=3, BlockResponse="OVERRIDE", **base)
    with pytest.raises(ClientError, match="already exists"):
        r.create_firewall_rule(CreatorRequestId="f", Priority=2, BlockResponse="NODATA", **base)
    with pytest.raises(ClientError, match="between 101 and 9900"):
        r.associate_firewall_rule_group(
            CreatorRequestId="g", FirewallRuleGroupId=group, VpcId="vpc-1", Priority=5, Name="x"
        )
    r.associate_firewall_rule_group(
        CreatorRequestId="h", FirewallRuleGroupId=group, VpcId="vpc-1", Priority=101, Name="x"
    )
    (association,) = r.list_firewall_rule_group_associations(VpcId="vpc-1")["FirewallRuleGroupAssociations"]
    assert association["FirewallRuleGroupId"] == group and association["Status"] == "COMPLETE"
    assert r.list_firewall_rule_group_associations(VpcId="vpc-2")["FirewallRuleGroupAssociations"] == []
    aws.reset()
    assert r.list_firewall_rule_groups()["FirewallRuleGroups"] == []


# ------------------------------------------------------------------- VPC Lattice, partner services, Profiles


def test_lattice_endpoints_have_interfaces_in_their_subnets_their_arn_and_a_service_networks_prefixes(
    c: dict[str, Any],
) -> None:
    import boto3

    ec2, lattice = c["ec2"], boto3.client("vpc-lattice", region_name=REGION)
    vpc, subnets, sg = vpc_with_subnets(ec2)
    config = lattice.create_resource_configuration(
        name="orders-db", type="SINGLE", portRanges=["5432", "8000-8010"], protocol="TCP"
    )
    assert lattice.get_resource_configuration(resourceConfigurationIdentifier=config["arn"])["portRanges"] == [
        "5432",
        "8000-8010",
    ]
    network = lattice.create_service_network(name="shared-services")
    resource = ec2.create_vpc_endpoint(
        VpcId=vpc,
        VpcEndpointType="Resource",
        ResourceConfigurationArn=config["arn"],
        SubnetIds=subnets,
        SecurityGroupIds=[sg],
    )["VpcEndpoint"]
    sn = ec2.create_vpc_endpoint(
        VpcId=vpc,
        VpcEndpointType="ServiceNetwork",
        ServiceNetworkArn=network["arn"],
        SubnetIds=subnets,
        SecurityGroupIds=[sg],
    )["VpcEndpoint"]
    assert resource["VpcEndpointType"] == "Resource" and resource["ResourceConfigurationArn"] == config["arn"]
    assert sn["VpcEndpointType"] == "ServiceNetwork" and sn["ServiceNetworkArn"] == network["arn"]
    assert re.fullmatch(
        rf"{resource['VpcEndpointId']}-snra-\w+\.{config['id']}\.[0-9a-f]+\.vpc-lattice-rsc\.{REGION}\.on\.aws",
        resource["DnsEntries"][0]["DnsName"],
    )
    cidrs = {s["SubnetId"]: s["CidrBlock"] for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]}
    for endpoint in (resource, sn):
        for eni in enis(ec2, endpoint):
            assert ipaddress.ip_address(eni["PrivateIpAddress"]) in ipaddress.ip_network(cidrs[eni["SubnetId"]])
            assert [g["GroupId"] for g in eni["Groups"]] == [sg]
    prefixes = {p["SubnetId"]: p["IpPrefixes"] for p in sn["Ipv4Prefixes"]}
    assert set(prefixes) == set(subnets)
    for subnet, (prefix,) in prefixes.items():
        block = ipaddress.ip_network(prefix)
        assert block.prefixlen == 28 and block.subnet_of(ipaddress.ip_network(cidrs[subnet]))  # type: ignore[arg-type]
        assert all(ipaddress.ip_address(e["PrivateIpAddress"]) not in block for e in enis(ec2, sn))
    with pytest.raises(ClientError, match="does not exist"):
        ec2.create_vpc_endpoint(
            VpcId=vpc, VpcEndpointType="Resource", ResourceConfigurationArn=config["arn"] + "0", SubnetIds=subnets
        )


def test_a_partner_services_private_dns_name_is_pending_until_verified(
    aws: emulator.Emulator, c: dict[str, Any]
) -> None:
    import boto3

    ec2, elbv2 = c["ec2"], boto3.client("elbv2", region_name=REGION)
    _vpc, subnets, _sg = vpc_with_subnets(ec2)
    nlb = elbv2.create_load_balancer(Name="p", Subnets=subnets, Type="network", Scheme="internal")["LoadBalancers"][0]
    config = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb["LoadBalancerArn"]], PrivateDnsName="api.partner.example.com"
    )["ServiceConfiguration"]

    def state() -> str:
        (detail,) = ec2.describe_vpc_endpoint_services(ServiceNames=[config["ServiceName"]])["ServiceDetails"]
        return str(detail["PrivateDnsNameVerificationState"])

    assert state() == "pendingVerification"
    aws.set_service_verification(config["ServiceId"], "verified")
    assert state() == "verified"
    with pytest.raises(emulator.EmulatorHookError, match="not one of"):
        aws.set_service_verification(config["ServiceId"], "done")


def test_route_53_profiles_are_answered_and_cleared_by_the_reset(aws: emulator.Emulator) -> None:
    import boto3

    profiles = boto3.client("route53profiles", region_name=REGION)
    profile = profiles.create_profile(Name="shared-dns")["Profile"]["Id"]
    profiles.associate_resource_to_profile(
        ProfileId=profile, ResourceArn="arn:aws:route53:::hostedzone/Z0ABC", Name="zone"
    )
    profiles.associate_profile(ProfileId=profile, ResourceId="vpc-0abc", Name="vpc")
    with pytest.raises(ClientError, match="ConflictException"):
        profiles.associate_profile(ProfileId=profile, ResourceId="vpc-0abc", Name="again")  # one Profile per VPC
    (association,) = profiles.list_profile_associations(ResourceId="vpc-0abc")["ProfileAssociations"]
    assert association["ProfileId"] == profile and association["Status"] == "COMPLETE"
    (resource,) = profiles.list_profile_resource_associations(ProfileId=profile)["ProfileResourceAssociations"]
    assert resource["ResourceArn"] == "arn:aws:route53:::hostedzone/Z0ABC"
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        profiles.list_profile_resource_associations(ProfileId="rp-0missing")
    aws.reset()
    assert profiles.list_profile_associations(ResourceId="vpc-0abc")["ProfileAssociations"] == []
