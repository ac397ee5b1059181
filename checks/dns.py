"""DNS probe: resolve A and AAAA for one name through a given resolver, keeping the CNAME chain.

NXDOMAIN, NODATA, SERVFAIL/REFUSED, timeouts and malformed answers are results, never exceptions.
Truncated UDP answers are retried over TCP.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
    """Resolve `spec.name` (A, and AAAA when `spec.ipv6`) and return what happened; never raises."""
    raise NotImplementedError
