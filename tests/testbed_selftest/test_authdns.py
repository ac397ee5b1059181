"""authdns answers wildcards, zone apexes and DNS Firewall blocks as the Route 53 Resolver would."""

from __future__ import annotations

from collections.abc import Iterator

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from tests.testbed import authdns

ZONE = {
    "dkr.ecr.us-east-1.amazonaws.com": [],
    "*.dkr.ecr.us-east-1.amazonaws.com": [("CNAME", "vpce-1-a.dkr.ecr.us-east-1.vpce.amazonaws.com")],
    "vpce-1-a.dkr.ecr.us-east-1.vpce.amazonaws.com": [("A", "10.0.1.10"), ("AAAA", "2600:1f18::10")],
    "explicit.dkr.ecr.us-east-1.amazonaws.com": [("A", "10.0.9.9")],
    "blocked.walled-garden.example.com": [("A", "198.51.100.80")],
    "sqs.us-east-1.amazonaws.com": [("A", "10.0.1.11")],
}
FAULTS = {
    "sqs.us-east-1.amazonaws.com": "block:override:blocked.walled-garden.example.com",
    "kms.us-east-1.amazonaws.com": "block:nxdomain",
    "ssm.us-east-1.amazonaws.com": "block:nodata",
    "*.corp.example.com": "timeout",
}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    with authdns.running(ZONE, FAULTS) as where:
        yield where


def ask(server: tuple[str, int], name: str, rdtype: str = "A", timeout: float = 2.0) -> dns.message.Message:
    host, port = server
    return dns.query.udp(dns.message.make_query(name, rdtype), host, port=port, timeout=timeout)


def answers(message: dns.message.Message) -> list[tuple[str, str, str]]:
    return [(r.name.to_text(), dns.rdatatype.to_text(r.rdtype), item.to_text()) for r in message.answer for item in r]


def test_any_label_under_a_wildcard_gets_the_privatelink_chain(server: tuple[str, int]) -> None:
    for name in ("123456789012.dkr.ecr.us-east-1.amazonaws.com.", "a.b.dkr.ecr.us-east-1.amazonaws.com."):
        reply = ask(server, name)
        assert reply.rcode() == dns.rcode.NOERROR
        assert answers(reply) == [
            (name, "CNAME", "vpce-1-a.dkr.ecr.us-east-1.vpce.amazonaws.com."),
            ("vpce-1-a.dkr.ecr.us-east-1.vpce.amazonaws.com.", "A", "10.0.1.10"),
        ]
    assert answers(ask(server, "x.dkr.ecr.us-east-1.amazonaws.com", "AAAA"))[-1][2] == "2600:1f18::10"
    # a name with records of its own is not the wildcard's
    assert answers(ask(server, "explicit.dkr.ecr.us-east-1.amazonaws.com")) == [
        ("explicit.dkr.ecr.us-east-1.amazonaws.com.", "A", "10.0.9.9")
    ]


def test_the_apex_of_a_wildcard_zone_has_no_record(server: tuple[str, int]) -> None:
    reply = ask(server, "dkr.ecr.us-east-1.amazonaws.com")
    assert reply.rcode() == dns.rcode.NOERROR and reply.answer == []  # NODATA, not NXDOMAIN
    assert ask(server, "ecr.us-east-1.amazonaws.com").rcode() == dns.rcode.NXDOMAIN


def test_dns_firewall_block_responses(server: tuple[str, int]) -> None:
    override = ask(server, "sqs.us-east-1.amazonaws.com")
    assert answers(override) == [
        ("sqs.us-east-1.amazonaws.com.", "CNAME", "blocked.walled-garden.example.com."),
        ("blocked.walled-garden.example.com.", "A", "198.51.100.80"),
    ]
    assert ask(server, "kms.us-east-1.amazonaws.com").rcode() == dns.rcode.NXDOMAIN
    nodata = ask(server, "ssm.us-east-1.amazonaws.com")
    assert nodata.rcode() == dns.rcode.NOERROR and nodata.answer == []


def test_a_zone_wide_fault_silences_every_name_below(server: tuple[str, int]) -> None:
    for name in ("git.corp.example.com", "a.b.corp.example.com"):
        with pytest.raises(dns.exception.Timeout):
            ask(server, name, timeout=0.3)
    assert ask(server, "corp.example.com").rcode() == dns.rcode.NXDOMAIN  # the apex is not below it


def test_unknown_fault_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        authdns.Authority({}, {"x.example.com": "block:maybe"})
