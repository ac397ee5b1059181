"""TLS probe: connect to an IP, then handshake with SNI = the service's name, verifying chain and name.

The TCP phase is part of the result (one connection serves both), so a TLS check also reports connect time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from checks.tcp import TcpResult


@dataclass(frozen=True, slots=True)
class TlsSpec:
    """Dial `address:port`, send SNI `server_name`, verify against `ca_bundle` (None: system store)."""

    address: str
    port: int
    server_name: str
    timeout_s: float = 2.0  # for each phase: connect, then handshake
    verify: bool = True
    ca_bundle: str | None = None


class TlsStatus(StrEnum):
    """The outcome of the handshake (only meaningful when the TCP phase succeeded)."""

    OK = "ok"
    UNTRUSTED = "untrusted"  # chain does not verify (unknown CA, expired, self-signed, ...)
    NAME_MISMATCH = "name_mismatch"
    TIMEOUT = "timeout"
    FAILED = "failed"  # alert, reset, not TLS at all
    SKIPPED = "skipped"  # the TCP phase failed


@dataclass(frozen=True, slots=True)
class TlsResult:
    """TCP phase, handshake outcome and what the certificate says."""

    tcp: TcpResult
    status: TlsStatus
    handshake_ms: float | None = None
    version: str = ""
    cipher: str = ""
    cert_subject: str = ""
    cert_names: tuple[str, ...] = ()  # subjectAltName DNS entries
    cert_not_after: str | None = None  # ISO-8601 UTC
    verify_code: int | None = None  # OpenSSL X509_V_ERR_* on verification failure
    error: str = ""


async def handshake(spec: TlsSpec) -> TlsResult:
    """Connect and handshake; never raises."""
    raise NotImplementedError
