"""The fast response reader agrees with dnspython, and rejects garbage only with WireError."""

from __future__ import annotations

import contextlib

import dns.message
import dns.rrset
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vpc_verify.checks import dnswire

label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?", fullmatch=True)
names = st.lists(label, min_size=1, max_size=5).map(lambda ls: ".".join(ls) + ".")
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
records = st.lists(st.tuples(names, st.sampled_from(["A", "AAAA", "CNAME", "TXT"]), ipv4, names), max_size=12)


def _response(qname: str, rdtype: str, recs: list[tuple[str, str, str, str]], qid: int) -> bytes:
    query = dns.message.make_query(qname, rdtype, use_edns=0, payload=1232)
    query.id = qid
    response = dns.message.make_response(query)
    for owner, kind, address, target in recs:
        value = {"A": address, "AAAA": "fd00::" + address.split(".")[-1], "CNAME": target, "TXT": '"x"'}[kind]
        response.answer.append(dns.rrset.from_text(owner, 30, "IN", kind, value))
    return bytes(response.to_wire())


@pytest.mark.slow  # 200 generated messages, each through both readers: seconds, not for the fast loop
@settings(max_examples=200, deadline=None)
@given(qname=names, rdtype=st.sampled_from(["A", "AAAA"]), recs=records, qid=st.integers(0, 0xFFFF))
def test_reader_matches_dnspython(qname: str, rdtype: str, recs: list[tuple[str, str, str, str]], qid: int) -> None:
    cname_owners = [owner.lower() for owner, kind, _, _ in recs if kind == "CNAME"]
    assume(len(cname_owners) == len(set(cname_owners)))  # dnspython keeps one of several CNAMEs: invalid anyway
    wire = _response(qname, rdtype, recs, qid)
    kind = dnswire.A if rdtype == "A" else dnswire.AAAA
    ours = dnswire.parse(wire, qid, qname, kind)
    theirs = dnswire.from_message(dns.message.from_wire(wire))
    assert ours is not None
    assert ours.rcode == theirs.rcode
    assert set(ours.records) == set(theirs.records)  # dnspython folds duplicate records into one rdataset


def test_query_has_the_id_and_parses() -> None:
    wire = dnswire.query("sqs.us-east-1.amazonaws.com", dnswire.A, 0xBEEF)
    message = dns.message.from_wire(wire)
    assert message.id == 0xBEEF
    assert message.question[0].name.to_text() == "sqs.us-east-1.amazonaws.com."
    assert message.edns == 0 and message.payload == 1232


def test_a_response_to_another_question_is_not_ours() -> None:
    wire = _response("other.example.com.", "A", [], 7)
    assert dnswire.parse(wire, 7, "sqs.us-east-1.amazonaws.com", dnswire.A) is None
    assert dnswire.parse(wire, 8, "other.example.com", dnswire.A) is None


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_is_rejected_only_with_wire_error(data: bytes) -> None:
    wire = b"\x12\x34\x81\x80" + data
    with contextlib.suppress(dnswire.WireError):  # any other exception fails the test
        dnswire.parse(wire, 0x1234, "x.example.com", dnswire.A)


def test_pointer_loop_is_malformed() -> None:
    header = b"\x00\x01\x81\x80\x00\x00\x00\x01\x00\x00\x00\x00"
    looping = header + b"\xc0\x0c" + b"\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01"
    with pytest.raises(dnswire.WireError, match="loop"):
        dnswire.parse(looping, 1, "x", dnswire.A)
