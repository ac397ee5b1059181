"""The VPC's DNS path read from the emulator (issue 12, item 5): the DHCP option set, Resolver rule associations,
DNS Firewall rule groups with their domain lists, private hosted zones and whether they hold the checked names;
a denied or unreachable part is unread, never empty."""

from __future__ import annotations

from typing import Any

from tests.testbed import aws_seed
from vpc_verify.aws import clients
from vpc_verify.aws.control_plane import AwsControlPlane
from vpc_verify.aws.dns_path import read_dns_path
from vpc_verify.aws.read import read
from vpc_verify.aws.whereami import Place
from vpc_verify.evaluate import dns_path
from vpc_verify.topology import Topology, parse

KMS = "kms.us-east-1.amazonaws.com"
SSM = "ssm.us-east-1.amazonaws.com"
CORP = "api.corp.example.com"


def seeded_path(ec2: Any) -> tuple[aws_seed.SeedFacts, aws_seed.DnsPathFacts, dict[str, Any]]:
    c = {"ec2": ec2, "route53": clients.client("route53", "us-east-1")}
    c["route53resolver"] = clients.client("route53resolver", "us-east-1")
    facts, path = aws_seed.add_dns_path(
        c, aws_seed.seed(ec2), firewall_blocks={KMS: "NXDOMAIN", "*.blocked.example": "OVERRIDE"}
    )
    return facts, path, c


def test_every_part_is_read_and_judged_per_name(ec2: Any) -> None:
    facts, path, c = seeded_path(ec2)
    state = read(ec2, facts.vpc_id)
    got = read_dns_path(ec2, c["route53resolver"], c["route53"], state, [KMS, SSM, CORP, "sqs.us-east-1.amazonaws.com"])
    assert got.unread == ()
    p = got.path
    assert p.dhcp_options_id == path.dhcp_options_id and p.custom_servers == ("10.0.2.53",)
    (rule,) = p.rules
    assert (rule.id, rule.type, rule.domain, rule.targets) == (
        path.forward_rule_id,
        "FORWARD",
        path.forward_domain,
        ("192.168.10.53:53",),
    )
    assert {f.action for f in p.firewall} == {"BLOCK"} and {f.group_id for f in p.firewall} == {
        path.firewall_rule_group_id
    }
    (zone,) = p.zones
    assert (zone.id, zone.name, zone.records) == (path.shadow_zone_id, SSM, ())  # covers ssm, holds no record
    kms, ssm, corp = (dns_path.evaluate(p, n) for n in (KMS, SSM, CORP))
    assert kms.blocked and kms.firewall is not None and kms.firewall.block_response == "NXDOMAIN"
    assert ssm.shadowed and not ssm.blocked and not ssm.forwarded
    assert corp.forwarded and corp.rule == rule
    assert dns_path.evaluate(p, "x.blocked.example").firewall.block_response == "OVERRIDE"  # type: ignore[union-attr]


def _kms_topology(vpc_id: str) -> Topology:
    """A topology of the seeded VPC with one endpoint, kms (a name the seeded DNS Firewall blocks)."""
    return parse(
        {
            "version": 1,
            "region": "us-east-1",
            "vpc": {"id": vpc_id},
            "endpoints": [{"name": "kms", "service": "com.amazonaws.us-east-1.kms"}],
        }
    )


def test_the_control_plane_reads_the_path_for_the_topologys_names(ec2: Any) -> None:
    facts, _path, c = seeded_path(ec2)
    topo = _kms_topology(facts.vpc_id)
    cp = AwsControlPlane(
        ec2=ec2, place=Place(source="test"), resolver_client=c["route53resolver"], route53_client=c["route53"]
    )
    state = cp.read(topo).state
    assert state.dns is not None and state.dns.firewall and state.unread == ()
    # An injected EC2 client alone: the path is not read (no client is made behind the test's back).
    assert AwsControlPlane(ec2=ec2, place=Place(source="test")).read(topo).state.dns is None


def test_a_denied_part_is_unread_and_the_rest_stands(ec2: Any) -> None:
    facts, _path, c = seeded_path(ec2)
    resolver = c["route53resolver"]

    class Denied:
        status_code = 403

    def deny(**kwargs: Any) -> tuple[Any, dict[str, Any]]:
        error = {"Code": "AccessDeniedException", "Message": "not authorized"}
        return Denied(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}

    resolver.meta.events.register("before-call.route53resolver.ListFirewallRuleGroupAssociations", deny)
    got = read_dns_path(ec2, resolver, None, read(ec2, facts.vpc_id), [KMS])
    assert got.unread == (
        "route53resolver:ListFirewallRuleGroupAssociations",
        "route53:ListHostedZonesByVPC (its API is unreachable from here)",
    )
    assert got.path.firewall == () and got.path.rules and got.path.zones == ()


def test_an_unreachable_dns_api_is_a_partial_read_whose_fix_is_a_route(ec2: Any) -> None:
    from dataclasses import replace

    from tests.aws.helpers import only, run_findings
    from vpc_verify.findings import Code

    facts, _path, c = seeded_path(ec2)
    topo = _kms_topology(facts.vpc_id)
    got = read_dns_path(ec2, None, c["route53"], read(ec2, facts.vpc_id), [KMS])
    cp = AwsControlPlane(ec2=ec2, place=Place(source="test")).read(topo)
    aws = replace(cp, state=replace(cp.state, unread=got.unread))
    f = only(run_findings(topo, aws), Code.AWS_READ_PARTIAL)
    assert "the DNS path" in f.message and "needs a route to it" in f.hint
    assert "route53resolver:ListResolverRuleAssociations (its API is unreachable from here)" in f.evidence["actions"]


# ------------------------------------------------------------------------------------ Route 53 Profiles


def test_a_profiles_zones_are_read_as_the_vpcs_own_and_say_where_they_come_from(ec2: Any) -> None:
    """Issue 12, item 4: a Route 53 Profile associated with the VPC shares a private hosted zone covering ssm without
    its record: ListHostedZonesByVPC does not list it, the Profile does; the evaluator shadows ssm with it, and the
    zone says which Profile it comes from."""
    route53, profiles = clients.client("route53", "us-east-1"), clients.client("route53profiles", "us-east-1")
    facts = aws_seed.seed(ec2)
    other = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]  # the zone's own VPC (the Profile owner's)
    zone = route53.create_hosted_zone(
        Name=SSM,
        CallerReference="profile-zone",
        HostedZoneConfig={"PrivateZone": True, "Comment": "shared"},
        VPC={"VPCRegion": "us-east-1", "VPCId": other},
    )["HostedZone"]["Id"].rsplit("/", 1)[-1]
    profile = profiles.create_profile(Name="shared-dns")["Profile"]["Id"]
    profiles.associate_resource_to_profile(
        ProfileId=profile, ResourceArn=f"arn:aws:route53:::hostedzone/{zone}", Name="ssm-zone"
    )
    association = profiles.associate_profile(ProfileId=profile, ResourceId=facts.vpc_id, Name="vpc")
    state = read(ec2, facts.vpc_id)
    got = read_dns_path(ec2, None, route53, state, [SSM, KMS], profiles)
    assert got.path.profile is not None and got.path.profile.id == profile
    assert got.path.profile.association_id == association["ProfileAssociation"]["Id"]
    (shared,) = got.path.zones
    assert (shared.id, shared.name, shared.records, shared.profile_id) == (zone, SSM, (), profile)
    verdict = dns_path.evaluate(got.path, SSM)
    assert verdict.shadowed and verdict.zone == shared
    assert got.path.profile.unreadable == () and "route53profiles" not in " ".join(got.unread)


class _Denying:
    """A Route 53 Profiles client that lists the VPC's Profile association but may not list its resources (or may
    not even list associations)."""

    def __init__(self, *, associations: bool = True) -> None:
        self.associations = associations

    def get_paginator(self, method: str) -> Any:
        outer = self

        class Pages:
            def paginate(self, **kwargs: Any) -> Any:
                from botocore.exceptions import ClientError

                if method == "list_profile_resource_associations" or not outer.associations:
                    error = {"Code": "AccessDeniedException", "Message": f"not authorized to {method}"}
                    raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}, method)
                item = {"Id": "rpassoc-1", "ProfileId": "rp-0abc", "ResourceId": kwargs["ResourceId"]}
                return [{"ProfileAssociations": [{**item, "Status": "COMPLETE", "OwnerId": "210987654321"}]}]

        return Pages()


def test_a_profile_whose_resources_cannot_be_listed_is_kept_with_why_and_a_denied_listing_is_unread(ec2: Any) -> None:
    facts = aws_seed.seed(ec2)
    state = read(ec2, facts.vpc_id)
    got = read_dns_path(ec2, None, None, state, [SSM], _Denying())
    profile = got.path.profile
    assert profile is not None and profile.id == "rp-0abc" and profile.resources is None
    assert "AccessDenied" in profile.error and got.path.zones == ()
    denied = read_dns_path(ec2, None, None, state, [SSM], _Denying(associations=False))
    assert denied.path.profile is None and "route53profiles:ListProfileAssociations" in denied.unread
    unreachable = read_dns_path(ec2, None, None, state, [SSM], None)
    assert any(
        u.startswith("route53profiles:ListProfileAssociations (its API is unreachable") for u in unreachable.unread
    )
    untouched = read_dns_path(ec2, None, None, state, [SSM])  # NOT_ASKED: injected clients without a Profiles one
    assert not any("route53profiles" in u for u in untouched.unread)
