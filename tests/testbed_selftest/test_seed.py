"""The seeded real-VPC shapes are what the emulator then describes (tests/testbed/aws_seed.py)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from tests.testbed import aws_seed, emulator


@pytest.fixture
def c(aws: emulator.Emulator) -> dict[str, Any]:
    import boto3

    names = ("ec2", "lambda", "iam", "route53", "route53resolver")
    return {n: boto3.client(n, region_name="us-east-1") for n in names}


def inside(address: str, cidrs: tuple[str, ...]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == ipaddress.ip_network(c).version and ip in ipaddress.ip_network(c) for c in cidrs)


def test_a_real_vpc_shape_end_to_end(c: dict[str, Any]) -> None:
    ec2 = c["ec2"]
    facts = aws_seed.seed(ec2)
    assert facts.cidrs == ("10.0.0.0/16",) and set(facts.interfaces) == {"sqs", "kms"}
    facts = aws_seed.add_ipv6(ec2, facts, services=("sts",))
    facts = aws_seed.add_secondary_cidr(ec2, facts, services=("logs",))
    facts = aws_seed.restrict_agent_egress(ec2, facts)
    facts = aws_seed.add_network_acls(ec2, facts)
    facts = aws_seed.add_lambda(c, facts)

    vpc = ec2.describe_vpcs(VpcIds=[facts.vpc_id])["Vpcs"][0]
    (v6,) = facts.ipv6_cidrs
    assert ipaddress.ip_network(v6).prefixlen == 56 and ipaddress.ip_network(v6).is_global
    assert {a["CidrBlock"] for a in vpc["CidrBlockAssociationSet"]} == {"10.0.0.0/16", "100.64.0.0/16"}
    sts, logs = facts.interfaces["sts"], facts.interfaces["logs"]
    assert sts.ip_address_type == "dualstack" and len(sts.addresses) == len(sts.ipv6_addresses) == 2
    assert all(inside(a, facts.ipv6_cidrs) for a in sts.ipv6_addresses)
    assert all(a.startswith("100.64.") for a in logs.addresses)
    for endpoint in facts.interfaces.values():  # every ENI inside one of the VPC's CIDRs, names from DnsEntries
        assert all(inside(a, facts.all_cidrs) for a in endpoint.all_addresses)
        assert endpoint.regional_name.startswith(endpoint.vpce_id + "-") and set(endpoint.zonal_names) == {
            "us-east-1a",
            "us-east-1b",
        }
    assert facts.az_ids["us-east-1a"].startswith("use1-az")

    # the endpoints' group admits every VPC CIDR; the agent's egress is 443 to them and to the S3 prefix list
    groups = ec2.describe_security_groups(GroupIds=[facts.vpce_security_group_id, facts.agent_security_group_id])
    by_id = {g["GroupId"]: g for g in groups["SecurityGroups"]}
    ingress = by_id[facts.vpce_security_group_id]["IpPermissions"]
    admitted = {r["CidrIp"] for p in ingress for r in p["IpRanges"]} | {
        r["CidrIpv6"] for p in ingress for r in p["Ipv6Ranges"]
    }
    assert admitted == set(facts.all_cidrs)
    egress = by_id[facts.agent_security_group_id]["IpPermissionsEgress"]
    assert all(p["IpProtocol"] != "-1" for p in egress)
    assert facts.gateway is not None
    assert any(pl["PrefixListId"] == facts.gateway.prefix_list_id for p in egress for pl in p.get("PrefixListIds", []))

    # NACLs: numbered, a deny below the allows, associated with the agent's and the other subnet
    acls = {
        a["NetworkAclId"]: a
        for a in ec2.describe_network_acls(NetworkAclIds=list(facts.network_acls.values()))["NetworkAcls"]
    }
    agent = acls[facts.network_acls["agent"]]
    assert [x["SubnetId"] for x in agent["Associations"]] == [facts.agent_subnet_id]
    numbered = sorted(
        (e["RuleNumber"], e["RuleAction"]) for e in agent["Entries"] if not e["Egress"] and e["RuleNumber"] < 32767
    )
    assert numbered[0] == (90, "deny") and all(action == "allow" for _, action in numbered[1:])
    returns = [e for e in agent["Entries"] if not e["Egress"] and e.get("PortRange") == {"From": 1024, "To": 65535}]
    assert {e.get("CidrBlock") or e.get("Ipv6CidrBlock") for e in returns} >= set(facts.all_cidrs)

    # the Lambda function: its VpcConfig, and a Hyperplane ENI in its subnet
    assert facts.function is not None
    config = c["lambda"].get_function_configuration(FunctionName=facts.function.function_name)["VpcConfig"]
    assert config["SubnetIds"] == [facts.agent_subnet_id] and config["SecurityGroupIds"] == [
        facts.agent_security_group_id
    ]
    (eni,) = ec2.describe_network_interfaces(NetworkInterfaceIds=list(facts.function.eni_ids))["NetworkInterfaces"]
    assert eni["Description"].startswith("AWS Lambda VPC ENI-vpc-verify")
    assert (
        eni["PrivateIpAddress"] == facts.function.hyperplane["us-east-1a"] and eni["SubnetId"] == facts.agent_subnet_id
    )
    assert eni["PrivateIpAddress"] not in {a for e in facts.interfaces.values() for a in e.addresses}


@pytest.mark.parametrize("via", ["tgw", "peering"])
def test_hub_and_spoke(c: dict[str, Any], via: str) -> None:
    hs = aws_seed.seed_hub_and_spoke(c["ec2"], c["route53"], via=via)
    assert hs.spoke.interfaces == {} and set(hs.hub.interfaces) == {"sqs", "kms"}
    assert all(
        inside(a, hs.hub.cidrs) and not inside(a, hs.spoke.cidrs)
        for e in hs.hub.interfaces.values()
        for a in e.addresses
    )
    assert not any(e.private_dns for e in hs.hub.interfaces.values())  # centralised: the shared zones answer instead
    assert hs.spoke.gateway is not None
    routes = c["ec2"].describe_route_tables(RouteTableIds=[hs.spoke.gateway.route_table_id])["RouteTables"][0]["Routes"]
    (to_hub,) = [r for r in routes if r.get("DestinationCidrBlock") == aws_seed.HUB_CIDR]
    assert hs.connection_id in (to_hub.get("TransitGatewayId"), to_hub.get("VpcPeeringConnectionId"))
    zones = c["route53"].list_hosted_zones_by_vpc(VPCId=hs.spoke.vpc_id, VPCRegion="us-east-1")["HostedZoneSummaries"]
    assert {z["Name"] for z in zones} == {"sqs.us-east-1.amazonaws.com.", "kms.us-east-1.amazonaws.com."}
    records = c["route53"].list_resource_record_sets(HostedZoneId=hs.hosted_zones["sqs"])["ResourceRecordSets"]
    (alias,) = [r for r in records if r["Type"] == "A"]
    assert alias["AliasTarget"]["DNSName"] == hs.hub.interfaces["sqs"].regional_name


def test_dns_path(c: dict[str, Any]) -> None:
    facts, path = aws_seed.add_dns_path(
        c,
        aws_seed.seed(c["ec2"]),
        firewall_blocks={"kms.us-east-1.amazonaws.com": "NXDOMAIN", "sqs.us-east-1.amazonaws.com": "OVERRIDE"},
    )
    vpc = c["ec2"].describe_vpcs(VpcIds=[facts.vpc_id])["Vpcs"][0]
    assert vpc["DhcpOptionsId"] == path.dhcp_options_id
    options = c["ec2"].describe_dhcp_options(DhcpOptionsIds=[path.dhcp_options_id])["DhcpOptions"][0]
    servers = next(o for o in options["DhcpConfigurations"] if o["Key"] == "domain-name-servers")
    assert [v["Value"] for v in servers["Values"]] == list(path.domain_name_servers)
    resolver = c["route53resolver"]
    (association,) = resolver.list_resolver_rule_associations(Filters=[{"Name": "VPCId", "Values": [facts.vpc_id]}])[
        "ResolverRuleAssociations"
    ]
    rule = resolver.get_resolver_rule(ResolverRuleId=association["ResolverRuleId"])["ResolverRule"]
    assert rule["RuleType"] == "FORWARD" and rule["DomainName"].rstrip(".") == path.forward_domain
    assert [t["Ip"] for t in rule["TargetIps"]] == list(path.forward_targets)
    zones = c["route53"].list_hosted_zones_by_vpc(VPCId=facts.vpc_id, VPCRegion="us-east-1")["HostedZoneSummaries"]
    assert [z["Name"] for z in zones] == [path.shadow_zone + "."]
    records = c["route53"].list_resource_record_sets(HostedZoneId=path.shadow_zone_id)["ResourceRecordSets"]
    assert {r["Type"] for r in records} <= {"SOA", "NS"}  # the zone shadows the name without its record
    (fw,) = resolver.list_firewall_rule_group_associations(VpcId=facts.vpc_id)["FirewallRuleGroupAssociations"]
    rules = resolver.list_firewall_rules(FirewallRuleGroupId=fw["FirewallRuleGroupId"])["FirewallRules"]
    blocked = {
        resolver.list_firewall_domains(FirewallDomainListId=r["FirewallDomainListId"])["Domains"][0]: r for r in rules
    }
    assert blocked["kms.us-east-1.amazonaws.com"]["BlockResponse"] == "NXDOMAIN"
    assert blocked["sqs.us-east-1.amazonaws.com"]["BlockOverrideDomain"] == path.firewall_override_domain
