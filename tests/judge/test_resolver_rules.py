"""Why an answer is wrong (issue 12, item 5): the VPC's DNS path names the culprit for a name that was answered
wrongly (a DNS Firewall BLOCK, a Resolver FORWARD rule, a private hosted zone without the record, DHCP options that
send clients elsewhere); a name answered right is no finding whatever the path holds (the packets win)."""

from __future__ import annotations

from dataclasses import replace

from tests.judge.builders import EP, NAME, aws, dns, facts, judged, observation, probe, report, state, topology
from vpc_verify import judge as judging
from vpc_verify.aws.model import DnsPath, FirewallRule, HostedZone, Profile, ResolverRule
from vpc_verify.checks.dns import DnsStatus
from vpc_verify.evaluate import dns_path
from vpc_verify.findings import Code
from vpc_verify.judge.facts import RunFacts

GOOD = ("10.1.1.10", "10.1.2.10")
FORWARD = ResolverRule(
    "rslvr-rr-1", "rslvr-rrassoc-1", "sqs.eu-west-1.amazonaws.com", "FORWARD", "corp", ("10.9.0.2:53",)
)
WIDE = ResolverRule("rslvr-rr-2", "rslvr-rrassoc-2", "amazonaws.com", "FORWARD", "all-aws", ("10.9.0.2:53",))
SYSTEM = ResolverRule("rslvr-rr-3", "rslvr-rrassoc-3", NAME, "SYSTEM")
ZONE = HostedZone("Z0SHADOW", "eu-west-1.amazonaws.com", "123456789012", records=())


def block(response: str = "NXDOMAIN", *, priority: int = 10, domains: tuple[str, ...] | None = (NAME,)) -> FirewallRule:
    return FirewallRule(
        "rslvr-frg-1",
        "rslvr-frgassoc-1",
        101,
        priority,
        f"r{priority}",
        "BLOCK",
        "rslvr-fdl-1",
        domains,
        response,
        "walled.example" if response == "OVERRIDE" else "",
    )


def judge(path: DnsPath, result_status: DnsStatus = DnsStatus.NXDOMAIN, *answers: str) -> list[str]:
    result = dns(*answers, status=result_status, rcode="NXDOMAIN" if result_status is DnsStatus.NXDOMAIN else "NOERROR")
    probes = [probe(a) for a in answers if a in GOOD]
    return judged(facts(observation(EP, [result], probes), aws=aws(replace(state(), dns=path))))


def test_a_firewall_block_is_named_with_its_rule_group() -> None:
    path = DnsPath(firewall=(block(),))
    assert judge(path) == ["DNS_FIREWALL_BLOCKED", "DNS_NXDOMAIN"]
    out = report(facts(observation(EP, [dns(status=DnsStatus.NXDOMAIN)]), aws=aws(replace(state(), dns=path))))
    (f,) = [f for f in out.findings if f.code is Code.DNS_FIREWALL_BLOCKED]
    assert f.evidence["firewall_rule_group_id"] == "rslvr-frg-1" and f.evidence["block_response"] == "NXDOMAIN"
    assert "answers NXDOMAIN" in f.message


def test_an_override_answers_a_public_walled_garden() -> None:
    out = judge(
        DnsPath(firewall=(block("OVERRIDE", domains=("*.eu-west-1.amazonaws.com",)),)), DnsStatus.OK, "198.51.100.80"
    )
    assert "DNS_FIREWALL_BLOCKED" in out and "DNS_PUBLIC_ADDRESS" in out


def test_an_allow_or_alert_first_shadows_the_block() -> None:
    allow = replace(block(priority=1), action="ALLOW", name="allow")
    assert "DNS_FIREWALL_BLOCKED" not in judge(DnsPath(firewall=(block(priority=5), allow)))
    unread = replace(
        block(priority=1), action="ALLOW", domains=None
    )  # an AWS-managed list: the block is still first known
    verdict = dns_path.evaluate(DnsPath(firewall=(unread, block(priority=5))), NAME)
    assert verdict.blocked and verdict.firewall_unknown == (unread,)


def test_the_most_specific_forward_rule_wins_and_a_system_rule_takes_the_name_back() -> None:
    assert "DNS_FORWARDED" in judge(DnsPath(rules=(WIDE, FORWARD)), DnsStatus.TIMEOUT)
    assert dns_path.evaluate(DnsPath(rules=(WIDE, FORWARD)), NAME).rule == FORWARD
    assert "DNS_FORWARDED" not in judge(DnsPath(rules=(WIDE, SYSTEM)), DnsStatus.TIMEOUT)


def test_a_forward_rule_below_a_more_specific_zone_does_not_decide() -> None:
    zone = HostedZone("Z0HUB", NAME, "123456789012", records=(NAME,))
    verdict = dns_path.evaluate(DnsPath(rules=(WIDE,), zones=(zone,)), NAME)
    assert verdict.zone == zone and verdict.rule is None and not verdict.forwarded and not verdict.shadowed


def test_a_zone_without_the_record_shadows_the_name() -> None:
    out = report(
        facts(observation(EP, [dns(status=DnsStatus.NXDOMAIN)]), aws=aws(replace(state(), dns=DnsPath(zones=(ZONE,)))))
    )
    (f,) = [f for f in out.findings if f.code is Code.DNS_ZONE_SHADOWED]
    assert f.evidence["hosted_zone_id"] == "Z0SHADOW" and "Z0SHADOW" in f.hint
    unreadable = replace(ZONE, records=None)  # another account's zone: not judged
    assert "DNS_ZONE_SHADOWED" not in judge(DnsPath(zones=(unreadable,)))


def test_custom_dhcp_servers_are_named_only_when_an_answer_was_wrong() -> None:
    path = DnsPath(dhcp_options_id="dopt-1", domain_name_servers=("10.0.2.53",))
    assert judge(path) == ["DNS_CUSTOM_RESOLVER", "DNS_NXDOMAIN"]
    assert judge(path, DnsStatus.OK, *GOOD) == []
    assert judge(DnsPath(domain_name_servers=("AmazonProvidedDNS",))) == ["DNS_NXDOMAIN"]


def test_a_right_answer_is_no_finding_whatever_the_path_holds() -> None:
    path = DnsPath(
        dhcp_options_id="dopt-1",
        domain_name_servers=("10.0.2.53",),
        rules=(FORWARD,),
        firewall=(block(),),
        zones=(ZONE,),
    )
    assert judge(path, DnsStatus.OK, *GOOD) == []


def test_a_dangling_cname_names_the_missing_target_not_the_service_name() -> None:
    gone = "vpce-0dead-1x2y.sqs.eu-west-1.vpce.amazonaws.com"
    result = replace(dns(status=DnsStatus.NXDOMAIN, rcode="NXDOMAIN"), cname_chain=(gone,))
    (f,) = report(facts(observation(EP, [result]))).findings
    assert f.code is Code.DNS_NXDOMAIN and f.message == f"{NAME} is a CNAME to {gone}, which does not exist (NXDOMAIN)"
    assert f.hint.startswith(f"{gone} is gone")


def test_an_aaaa_only_endpoint_asked_for_a_hints_at_ip_address_type() -> None:
    v6 = replace(state(), endpoints=(replace(state().endpoints[0], dns_record_ip_type="ipv6"),))
    result = replace(dns(status=DnsStatus.NODATA), cname_chain=())
    (f,) = report(facts(observation(EP, [result]), aws=aws(v6))).findings
    assert f.code is Code.DNS_NO_ANSWER and "ip_address_type: ipv6" in f.hint


def test_a_timeout_when_the_resolver_answered_other_names_is_not_the_resolver() -> None:
    silent = dns(status=DnsStatus.TIMEOUT, rcode="")
    alone = report(facts(observation(EP, [silent])))
    assert "resolver (base+2" in alone.findings[0].hint  # nothing else was asked: the catalogue's hint
    f = facts(observation(EP, [silent]))
    f = replace(f, answered_in_run=("kms.eu-west-1.amazonaws.com",))
    (finding,) = report(f).findings
    assert "answered kms.eu-west-1.amazonaws.com in this run: it is reachable" in finding.hint
    assert "FORWARD rule" in finding.hint and "1024 packets a second" in finding.hint


def test_a_profile_with_unreadable_zones_is_unverifiable_not_absent() -> None:
    """Issue 12, item 4: the VPC's Route 53 Profile shares a zone this account cannot read (another account's), or
    its resources cannot be listed: a run warning naming the Profile; nothing when everything was read."""
    zone_arn = "arn:aws:route53:::hostedzone/Z0FOREIGN"
    topo = topology()
    for profile, said in (
        (Profile("rp-0abc", "rpassoc-1", resources=(("HOSTED_ZONE", zone_arn),), unreadable=("Z0FOREIGN",)), True),
        (Profile("rp-0abc", "rpassoc-1", error="AccessDeniedException: not authorized"), True),
        (Profile("rp-0abc", "rpassoc-1", resources=(("HOSTED_ZONE", zone_arn),)), False),
    ):
        vpc = replace(state(), dns=DnsPath(profile=profile))
        out = judging.run(RunFacts(topology=topo, aws=aws(vpc)))
        codes = [f.code for f in out]
        assert (Code.DNS_PROFILE_UNVERIFIED in codes) == said, (profile, codes)
        if said:
            (f,) = [f for f in out if f.code is Code.DNS_PROFILE_UNVERIFIED]
            assert f.evidence["profile_id"] == "rp-0abc" and not f.is_error
