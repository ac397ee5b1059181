"""TLS probe: connect to an IP, then handshake with SNI = the service's name, verifying chain and name.

One connection serves both phases: `handshake` returns the TCP result and, when the connect succeeded, the
TLS result; `handshake_over` runs the TLS phase on a socket already connected by `tcp.open_socket`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import socket
import ssl
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vpc_verify.checks import tcp, trust
from vpc_verify.checks.tcp import TcpResult, TcpSpec


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
    """The outcome of a handshake on a connected socket."""

    OK = "ok"
    UNTRUSTED = "untrusted"  # chain does not verify (unknown CA, expired, self-signed, ...)
    NAME_MISMATCH = "name_mismatch"
    TIMEOUT = "timeout"
    FAILED = "failed"  # alert, reset, not TLS at all


@dataclass(frozen=True, slots=True)
class TlsResult:
    """The handshake's outcome and what the certificate says."""

    status: TlsStatus
    handshake_ms: float | None = None
    version: str = ""
    cipher: str = ""
    cert_subject: str = ""
    cert_names: tuple[str, ...] = ()  # subjectAltName DNS entries
    cert_not_after: str | None = None  # ISO-8601 UTC
    verify_code: int | None = None  # OpenSSL X509_V_ERR_* on verification failure
    error: str = ""


# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH
_NAME_MISMATCH_CODES = frozenset({62, 64})
_RECV = 65536


class _Closed(Exception):
    """The peer closed the connection during the handshake."""


async def handshake(spec: TlsSpec) -> tuple[TcpResult, TlsResult | None]:
    """Connect and handshake; the TLS result is None when the connect failed. Never raises.

    The handshake runs on the raw non-blocking socket through an `ssl.SSLObject` and memory BIOs: the same
    OpenSSL work as asyncio's TLS transport, without its protocol machinery (about half the client CPU).
    On a verification failure a second, unverified handshake fetches the certificate for the evidence.
    """
    sock, tcp_result = await tcp.open_socket(TcpSpec(spec.address, spec.port, spec.timeout_s))
    if sock is None:
        return tcp_result, None
    return tcp_result, await handshake_over(sock, spec)


async def handshake_over(sock: socket.socket, spec: TlsSpec) -> TlsResult:
    """The handshake phase on a socket already connected by `tcp.open_socket` (closed here); never raises.

    Split from `handshake` so that a caller can bound cheap connects and costly handshakes separately.
    """
    try:
        ctx = trust.client_context(spec.verify, spec.ca_bundle)
    except (OSError, ssl.SSLError, ValueError) as exc:
        sock.close()
        return TlsResult(TlsStatus.FAILED, error=f"cannot load the trust store {spec.ca_bundle}: {exc}")
    start = time.perf_counter()
    try:
        tls_obj = await _handshake_on(sock, ctx, spec.server_name, spec.timeout_s)
    except ssl.SSLCertVerificationError as exc:
        ms = (time.perf_counter() - start) * 1000.0
        sock.close()
        return await _verify_failure(spec, exc, ms)
    except TimeoutError:
        sock.close()
        return TlsResult(
            TlsStatus.TIMEOUT,
            handshake_ms=(time.perf_counter() - start) * 1000.0,
            error=f"no TLS handshake within {spec.timeout_s * 1000:.0f} ms (the server accepted the "
            "connection but did not complete the handshake)",
        )
    except (ssl.SSLError, OSError, _Closed) as exc:
        sock.close()
        return TlsResult(TlsStatus.FAILED, handshake_ms=(time.perf_counter() - start) * 1000.0, error=_describe(exc))
    except BaseException:
        sock.close()
        raise
    ms = (time.perf_counter() - start) * 1000.0
    sock.close()
    return _success(tls_obj, ms)


async def _handshake_on(sock: socket.socket, ctx: ssl.SSLContext, server_name: str, timeout_s: float) -> ssl.SSLObject:
    """Drive the handshake from the socket's readiness callbacks: one reader registration and one future per
    handshake, where awaiting each recv would cost a future, a task step and two epoll changes."""
    loop = asyncio.get_running_loop()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_side=False, server_hostname=server_name or None)
    done: asyncio.Future[None] = loop.create_future()
    fd = sock.fileno()
    unsent = b""
    complete = False

    def finish(exc: BaseException | None = None) -> None:
        if done.done():
            return
        if exc is None:
            done.set_result(None)
        else:
            done.set_exception(exc)

    def flush() -> None:
        # What the handshake produced goes out; the client's Finished (TLS 1.3) too before the handshake
        # counts as done, so that the server sees a complete handshake.
        nonlocal unsent
        unsent += outgoing.read()
        if unsent:
            try:
                sent = sock.send(unsent)
            except (BlockingIOError, InterruptedError):
                sent = 0
            unsent = unsent[sent:]
            if unsent:
                loop.add_writer(fd, writable)
                return
        if complete:
            finish()

    def step() -> None:
        nonlocal complete
        try:
            obj.do_handshake()
            complete = True
        except ssl.SSLWantReadError:
            pass
        flush()

    def writable() -> None:
        loop.remove_writer(fd)
        try:
            flush()
        except OSError as exc:
            finish(exc)

    def readable() -> None:
        try:
            data = sock.recv(_RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            finish(exc)
            return
        if not data:
            finish(_Closed("the server closed the connection during the handshake"))
            return
        incoming.write(data)
        try:
            step()
        except (OSError, ssl.SSLError) as exc:
            finish(exc)

    loop.add_reader(fd, readable)
    try:
        async with asyncio.timeout(timeout_s):
            step()
            await done
    finally:
        loop.remove_reader(fd)
        loop.remove_writer(fd)
    return obj


async def _verify_failure(spec: TlsSpec, exc: ssl.SSLCertVerificationError, ms: float) -> TlsResult:
    code = exc.verify_code
    status = TlsStatus.NAME_MISMATCH if code in _NAME_MISMATCH_CODES else TlsStatus.UNTRUSTED
    # Name mismatch: the chain verified, so a handshake without the name check gives the parsed certificate.
    # Untrusted: only an unverified handshake gets the certificate, as DER.
    ctx = (
        trust.client_context(True, spec.ca_bundle, check_hostname=False)
        if status is TlsStatus.NAME_MISMATCH
        else trust.client_context(False)
    )
    facts: dict[str, Any] = {}
    sock, _ = await tcp.open_socket(TcpSpec(spec.address, spec.port, spec.timeout_s))
    if sock is not None:
        try:
            obj = await _handshake_on(sock, ctx, spec.server_name, spec.timeout_s)
            facts = _cert_facts(obj)
        except Exception:  # evidence is best effort: the verification failure is the finding
            pass
        finally:
            sock.close()
    return TlsResult(status, handshake_ms=ms, verify_code=code, error=exc.verify_message or _describe(exc), **facts)


def _success(obj: ssl.SSLObject, ms: float) -> TlsResult:
    cipher = obj.cipher()
    # An endpoint's ENIs serve one certificate: its facts are read once per certificate, not per handshake
    # (getpeercert() decodes the whole certificate into dicts; the DER is a copy).
    der = obj.getpeercert(binary_form=True)
    facts = _VERIFIED_FACTS.get(der) if der else None
    if facts is None:
        facts = _cert_facts(obj)
        if der:
            if len(_VERIFIED_FACTS) >= _MAX_CACHED:
                _VERIFIED_FACTS.clear()
            _VERIFIED_FACTS[der] = facts
    return TlsResult(
        TlsStatus.OK,
        handshake_ms=ms,
        version=obj.version() or "",
        cipher=cipher[0] if cipher else "",
        **facts,
    )


_VERIFIED_FACTS: dict[bytes, dict[str, Any]] = {}  # DER of a verified certificate -> its facts
_MAX_CACHED = 4096


def _cert_facts(obj: ssl.SSLObject) -> dict[str, Any]:
    """Subject, DNS names and expiry of the peer certificate (parsed by ssl when verified, else from DER)."""
    cert: dict[str, Any] | None = obj.getpeercert()  # typeshed's _PeerCertRetDictType is too loose to unpack
    if cert:
        subject = ", ".join(f"{k}={v}" for rdn in cert.get("subject", ()) for k, v in rdn)
        names = tuple(v for k, v in cert.get("subjectAltName", ()) if k in ("DNS", "IP Address"))
        not_after = cert.get("notAfter")
        iso = _iso_time(not_after) if isinstance(not_after, str) else None
        return {"cert_subject": subject, "cert_names": names, "cert_not_after": iso}
    der = obj.getpeercert(binary_form=True)
    return _der_facts(der) if der else {}


@functools.lru_cache(maxsize=1024)
def _iso_time(openssl_time: str) -> str:
    """ "Jun  1 12:00:00 2027 GMT" as ISO-8601 UTC (cached: strptime is a tenth of a handshake's Python cost)."""
    return dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(openssl_time), dt.UTC).isoformat()


def _der_facts(der: bytes) -> dict[str, Any]:
    try:
        from cryptography import x509
    except ImportError:  # optional: without it the finding still stands, with less evidence
        return {}
    try:
        cert = x509.load_der_x509_certificate(der)
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = tuple(san.get_values_for_type(x509.DNSName)) + tuple(
                str(ip) for ip in san.get_values_for_type(x509.IPAddress)
            )
        except x509.ExtensionNotFound:
            names = ()
        return {
            "cert_subject": cert.subject.rfc4514_string(),
            "cert_names": names,
            "cert_not_after": cert.not_valid_after_utc.isoformat(),
        }
    except Exception:  # a certificate we cannot parse is evidence-less, not a crash
        return {}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"{exc.reason} ({exc.library or 'ssl'})"
    if isinstance(exc, ConnectionResetError):
        return "the server reset the connection during the handshake"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
