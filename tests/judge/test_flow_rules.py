"""Flow-log evidence on hand-made records: parsing AWS's default format, matching on the probe's own 5-tuple
(never a decoy on another source port), what each pattern of records proves, and the coverage note."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tests.judge.builders import EP, NOW, VPC_ID, aws, dns, facts, observation, probe, report
from vpc_verify.aws.flowlogs import DEFAULT_FORMAT, FlowFacts, FlowLog, Probe, parse
from vpc_verify.aws.model import Eni
from vpc_verify.checks.tcp import TcpResult, TcpStatus
from vpc_verify.findings import Code
from vpc_verify.judge import flows

AGENT, ENI_ADDR = "10.1.1.5", "10.1.1.10"
ENI = Eni("eni-a", ENI_ADDR, "eu-west-1a", "subnet-a")
VPC_LOG = FlowLog("fl-1", VPC_ID, "ALL", "cloud-watch-logs", "vpc-flow")
TCP = TcpResult(ENI_ADDR, 443, TcpStatus.TIMEOUT, 2000.0, "x", AGENT, 40001)


def rec(src: str, dst: str, sport: int, dport: int, action: str, eni: str = "eni-a") -> str:
    return f"2 123456789012 {eni} {src} {dst} {sport} {dport} 6 3 180 1763700000 1763700060 {action} OK"


def flow_facts(*lines: str, logs: tuple[FlowLog, ...] = (VPC_LOG,), error: str = "") -> FlowFacts:
    records = tuple(r for r in (parse(line, DEFAULT_FORMAT, "vpc-flow") for line in lines) if r is not None)
    return FlowFacts(
        logs,
        records,
        NOW - dt.timedelta(minutes=10),
        NOW,
        calls=1,
        events_scanned=len(lines),
        error=error,
        vpc_id=VPC_ID,
    )


def test_parse_the_default_format() -> None:
    r = parse(rec(AGENT, ENI_ADDR, 40001, 443, "REJECT"))
    assert r is not None and (r.interface_id, r.srcport, r.dstport, r.action, r.packets) == (
        "eni-a",
        40001,
        443,
        "REJECT",
        3,
    )
    assert parse("version account-id interface-id") is None  # a header or a short line
    nodata = parse("2 123456789012 eni-a - - - - - - - 1763700000 1763700060 - NODATA")
    assert nodata is not None and nodata.srcport is None and nodata.log_status == "NODATA"
    custom = parse("eni-a 10.1.1.5 40001 REJECT", "${interface-id} ${srcaddr} ${srcport} ${action}")
    assert custom is None  # no dstaddr: not a record this reader can match


def test_the_probe_matches_on_its_own_source_port() -> None:
    p = Probe(AGENT, 40001, ENI_ADDR, 443)
    mine, decoy, reply = (
        parse(rec(AGENT, ENI_ADDR, 40001, 443, "REJECT")),
        parse(rec(AGENT, ENI_ADDR, 1024, 443, "ACCEPT")),
        parse(rec(ENI_ADDR, AGENT, 443, 40001, "ACCEPT")),
    )
    assert mine is not None and decoy is not None and reply is not None
    assert p.outbound(mine) and not p.outbound(decoy) and not p.reply(decoy) and p.reply(reply)
    assert not Probe("10.9.9.9", 40001, ENI_ADDR, 443).outbound(mine)  # another source address
    assert Probe(None, 40001, ENI_ADDR, 443).outbound(mine)  # source unknown: the port decides


@pytest.mark.parametrize(
    ("lines", "verdict", "words"),
    [
        ([rec(AGENT, ENI_ADDR, 40001, 443, "REJECT")], "reject-inbound", "inbound at eni-a"),
        (
            [rec(AGENT, ENI_ADDR, 40001, 443, "ACCEPT"), rec(ENI_ADDR, AGENT, 443, 40001, "REJECT")],
            "reject-reply",
            "network ACL of subnet-a outbound",
        ),
        ([rec(AGENT, ENI_ADDR, 40001, 443, "REJECT", eni="eni-agent")], "reject-agent-outbound", "leaving eni-agent"),
        (
            [rec(AGENT, ENI_ADDR, 40001, 443, "ACCEPT"), rec(ENI_ADDR, AGENT, 443, 40001, "REJECT", eni="eni-agent")],
            "reject-agent-inbound",
            "agent subnet's network ACL inbound",
        ),
        ([rec(AGENT, ENI_ADDR, 40001, 443, "ACCEPT", eni="eni-agent")], "accepted-no-reply", "nothing back"),
        (
            [rec(AGENT, ENI_ADDR, 40001, 443, "ACCEPT"), rec(ENI_ADDR, AGENT, 443, 40001, "ACCEPT")],
            "accepted-both-ways",
            "the endpoint answered",
        ),
        ([rec(AGENT, ENI_ADDR, 1024, 443, "ACCEPT")], "no-record", "arrive within about 10 minutes"),
    ],
)
def test_what_the_records_prove(lines: list[str], verdict: str, words: str) -> None:
    shown = flows.evidence(flow_facts(*lines), ENI_ADDR, TCP, ENI)
    assert shown is not None
    text, evidence = shown
    assert evidence["flow_logs"]["verdict"] == verdict and words in text, text
    assert all(" 1024 " not in r["record"] for r in evidence["flow_logs"]["records"])  # never the decoy


def test_not_covered_unread_and_no_source_port() -> None:
    s3_only = FlowLog("fl-2", VPC_ID, "ALL", "s3", "arn:aws:s3:::flow-bucket")
    shown = flows.evidence(flow_facts(logs=(s3_only,)), ENI_ADDR, TCP, ENI)
    assert shown is not None and shown[1]["flow_logs"]["verdict"] == "not-covered"
    unread = flows.evidence(flow_facts(error="AccessDenied"), ENI_ADDR, TCP, ENI)
    assert unread is not None and unread[1]["flow_logs"]["verdict"] == "unread"
    assert flows.evidence(flow_facts(), ENI_ADDR, dataclasses.replace(TCP, local_port=None), ENI) is None


def test_joined_to_the_timeout_and_the_coverage_note() -> None:
    o = observation(EP, [dns(ENI_ADDR)], [probe(ENI_ADDR, TcpStatus.TIMEOUT)])
    timeout = dataclasses.replace(o.probes[ENI_ADDR].tcp, local_address=AGENT, local_port=40001)
    o = dataclasses.replace(o, probes={ENI_ADDR: dataclasses.replace(o.probes[ENI_ADDR], tcp=timeout)})
    joined = dataclasses.replace(facts(o, aws=aws()), flows=flow_facts(rec(AGENT, ENI_ADDR, 40001, 443, "REJECT")))
    r = report(joined)
    (t,) = [f for f in r.findings if f.code is Code.TCP_TIMEOUT]
    assert t.evidence["flow_logs"]["verdict"] == "reject-inbound" and "REJECT" in t.message
    assert not [f for f in r.findings if f.code is Code.FLOW_LOGS_NOT_COVERED]

    bare = dataclasses.replace(joined, flows=flow_facts(logs=()))
    (note,) = [f for f in report(bare).findings if f.code is Code.FLOW_LOGS_NOT_COVERED]
    assert note.evidence["network_interfaces"] == ["eni-a", "eni-b"] and not note.is_error
