"""DNS probe: resolve A and AAAA for one name through a given resolver, keeping the CNAME chain.

NXDOMAIN, NODATA, SERVFAIL/REFUSED, timeouts and malformed answers are results, never exceptions.
Truncated UDP answers are retried over TCP.
"""

from __future__ import annotations

import asyncio
import functools
import operator
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any

from vpc_verify.checks import dnswire
from vpc_verify.checks.dnswire import AAAA, CNAME, Answer, WireError
from vpc_verify.checks.tcp import address_family, nonblocking_socket

_MAX_CHAIN = 16
_RECV = 65535

# Awaited before each question is sent (one packet: A and AAAA are two), e.g. a token bucket's `take`.
Pace = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DnsSpec:
    """What to resolve and where: an empty `nameservers` means the system resolver (/etc/resolv.conf)."""

    name: str
    nameservers: tuple[str, ...] = ()
    port: int = 53
    timeout_s: float = 1.0
    ipv4: bool = True  # ask A
    ipv6: bool = True  # ask AAAA


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

    def __reduce__(self) -> tuple[type[DnsResult], tuple[Any, ...]]:
        # Pickled as its fields in order: a worker sends thousands, and the dataclass's own state methods cost
        # three times as much.
        return (DnsResult, _DNSRESULT_FIELDS(self))


_DNSRESULT_FIELDS = operator.attrgetter(*(f.name for f in fields(DnsResult)))


async def resolve(spec: DnsSpec, *, pace: Pace | None = None) -> DnsResult:
    """Resolve `spec.name` (A and/or AAAA, per the spec) and return what happened; never raises.

    Each nameserver is tried in turn until one answers (a failing rcode is an answer); A and AAAA are
    asked concurrently over UDP with EDNS, and again over TCP when an answer comes back truncated. `pace`
    is awaited before every question sent, outside its timeout: waiting for a turn is not the resolver's time.
    """
    start = time.perf_counter()
    name = dnswire.normal(spec.name)
    invalid = dnswire.invalid_name(name)
    if invalid:
        return DnsResult(spec.name, DnsStatus.ERROR, "", (), (), 0.0, error=f"not a valid DNS name: {invalid}")
    nameservers = spec.nameservers or system_nameservers()
    if not nameservers:
        return DnsResult(
            spec.name,
            DnsStatus.ERROR,
            "",
            (),
            (),
            0.0,
            nameserver="system",
            error="no nameserver configured (/etc/resolv.conf has none)",
        )
    types = tuple(t for t, asked in ((dnswire.A, spec.ipv4), (AAAA, spec.ipv6)) if asked) or (dnswire.A,)
    per_server = spec.timeout_s / len(nameservers)
    result: DnsResult | None = None
    for where in nameservers:
        if len(types) == 1:  # no task for a single question
            outcomes = [await _ask(name, types[0], where, spec.port, per_server, pace)]
        else:
            outcomes = await asyncio.gather(*(_ask(name, t, where, spec.port, per_server, pace) for t in types))
        result = _result(spec.name, name, types, outcomes, where, (time.perf_counter() - start) * 1000.0)
        if result.status not in (DnsStatus.TIMEOUT, DnsStatus.ERROR):
            break
    assert result is not None
    if not spec.nameservers:
        result = replace(result, nameserver=f"system ({result.nameserver})")
    return result


@functools.lru_cache(maxsize=1)
def system_nameservers() -> tuple[str, ...]:
    """The nameservers of /etc/resolv.conf (read once per process)."""
    import dns.exception
    import dns.resolver

    try:
        return tuple(str(ns) for ns in dns.resolver.Resolver(configure=True).nameservers)
    except dns.exception.DNSException:
        return ()


@dataclass(frozen=True, slots=True)
class _Failure:
    status: DnsStatus
    error: str


def _result(
    asked: str, name: str, types: tuple[int, ...], outcomes: list[Answer | _Failure], where: str, ms: float
) -> DnsResult:
    first = outcomes[0]
    if isinstance(first, _Failure):
        return DnsResult(asked, first.status, "", (), (), ms, nameserver=where, error=first.error)
    answers: list[str] = []
    chain: tuple[str, ...] = ()
    ttls: list[int] = []
    errors: list[str] = []
    for rdtype, outcome in zip(types, outcomes, strict=True):
        kind = "A" if rdtype == dnswire.A else "AAAA"
        if isinstance(outcome, _Failure):
            errors.append(f"{kind}: {outcome.error}")
            continue
        walked = _walk(outcome, name, rdtype)
        if isinstance(walked, str):
            return DnsResult(
                asked, DnsStatus.ERROR, _rcode_text(outcome.rcode), (), (), ms, nameserver=where, error=walked
            )
        addresses, names, ttl = walked
        answers.extend(a for a in addresses if a not in answers)
        if len(names) > len(chain):
            chain = names
        if ttl is not None:
            ttls.append(ttl)
        if outcome.rcode != first.rcode and not addresses:
            errors.append(f"{kind}: {_rcode_text(outcome.rcode)}")

    rcode_text = _rcode_text(first.rcode)
    status = DnsStatus.OK if answers else _RCODE_STATUS.get(first.rcode, DnsStatus.ERROR)
    if status is DnsStatus.ERROR:
        errors.append(f"rcode {rcode_text}")
    return DnsResult(
        asked,
        status,
        rcode_text,
        tuple(answers),
        chain,
        ms,
        nameserver=where,
        error="; ".join(errors),
        ttl=min(ttls) if ttls else None,
    )


_RCODE_STATUS: dict[int, DnsStatus] = {
    0: DnsStatus.NODATA,
    3: DnsStatus.NXDOMAIN,
    2: DnsStatus.SERVFAIL,
    5: DnsStatus.REFUSED,
}
# RFC 1035/2136/6895 mnemonics, as dnspython names them (the header carries 4 bits: 0-15).
_RCODES = (
    "NOERROR",
    "FORMERR",
    "SERVFAIL",
    "NXDOMAIN",
    "NOTIMP",
    "REFUSED",
    "YXDOMAIN",
    "YXRRSET",
    "NXRRSET",
    "NOTAUTH",
    "NOTZONE",
)


def _rcode_text(code: int) -> str:
    return _RCODES[code] if 0 <= code < len(_RCODES) else str(code)


async def _ask(name: str, rdtype: int, where: str, port: int, timeout_s: float, pace: Pace | None) -> Answer | _Failure:
    """One question over UDP (a connected socket, so an ICMP port-unreachable is seen at once)."""
    try:
        family = address_family(where)
    except ValueError:
        return _Failure(DnsStatus.ERROR, f"nameserver {where!r} is not an IP address")
    if pace is not None:
        await pace()
    qid = int.from_bytes(os.urandom(2), "big")  # as secrets.randbits, without importing secrets (hmac, random)
    sock = nonblocking_socket(family, socket.SOCK_DGRAM)
    try:
        outcome = await _exchange(
            sock,
            (where, port),
            dnswire.query(name, rdtype, qid),
            timeout_s,
            lambda wire: _accept(wire, qid, name, rdtype, f"{where}:{port}"),
        )
    except TimeoutError:
        return _Failure(DnsStatus.TIMEOUT, f"no response from {where}:{port} within {timeout_s * 1000:.0f} ms")
    except ConnectionRefusedError:
        return _Failure(
            DnsStatus.TIMEOUT, f"nothing answers DNS on {where}:{port} (ICMP port unreachable): the resolver is down"
        )
    except OSError as exc:
        # No route, a local firewall: the question never reached a resolver, so no answer came (a timeout,
        # as a client would see it), not a resolver that failed.
        return _Failure(DnsStatus.TIMEOUT, f"the question could not reach {where}:{port}: {exc.strerror or exc}")
    finally:
        sock.close()
    if isinstance(outcome, Answer) and outcome.truncated:
        if pace is not None:
            await pace()
        return await _ask_tcp(name, rdtype, where, port, timeout_s)
    return outcome


def _accept(wire: bytes, qid: int, name: str, rdtype: int, where: str) -> Answer | _Failure | None:
    """The answer to the question in `wire`, a failure when it is malformed, None for a late or stray packet."""
    try:
        return dnswire.parse(wire, qid, name, rdtype)
    except WireError as exc:
        return _Failure(DnsStatus.ERROR, f"malformed response from {where}: {exc} ({dnswire.why_malformed(wire)})")


async def _exchange(
    sock: socket.socket,
    address: tuple[str, int],
    query: bytes,
    timeout_s: float,
    accept: Callable[[bytes], Answer | _Failure | None],
) -> Answer | _Failure:
    """Send `query` from the UDP socket to `address`, then return the first datagram `accept` takes; TimeoutError
    past `timeout_s`, OSError as the socket reports it (ICMP port unreachable: ConnectionRefusedError).

    Datagrams are taken by the socket's reader callback under one timer for the deadline: no task, no future per
    receive and no context manager per question.
    """
    loop = asyncio.get_running_loop()
    fd = sock.fileno()
    done: asyncio.Future[Answer | _Failure] = loop.create_future()

    def readable() -> None:
        if done.done():
            return
        try:
            wire = sock.recv(_RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            done.set_exception(exc)
            return
        try:
            taken = accept(wire)
        except Exception as exc:  # a bug in the reader fails the question, as it would if awaited
            done.set_exception(exc)
            return
        if taken is not None:
            done.set_result(taken)

    def expired() -> None:
        if not done.done():
            done.set_exception(TimeoutError())

    timer = loop.call_at(loop.time() + timeout_s, expired)
    try:
        sock.connect(address)
        try:
            sock.send(query)
        except BlockingIOError:  # the socket's send buffer is full: wait until it takes the question
            await asyncio.wait_for(loop.sock_sendall(sock, query), max(0.0, timer.when() - loop.time()))
        loop.add_reader(fd, readable)
        return await done
    finally:
        timer.cancel()
        loop.remove_reader(fd)


async def _ask_tcp(name: str, rdtype: int, where: str, port: int, timeout_s: float) -> Answer | _Failure:
    import dns.asyncbackend  # only a truncated answer needs dnspython
    import dns.asyncquery
    import dns.exception
    import dns.message
    import dns.rdatatype

    dns.asyncbackend.get_default_backend()  # its lazy imports, before the clock of the question starts

    query = dns.message.make_query(name, dns.rdatatype.RdataType.make(rdtype), use_edns=0, payload=dnswire.EDNS_PAYLOAD)
    try:
        response = await dns.asyncquery.tcp(query, where, timeout=timeout_s, port=port)
    except dns.exception.Timeout:
        return _Failure(
            DnsStatus.TIMEOUT,
            f"the answer was truncated and TCP to {where}:{port} did not answer within {timeout_s * 1000:.0f} ms",
        )
    except (OSError, EOFError) as exc:
        return _Failure(DnsStatus.ERROR, f"the answer was truncated and TCP to {where}:{port} failed: {exc}")
    except (dns.exception.DNSException, ValueError) as exc:
        return _Failure(DnsStatus.ERROR, f"malformed TCP response from {where}:{port}: {exc}")
    return dnswire.from_message(response)


def _walk(answer: Answer, name: str, rdtype: int) -> tuple[list[str], tuple[str, ...], int | None] | str:
    """Follow the CNAME chain from `name` through the answers: (addresses, chain, ttl), or an error text."""
    by_owner: dict[str, list[dnswire.Record]] = {}
    for record in answer.records:
        by_owner.setdefault(record.owner, []).append(record)
    current = name
    seen = {name}
    chain: list[str] = []
    for _ in range(_MAX_CHAIN + 1):
        records = by_owner.get(current, [])
        found = [r for r in records if r.rdtype == rdtype]
        if found:
            return [r.value for r in found], tuple(chain), min(r.ttl for r in found)
        cname = next((r for r in records if r.rdtype == CNAME), None)
        if cname is None:
            return [], tuple(chain), None
        current = cname.value
        chain.append(current)
        if current in seen:
            return f"CNAME loop: {' -> '.join([name, *chain])}"
        seen.add(current)
    return f"CNAME chain longer than {_MAX_CHAIN}: {' -> '.join(chain)}"
