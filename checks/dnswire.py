"""The DNS wire format, only as far as the DNS probe needs it: build a query, read a response's answers.

A query is a fixed header, the name and an EDNS OPT record: built here (once per name and type; only the id
changes), as reading a UDP response here is about ten times cheaper than `dns.message.from_wire`, which
builds every object of the message: at a thousand endpoints a run, dnspython's message building and parsing
were most of the DNS phase's CPU, and importing it a third of the time to the first packet. dnspython
handles TCP (imported then); anything this reader does not understand is malformed (`WireError`), and
dnspython is then asked for the precise reason.
"""

from __future__ import annotations

import functools
import socket
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dns.message

A, CNAME, AAAA = 1, 5, 28
IN = 1
OPT = 41
RD = 0x0100
MAX_NAME = 253
EDNS_PAYLOAD = 1232  # DNS Flag Day 2020: room for a long ENI list, no IP fragmentation
_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_MAX_POINTERS = 64


class WireError(ValueError):
    """The response is not a well-formed DNS message."""


@dataclass(frozen=True, slots=True)
class Record:
    """One answer record the probe cares about: owner name (lower case, no final dot), type, TTL, value."""

    owner: str
    rdtype: int
    ttl: int
    value: str  # an address for A/AAAA, the target name for CNAME


@dataclass(frozen=True, slots=True)
class Answer:
    """The parts of a response the probe uses."""

    rcode: int
    truncated: bool
    records: tuple[Record, ...]


def normal(name: str) -> str:
    """A name as records carry it: lower case, without the final dot."""
    return name.rstrip(".").lower()


def invalid_name(name: str) -> str:
    """Why `name` (normal form) cannot be asked ("" when it can): ASCII labels of 1-63 bytes, 253 at most."""
    if not name.isascii():
        return f"{name!r} is not ASCII (IDNA-encode it)"
    if len(name) > MAX_NAME:
        return f"the name is {len(name)} characters long, more than {MAX_NAME}"
    for label in name.split(".") if name else ():
        if not 1 <= len(label) <= 63:
            return f"a label of {len(label)} characters (1 to 63 allowed)"
    return ""


@functools.lru_cache(maxsize=8192)
def _template(name: str, rdtype: int) -> bytes:
    qname = b"".join(bytes((len(label),)) + label for label in name.encode("ascii").split(b".") if label) + b"\0"
    header = _HEADER.pack(0, RD, 1, 0, 0, 1)  # one question, one additional record (the OPT)
    opt = b"\0" + _RR.pack(OPT, EDNS_PAYLOAD, 0, 0)  # root owner, UDP payload, no extended flags, no options
    return header + qname + struct.pack("!HH", rdtype, IN) + opt


def query(name: str, rdtype: int, qid: int) -> bytes:
    """A recursive query for `name`/`rdtype` with EDNS (payload 1232) and the given id."""
    return qid.to_bytes(2, "big") + _template(name, rdtype)[2:]


def parse(wire: bytes, qid: int, name: str, rdtype: int) -> Answer | None:
    """The answer section of a response to query `qid` for `name`/`rdtype`; None when the datagram is not a
    response to that query (a late or stray packet, to be ignored). Raises WireError when malformed."""
    try:
        rid, flags, qdcount, ancount, _, _ = _HEADER.unpack_from(wire, 0)
    except struct.error:
        raise WireError(f"{len(wire)} bytes: too short for a DNS header") from None
    if rid != qid or not flags & 0x8000:
        return None
    try:
        offset = 12
        if qdcount:
            qname, offset = _name(wire, offset)
            qtype = int.from_bytes(wire[offset : offset + 2], "big")
            offset += 4
            if qname != normal(name) or qtype != rdtype:
                return None
        for _ in range(qdcount - 1):
            _, offset = _name(wire, offset)
            offset += 4
        records = []
        for _ in range(ancount):
            owner, offset = _name(wire, offset)
            kind, klass, ttl, length = _RR.unpack_from(wire, offset)
            offset += 10
            end = offset + length
            if end > len(wire):
                raise WireError("a record's data runs past the end of the message")
            if klass == IN:
                if kind == A and length == 4:
                    records.append(Record(owner, A, ttl, socket.inet_ntop(socket.AF_INET, wire[offset:end])))
                elif kind == AAAA and length == 16:
                    records.append(Record(owner, AAAA, ttl, socket.inet_ntop(socket.AF_INET6, wire[offset:end])))
                elif kind == CNAME:
                    target, _ = _name(wire, offset)
                    records.append(Record(owner, CNAME, ttl, target))
                elif kind in (A, AAAA):
                    raise WireError(f"an {'A' if kind == A else 'AAAA'} record of {length} bytes")
            offset = end
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise WireError(str(exc) or type(exc).__name__) from None
    return Answer(rcode=flags & 0x000F, truncated=bool(flags & 0x0200), records=tuple(records))


def _name(wire: bytes, offset: int) -> tuple[str, int]:
    """Read a possibly compressed name at `offset`: (name, offset after it in the original position)."""
    labels: list[str] = []
    end = -1
    jumps = 0
    length = 0
    while True:
        size = wire[offset]
        if size == 0:
            offset += 1
            break
        if size & 0xC0 == 0xC0:
            jumps += 1
            if jumps > _MAX_POINTERS:
                raise WireError("a compression pointer loop")
            if end < 0:
                end = offset + 2
            offset = ((size & 0x3F) << 8) | wire[offset + 1]
            continue
        if size & 0xC0:
            raise WireError(f"an unknown label type {size:#x}")
        label = wire[offset + 1 : offset + 1 + size]
        if len(label) != size:
            raise WireError("a label runs past the end of the message")
        length += size + 1
        if length > 255:
            raise WireError("a name longer than 255 bytes")
        labels.append(label.decode("ascii").lower())
        offset += 1 + size
    return ".".join(labels), (end if end >= 0 else offset)


def from_message(message: dns.message.Message) -> Answer:
    """The same view of a response dnspython has parsed (the TCP path)."""
    records = []
    for rrset in message.answer:
        if rrset.rdclass != IN or rrset.rdtype not in (A, AAAA, CNAME):
            continue
        owner = normal(rrset.name.to_text())
        for rd in rrset:
            value = normal(rd.target.to_text()) if rrset.rdtype == CNAME else rd.address
            records.append(Record(owner, int(rrset.rdtype), rrset.ttl, value))
    return Answer(rcode=message.rcode(), truncated=bool(message.flags & 0x0200), records=tuple(records))


def why_malformed(wire: bytes) -> str:
    """dnspython's account of what is wrong with a message this reader rejected."""
    import dns.message

    try:
        dns.message.from_wire(wire)
    except Exception as exc:  # any parse failure is the explanation sought
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return "unsupported content"
