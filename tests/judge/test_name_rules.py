"""A topology name the service's private DNS does not answer is a warning (issue 12, item 1): judged against
DescribeVpcEndpointServices' names when the control plane was read (authoritative), else the catalogue's."""

from __future__ import annotations

from dataclasses import replace

from tests.judge.builders import (
    CIDR,
    NAME,
    REGION,
    SQS,
    aws,
    dns,
    facts,
    judged,
    observation,
    probe,
    report,
    state,
    vpce,
)
from vpc_verify.aws.model import ServiceInfo
from vpc_verify.findings import Code, Severity
from vpc_verify.topology import Endpoint

DKR = f"com.amazonaws.{REGION}.ecr.dkr"


def endpoint(service: str, *names: str) -> Endpoint:
    return Endpoint(name="e", type="interface", service=service, dns_names=names, addresses=("10.1.1.10",))


def judge_names(e: Endpoint, *, with_aws: bool, services: dict[str, ServiceInfo] | None = None) -> list[str]:
    results = [dns("10.1.1.10", name=n) for n in e.dns_names]
    o = observation(e, results, [probe("10.1.1.10")])
    side = None
    if with_aws:
        vpc = state(endpoints=(replace(vpce(service=e.service or SQS), eni_ids=("eni-a",)),))
        side = aws(replace(vpc, services=services or vpc.services))
    return judged(facts(o, aws=side))


def test_the_names_clients_use_raise_nothing() -> None:
    assert judge_names(endpoint(SQS, f"sqs.{REGION}.amazonaws.com"), with_aws=False) == []
    assert judge_names(endpoint(DKR, f"123456789012.dkr.ecr.{REGION}.amazonaws.com"), with_aws=False) == []
    # The endpoint's own names work whatever private DNS does.
    own = f"vpce-0aaa-1x2y.sqs.{REGION}.vpce.amazonaws.com"
    assert judge_names(endpoint(SQS, own), with_aws=True) == []


def test_a_guessed_name_is_a_warning_offline_from_the_catalogue() -> None:
    e = endpoint(f"com.amazonaws.{REGION}.kinesis-streams", f"kinesis-streams.{REGION}.amazonaws.com")
    out = report(facts(observation(e, [dns("10.1.1.10", name=e.dns_names[0])], [probe("10.1.1.10")])))
    (f,) = out.findings
    assert f.code is Code.DNS_NAME_UNCOVERED and f.severity is Severity.WARNING
    assert f.evidence["name"] == f"kinesis-streams.{REGION}.amazonaws.com"
    assert f.evidence["service_private_dns_names"] == [f"kinesis.{REGION}.amazonaws.com"]
    assert f.evidence["source"].startswith("vpc-verify's catalogue")
    assert f"kinesis.{REGION}.amazonaws.com" in f.hint


def test_documented_dual_stack_and_fips_names_are_covered_offline() -> None:
    """Issue 12, item 1: AWS Batch documents batch.<r>.api.aws (dual-stack) beside batch.<r>.amazonaws.com, and
    batch-fips.<r>.api.aws for its FIPS endpoint; the catalogue lists them, so neither is DNS_NAME_UNCOVERED."""
    batch, fips = f"com.amazonaws.{REGION}.batch", f"com.amazonaws.{REGION}.batch-fips"
    assert (
        judge_names(endpoint(batch, f"batch.{REGION}.api.aws", f"batch.{REGION}.amazonaws.com"), with_aws=False) == []
    )
    assert judge_names(endpoint(fips, f"batch-fips.{REGION}.api.aws"), with_aws=False) == []
    # The form AWS says is not supported stays a warning.
    assert judge_names(endpoint(fips, f"fips.batch.{REGION}.amazonaws.com"), with_aws=False) == ["DNS_NAME_UNCOVERED"]


def test_the_apex_of_a_wildcard_is_not_covered_by_it() -> None:
    assert judge_names(endpoint(DKR, f"dkr.ecr.{REGION}.amazonaws.com"), with_aws=False) == ["DNS_NAME_UNCOVERED"]


def test_describe_vpc_endpoint_services_is_authoritative() -> None:
    # AWS lists a name the catalogue does not (a provider's new one): it is covered; the catalogue's is not.
    info = ServiceInfo(SQS, ("interface",), (f"queue.{REGION}.example.aws",), (), ())
    assert judge_names(endpoint(SQS, f"queue.{REGION}.example.aws"), with_aws=True, services={SQS: info}) == []
    out = judge_names(endpoint(SQS, f"sqs.{REGION}.amazonaws.com"), with_aws=True, services={SQS: info})
    assert out == ["DNS_NAME_UNCOVERED"]


def test_an_unknown_service_or_a_custom_one_is_not_judged() -> None:
    assert judge_names(endpoint(f"com.amazonaws.{REGION}.brand-new", "x.example"), with_aws=False) == []
    custom = Endpoint(name="b", type="service", service=None, dns_names=("billing.internal",))
    assert judge_names(custom, with_aws=False) == []


def test_an_s3_interface_endpoint_for_inbound_resolvers_only_says_why_the_name_answers_the_gateway() -> None:
    """Issue 12, item 3: with PrivateDnsOnlyForInboundResolverEndpoint, s3.<r> answers the gateway endpoint's public
    prefix list inside the VPC by design; the fix is to check the name as a gateway, the interface by its own name."""
    s3 = f"com.amazonaws.{REGION}.s3"
    e = Endpoint(name="s3-interface", type="interface", service=s3, dns_names=(f"s3.{REGION}.amazonaws.com",))
    interface = replace(
        vpce(service=s3),
        private_dns_only_for_inbound_resolver=True,
        dns_entries=(f"*.vpce-0aaa-1x2y.s3.{REGION}.vpce.amazonaws.com",),
    )
    o = observation(e, [dns("52.216.10.10", name=e.dns_names[0])], skipped={"52.216.10.10": "public address"})
    out = report(facts(o, aws=aws(state(endpoints=(interface,)))))
    (f,) = [f for f in out.findings if f.code is Code.DNS_PUBLIC_ADDRESS]
    assert "by design" in f.message and f.evidence["PrivateDnsOnlyForInboundResolverEndpoint"] is True
    assert "`type: gateway`" in f.hint and f"bucket.vpce-0aaa-1x2y.s3.{REGION}.vpce.amazonaws.com" in f.hint


def test_dns_record_ip_type_not_ip_address_type_decides_which_answers_are_expected() -> None:
    """Issue 12, item 3: a dual-stack endpoint (IpAddressType dualstack, ENIs with IPv6) whose records are IPv4 only
    (DnsRecordIpType ipv4) answers no AAAA by design: its IPv6 addresses are not missing answers."""
    v6 = {"eni-a": "2600:1f18::a", "eni-b": "2600:1f18::b"}
    base = state()
    enis = {k: replace(e, ipv6=(v6[k],)) for k, e in base.enis.items()}
    e = Endpoint(name="sqs", type="interface", service=SQS, dns_names=(NAME,), ip_address_type="dualstack")
    result = dns("10.1.1.10", "10.1.2.10")
    o = observation(e, [result], [probe("10.1.1.10"), probe("10.1.2.10")])
    for record, missing in (("ipv4", []), ("dualstack", ["DNS_MISSING_ADDRESS", "DNS_MISSING_ADDRESS"])):
        vpc = replace(
            base,
            enis=enis,
            endpoints=(replace(vpce(), ip_address_type="dualstack", dns_record_ip_type=record), base.endpoints[1]),
        )
        assert judged(facts(o, cidrs=(CIDR, "2600:1f18::/56"), aws=aws(vpc))) == missing, record
