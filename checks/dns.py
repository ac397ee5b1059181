"""DNS probe: resolve A and AAAA for one name through a given resolver, keeping the CNAME chain.

NXDOMAIN, NODATA, SERVFAIL/REFUSED, timeouts and malformed answers are results, never exceptions.
Truncated UDP answers are retried over TCP.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass, replace
from enum import StrEnum

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver

# EDNS buffer size of the DNS Flag Day 2020: large enough for a long ENI list, small enough not to fragment.
_EDNS_PAYLOAD = 1232
_MAX_CHAIN = 16


@dataclass(frozen=True, slots=True)
class DnsSpec:
    """What to resolve and where: an empty `nameservers` means the system resolver (/etc/resolv.conf)."""

    name: str
    nameservers: tuple[str, ...] = ()
    port: int = 53
    timeout_s: float = 1.0
    ipv6: bool = True  # also ask AAAA


class DnsStatus(StrEnum):
    """The outcome of resolving one name (A and AAAA together)."""

    OK = "ok"  # at least one address
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"  # the name exists, no A/AAAA
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"  # malformed answer, CNAME loop, network error talking to the resolver


@dataclass(frozen=True, slots=True)
class DnsResult:
    """What the resolver said: answers in the order A then AAAA, the CNAME chain followed, the rcode."""

    name: str
    status: DnsStatus
    rcode: str  # NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ... or "" when no response came
    answers: tuple[str, ...]
    cname_chain: tuple[str, ...]  # names the original name led to, in order, without the name itself
    ms: float
    nameserver: str = ""  # who answered ("system" for the system resolver)
    error: str = ""  # detail for TIMEOUT/ERROR and failing rcodes
    ttl: int | None = None  # smallest TTL of the address records


async def resolve(spec: DnsSpec) -> DnsResult:
    """Resolve `spec.name` (A, and AAAA when `spec.ipv6`) and return what happened; never raises.

    Each nameserver is tried in turn until one answers (a failing rcode is an answer); A and AAAA are
    asked concurrently, over UDP with EDNS, retried over TCP when the answer is truncated.
    """
    start = time.perf_counter()
    try:
        qname = dns.name.from_text(spec.name)
    except (dns.exception.DNSException, ValueError) as exc:
        return DnsResult(spec.name, DnsStatus.ERROR, "", (), (), 0.0, error=f"not a valid DNS name: {exc}")
    nameservers = spec.nameservers or system_nameservers()
    if not nameservers:
        return DnsResult(spec.name, DnsStatus.ERROR, "", (), (), 0.0, nameserver="system",
                         error="no nameserver configured (/etc/resolv.conf has none)")
    result: DnsResult | None = None
    per_server = spec.timeout_s / len(nameservers) if len(nameservers) > 1 else spec.timeout_s
    for where in nameservers:
        result = await _resolve_at(spec, qname, where, per_server, start)
        if result.status not in (DnsStatus.TIMEOUT, DnsStatus.ERROR):
            break
    assert result is not None
    if not spec.nameservers:
        result = replace(result, nameserver=f"system ({result.nameserver})")
    return result


@functools.lru_cache(maxsize=1)
def system_nameservers() -> tuple[str, ...]:
    """The nameservers of /etc/resolv.conf (read once per process)."""
    try:
        return tuple(str(ns) for ns in dns.resolver.Resolver(configure=True).nameservers)
    except dns.exception.DNSException:
        return ()


async def _resolve_at(spec: DnsSpec, qname: dns.name.Name, where: str, timeout_s: float, start: float) -> DnsResult:
    types = (dns.rdatatype.A, dns.rdatatype.AAAA) if spec.ipv6 else (dns.rdatatype.A,)
    outcomes = await asyncio.gather(*(_query(qname, t, where, spec.port, timeout_s) for t in types))
    ms = (time.perf_counter() - start) * 1000.0
    a_outcome = outcomes[0]
    if isinstance(a_outcome, _Failure):
        return DnsResult(spec.name, a_outcome.status, "", (), (), ms, nameserver=where, error=a_outcome.error)

    answers: list[str] = []
    chain: tuple[str, ...] = ()
    ttls: list[int] = []
    errors: list[str] = []
    for rdtype, outcome in zip(types, outcomes, strict=True):
        if isinstance(outcome, _Failure):
            errors.append(f"{dns.rdatatype.to_text(rdtype)}: {outcome.error}")
            continue
        walked = _walk(outcome, qname, rdtype)
        if isinstance(walked, str):
            return DnsResult(spec.name, DnsStatus.ERROR, dns.rcode.to_text(outcome.rcode()), (), (), ms,
                             nameserver=where, error=walked)
        addresses, names, ttl = walked
        answers.extend(a for a in addresses if a not in answers)
        if len(names) > len(chain):
            chain = names
        if ttl is not None:
            ttls.append(ttl)

    rcode = a_outcome.rcode()
    rcode_text = dns.rcode.to_text(rcode)
    if answers:
        status = DnsStatus.OK
    elif rcode == dns.rcode.NXDOMAIN:
        status = DnsStatus.NXDOMAIN
    elif rcode == dns.rcode.SERVFAIL:
        status = DnsStatus.SERVFAIL
    elif rcode == dns.rcode.REFUSED:
        status = DnsStatus.REFUSED
    elif rcode == dns.rcode.NOERROR:
        status = DnsStatus.NODATA
    else:
        status = DnsStatus.ERROR
        errors.append(f"rcode {rcode_text}")
    return DnsResult(spec.name, status, rcode_text, tuple(answers), chain, ms, nameserver=where,
                     error="; ".join(errors), ttl=min(ttls) if ttls else None)


@dataclass(frozen=True, slots=True)
class _Failure:
    status: DnsStatus
    error: str


async def _query(qname: dns.name.Name, rdtype: dns.rdatatype.RdataType, where: str, port: int,
                 timeout_s: float) -> dns.message.Message | _Failure:
    query = dns.message.make_query(qname, rdtype, use_edns=0, payload=_EDNS_PAYLOAD)
    try:
        response, _ = await dns.asyncquery.udp_with_fallback(query, where, timeout=timeout_s, port=port)
    except dns.exception.Timeout:
        return _Failure(DnsStatus.TIMEOUT, f"no response from {where}:{port} within {timeout_s * 1000:.0f} ms")
    except ConnectionRefusedError:
        return _Failure(DnsStatus.TIMEOUT, f"nothing answers DNS on {where}:{port} (ICMP port unreachable)")
    except OSError as exc:
        return _Failure(DnsStatus.ERROR, f"talking to {where}:{port} failed: {exc.strerror or exc}")
    except dns.exception.DNSException as exc:
        return _Failure(DnsStatus.ERROR, f"malformed response from {where}:{port}: {exc}")
    except (ValueError, EOFError) as exc:
        return _Failure(DnsStatus.ERROR, f"malformed response from {where}:{port}: {exc}")
    return response


def _walk(response: dns.message.Message, qname: dns.name.Name,
          rdtype: dns.rdatatype.RdataType) -> tuple[list[str], tuple[str, ...], int | None] | str:
    """Follow the CNAME chain from `qname` through the answer section; an error text for a loop."""
    current = qname
    seen = {qname}
    names: list[str] = []
    for _ in range(_MAX_CHAIN + 1):
        rrset = response.get_rrset(response.answer, current, dns.rdataclass.IN, rdtype)
        if rrset is not None:
            return [r.to_text() for r in rrset], tuple(names), rrset.ttl
        cname = response.get_rrset(response.answer, current, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if cname is None:
            return [], tuple(names), None
        current = cname[0].target
        names.append(current.to_text(omit_final_dot=True))
        if current in seen:
            return f"CNAME loop: {' -> '.join([qname.to_text(omit_final_dot=True), *names])}"
        seen.add(current)
    return f"CNAME chain longer than {_MAX_CHAIN}: {' -> '.join(names)}"

