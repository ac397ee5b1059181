"""TLS probe: connect to an IP, then handshake with SNI = the service's name, verifying chain and name.

One connection serves both phases: `handshake` returns the TCP result and, when the connect succeeded, the
TLS result; `handshake_over` runs the TLS phase on a socket already connected by `tcp.open_socket`.

A failure says what happened, with the evidence a person needs: for an untrusted chain, how many certificates
the server sent and who issued the last one (a missing intermediate or an unknown CA); for a server that
does not speak TLS, its first bytes ("SSH-2.0-...", "HTTP/1.1 400 ..."); for a server that offers only
TLS < 1.2, the version it offered; for a peer that accepted and then closed or reset, that, and how many
bytes it had sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import functools
import operator
import os
import socket
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from vpc_verify.checks import readiness, tcp, trust
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
    """The outcome of the handshake (only meaningful when the TCP phase succeeded)."""

    OK = "ok"
    UNTRUSTED = "untrusted"  # chain does not verify (unknown CA, expired, self-signed, ...)
    NAME_MISMATCH = "name_mismatch"
    TIMEOUT = "timeout"
    FAILED = "failed"  # alert, reset, not TLS at all


@dataclass(frozen=True, slots=True)
class TlsResult:
    """TCP phase, handshake outcome and what the certificate says."""

    status: TlsStatus
    handshake_ms: float | None = None
    version: str = ""
    cipher: str = ""
    cert_subject: str = ""
    cert_names: tuple[str, ...] = ()  # subjectAltName DNS entries
    cert_not_after: str | None = None  # ISO-8601 UTC
    verify_code: int | None = None  # OpenSSL X509_V_ERR_* on verification failure
    error: str = ""  # what happened, for people: the finding's message quotes it
    peer_chain_length: int | None = None  # certificates the server sent (untrusted chain)
    peer_issuer: str = ""  # issuer of the last certificate sent: what the trust store lacks (untrusted chain)
    first_bytes: str = ""  # the start of an answer that is not TLS, printable ("SSH-2.0-OpenSSH_9.6")
    protocol_offered: str = ""  # the version of a server that offers only TLS < 1.2 ("TLSv1.1")
    bytes_received: int | None = None  # bytes the server sent before a failed or stalled handshake

    def __reduce__(self) -> tuple[type[TlsResult], tuple[Any, ...]]:
        # Pickled as its fields in order: a worker sends thousands, and the dataclass's own state methods cost
        # three times as much.
        return (TlsResult, _TLSRESULT_FIELDS(self))


_TLSRESULT_FIELDS = operator.attrgetter(*(f.name for f in fields(TlsResult)))


# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH
_NAME_MISMATCH_CODES = frozenset({62, 64})
# X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT(_LOCALLY), DEPTH_ZERO_SELF_SIGNED_CERT, SELF_SIGNED_CERT_IN_CHAIN
_NO_ISSUER_CODES = frozenset({2, 20})
_SELF_SIGNED_LEAF, _SELF_SIGNED_IN_CHAIN = 18, 19
_RECV = 65536
_FIRST_BYTES = 64
_TLS_RECORD_TYPES = frozenset({0x14, 0x15, 0x16, 0x17})  # change_cipher_spec, alert, handshake, data
_HANDSHAKE, _ALERT, _SERVER_HELLO, _ALERT_PROTOCOL_VERSION = 0x16, 0x15, 0x02, 70
_VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1.0", 0x0302: "TLSv1.1"}
_DN_SHORT = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C"}


class _Closed(Exception):
    """The peer closed the connection during the handshake."""


class _Wire:
    """What the server sent during one handshake: its first bytes and how many in all."""

    __slots__ = ("first", "received")

    def __init__(self) -> None:
        self.first = b""
        self.received = 0

    def saw(self, data: bytes) -> None:
        if len(self.first) < _FIRST_BYTES:
            self.first += data[: _FIRST_BYTES - len(self.first)]
        self.received += len(data)


async def handshake(spec: TlsSpec) -> tuple[TcpResult, TlsResult | None]:
    """Connect and handshake; the TLS result is None when the connect failed. Never raises.

    The handshake runs on the raw non-blocking socket through an `ssl.SSLObject` and memory BIOs: the same
    OpenSSL work as asyncio's TLS transport, without its protocol machinery (about half the client CPU).
    On a verification failure a second, unverified handshake fetches the certificate for the evidence.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[tuple[TcpResult, TlsResult | None]] = loop.create_future()

    def finished(tcp_result: TcpResult, tls_result: TlsResult | None) -> None:
        if not done.done():
            done.set_result((tcp_result, tls_result))

    dial = Dial(loop, spec.address, spec.port, spec.timeout_s, spec, Dial.handshake, finished)
    dial.start()
    try:
        return await done
    finally:
        dial.cancel()


Connected = Callable[["Dial"], None]


def _ignore(dial: Dial) -> None:
    """The `connected` of a dial that has ended."""


Finished = Callable[[TcpResult, "TlsResult | None"], None]


class Dial:
    """TCP connect, then (given a TlsSpec) the TLS handshake on one address, driven by readiness callbacks alone:
    no task, no future, one timer for both phases' deadlines.

    `start` connects. A refused, unreachable or timed-out connect, or a connect without TLS, calls
    `finished(tcp, None)`; a connect with TLS to follow calls `connected(dial)`, and its owner calls `handshake`
    when it may (a bound on handshakes in flight), then `finished(tcp, tls)` is called once it ends. `cancel`
    stops whatever is under way, and nothing is called after it. The results are those of `tcp.open_socket`
    and `handshake_over`: the coroutines and this class give the same findings. `readiness` watches the socket
    (default: the loop's own registrations; a sweep passes one epoll set for all its probes).
    """

    __slots__ = (
        "_address",
        "_complete",
        "_connected",
        "_deadline",
        "_evidence",
        "_fd",
        "_finished",
        "_incoming",
        "_io",
        "_loop",
        "_obj",
        "_outgoing",
        "_port",
        "_sock",
        "_spec",
        "_started",
        "_tcp",
        "_timeout_s",
        "_timer",
        "_unsent",
        "_watching",
        "_wire",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        address: str,
        port: int,
        timeout_s: float,
        spec: TlsSpec | None,
        connected: Connected,
        finished: Finished,
        io: readiness.Readiness | None = None,
    ) -> None:
        self._loop = loop
        self._address = address
        self._port = port
        self._timeout_s = timeout_s
        self._spec = spec
        self._connected = connected
        self._finished: Finished | None = finished
        self._io = io or readiness.LoopReadiness(loop)
        self._sock: socket.socket | None = None
        self._fd = -1
        self._watching = 0  # readiness.READ / WRITE
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0  # loop time: when the phase under way times out
        self._started = 0.0
        self._tcp: TcpResult | None = None
        self._obj: ssl.SSLObject | None = None
        self._incoming: ssl.MemoryBIO | None = None
        self._outgoing: ssl.MemoryBIO | None = None
        self._unsent = b""
        self._complete = False
        self._wire: _Wire | None = None
        self._evidence: asyncio.Future[TlsResult] | None = None

    def start(self) -> None:
        """Connect (without waiting): the outcome comes through the callbacks."""
        self._started = time.perf_counter()
        try:
            family = tcp.address_family(self._address)
        except ValueError:
            self._end(tcp.not_an_address(self._address, self._port), None)
            return
        sock = self._sock = tcp.nonblocking_socket(family, socket.SOCK_STREAM)
        self._fd = sock.fileno()
        err = sock.connect_ex((self._address, self._port))
        if err in (errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY):
            self._watch(readiness.WRITE)
            self._arm(self._timeout_s)
        else:
            self._connect_ended(err)

    def handshake(self) -> None:
        """Begin the TLS handshake on the connected socket (after `connected`)."""
        spec, sock = self._spec, self._sock
        if spec is None or sock is None or self._finished is None:
            return
        try:
            ctx = trust.client_context(spec.verify, spec.ca_bundle)
        except (OSError, ssl.SSLError, ValueError) as exc:
            self._tls_ended(TlsResult(TlsStatus.FAILED, error=f"cannot load the trust store {spec.ca_bundle}: {exc}"))
            return
        self._started = time.perf_counter()
        self._wire = _Wire()
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._obj = ctx.wrap_bio(
            self._incoming, self._outgoing, server_side=False, server_hostname=spec.server_name or None
        )
        self._watch(readiness.READ)
        self._arm(spec.timeout_s)
        self._step()

    def cancel(self) -> None:
        """Stop: the socket is closed, the timer and any evidence-gathering task cancelled; no callback follows."""
        self._finished = None
        self._release()
        self._drop()
        if self._evidence is not None:
            self._evidence.cancel()

    def _watch(self, events: int) -> None:
        if events != self._watching:
            self._watching = events
            self._io.watch(self._fd, events, self._ready)

    def _ready(self, events: int) -> None:
        if self._sock is None:
            return
        if self._obj is None:
            if self._watching & readiness.WRITE:  # the connect ended
                self._connect_done()
            return
        if events & readiness.WRITE and self._watching & readiness.WRITE:
            self._writable()
        if events & readiness.READ and self._sock is not None:
            self._readable()

    # The connect.

    def _connect_done(self) -> None:
        assert self._sock is not None
        self._connect_ended(self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
        if self._sock is not None and self._obj is None and self._watching:
            # Connected, waiting for its turn to handshake: nothing to watch meanwhile.
            self._watching = 0
            self._io.forget(self._fd)

    def _connect_ended(self, err: int) -> None:
        assert self._sock is not None
        status, error = (tcp.TcpStatus.OK, "") if not err else tcp.failure(OSError(err, os.strerror(err)))
        ms = (time.perf_counter() - self._started) * 1000.0
        result = self._tcp = tcp.outcome(self._sock, self._address, self._port, status, ms, error)
        if status is not tcp.TcpStatus.OK or self._spec is None:
            self._end(result, None)
            return
        self._connected(self)

    # The handshake: what the server sends is taken by the reader callback, what OpenSSL produces goes out at
    # once (or when the socket takes it).

    def _step(self) -> None:
        obj = self._obj
        assert obj is not None
        try:
            obj.do_handshake()
            self._complete = True
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLCertVerificationError as exc:
            self._verify_failed(exc)
            return
        except (ssl.SSLError, OSError) as exc:
            self._failed(exc)
            return
        if self._flush() and self._complete:
            # The client's Finished (TLS 1.3) is out before the handshake counts as done, so that the server
            # sees a complete handshake.
            self._succeeded(obj)

    def _flush(self) -> bool:
        """Send what the handshake produced; False when some is left (the writer waits) or it failed."""
        assert self._outgoing is not None and self._sock is not None
        unsent = self._unsent + self._outgoing.read() if self._unsent else self._outgoing.read()
        if unsent:
            try:
                sent = self._sock.send(unsent)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._failed(exc)
                return False
            unsent = unsent[sent:]
            if unsent:
                self._watch(readiness.READ | readiness.WRITE)
        self._unsent = unsent
        return not unsent

    def _writable(self) -> None:
        self._watch(readiness.READ)
        if self._flush() and self._complete and self._obj is not None:
            self._succeeded(self._obj)

    def _readable(self) -> None:
        sock = self._sock
        assert sock is not None
        try:
            data = sock.recv(_RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._failed(exc)
            return
        if not data:
            self._failed(_Closed("the server closed the connection during the handshake"))
            return
        assert self._wire is not None and self._incoming is not None
        self._wire.saw(data)
        self._incoming.write(data)
        self._step()

    def _succeeded(self, obj: ssl.SSLObject) -> None:
        ms = (time.perf_counter() - self._started) * 1000.0
        self._release()
        self._tls_ended(_success(obj, ms))

    # Deadlines and endings. One timer serves both phases: when it fires early for the phase under way (the
    # handshake began after the connect's timer was armed), it is armed again for that phase's deadline.

    def _arm(self, timeout_s: float) -> None:
        self._deadline = self._loop.time() + timeout_s
        timer = self._timer
        if timer is not None and timer.when() > self._deadline:
            timer.cancel()
            timer = None
        if timer is None:
            self._timer = self._loop.call_at(self._deadline, self._expired, self._deadline)

    def _expired(self, armed_for: float) -> None:
        self._timer = None
        if self._sock is None:
            return
        if self._tcp is not None and self._obj is None:
            return  # connected, waiting for its turn: the handshake arms its own deadline
        if self._deadline > armed_for:
            self._timer = self._loop.call_at(self._deadline, self._expired, self._deadline)
            return
        if self._obj is None:
            ms = (time.perf_counter() - self._started) * 1000.0
            result = tcp.outcome(
                self._sock, self._address, self._port, tcp.TcpStatus.TIMEOUT, ms, tcp.timed_out(self._timeout_s)
            )
            self._end(result, None)
            return
        assert self._spec is not None and self._wire is not None
        wire = self._wire
        self._release()
        self._tls_ended(
            TlsResult(
                TlsStatus.TIMEOUT,
                handshake_ms=(time.perf_counter() - self._started) * 1000.0,
                error=f"no TLS handshake within {self._spec.timeout_s * 1000:.0f} ms: {_stalled(wire)}",
                **_wire_facts(wire),
            )
        )

    def _failed(self, exc: BaseException) -> None:
        wire = self._wire or _Wire()
        ms = (time.perf_counter() - self._started) * 1000.0
        self._release()
        self._tls_ended(TlsResult(TlsStatus.FAILED, handshake_ms=ms, error=_failure(exc, wire), **_wire_facts(wire)))

    def _verify_failed(self, exc: ssl.SSLCertVerificationError) -> None:
        assert self._spec is not None
        ms = (time.perf_counter() - self._started) * 1000.0
        self._release()
        # The evidence takes a second, unverified handshake: a coroutine, on this rare path only.
        evidence = self._evidence = asyncio.ensure_future(_verify_failure(self._spec, exc, ms), loop=self._loop)
        evidence.add_done_callback(self._evidence_done)

    def _evidence_done(self, evidence: asyncio.Future[TlsResult]) -> None:
        self._evidence = None
        if evidence.cancelled():
            return
        error = evidence.exception()
        if error is not None:
            self._failed(error)
            return
        self._tls_ended(evidence.result())

    def _tls_ended(self, result: TlsResult) -> None:
        assert self._tcp is not None
        self._end(self._tcp, result)

    def _end(self, tcp_result: TcpResult, tls_result: TlsResult | None) -> None:
        self._release()
        finished, self._finished = self._finished, None
        self._drop()
        if finished is not None:
            finished(tcp_result, tls_result)

    def _drop(self) -> None:
        # The owner's callbacks usually hold the owner, which holds this dial: no cycle is left for the
        # collector, and the TLS state (tens of KB) goes now rather than at the next collection.
        self._connected = _ignore
        self._obj = self._incoming = self._outgoing = self._wire = None

    def _release(self) -> None:
        """Close the socket and forget it, cancel the timer (idempotent)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._watching:
            self._watching = 0
            self._io.forget(self._fd)
        sock.close()


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
    wire = _Wire()
    try:
        tls_obj = await _handshake_on(sock, ctx, spec.server_name, spec.timeout_s, wire)
    except ssl.SSLCertVerificationError as exc:
        ms = (time.perf_counter() - start) * 1000.0
        sock.close()
        return await _verify_failure(spec, exc, ms)
    except TimeoutError:
        sock.close()
        return TlsResult(
            TlsStatus.TIMEOUT,
            handshake_ms=(time.perf_counter() - start) * 1000.0,
            error=f"no TLS handshake within {spec.timeout_s * 1000:.0f} ms: {_stalled(wire)}",
            **_wire_facts(wire),
        )
    except (ssl.SSLError, OSError, _Closed) as exc:
        sock.close()
        return TlsResult(
            TlsStatus.FAILED,
            handshake_ms=(time.perf_counter() - start) * 1000.0,
            error=_failure(exc, wire),
            **_wire_facts(wire),
        )
    except BaseException:
        sock.close()
        raise
    ms = (time.perf_counter() - start) * 1000.0
    sock.close()
    return _success(tls_obj, ms)


async def _handshake_on(
    sock: socket.socket, ctx: ssl.SSLContext, server_name: str, timeout_s: float, wire: _Wire | None = None
) -> ssl.SSLObject:
    """Drive the handshake from the socket's readiness callbacks: one reader registration and one future per
    handshake, where awaiting each recv would cost a future, a task step and two epoll changes. `wire`, when
    given, keeps what the server sent (its first bytes and how many), for the failure's evidence."""
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
        if wire is not None:
            wire.saw(data)
        incoming.write(data)
        try:
            step()
        except (OSError, ssl.SSLError) as exc:
            finish(exc)

    def expired() -> None:
        finish(TimeoutError())

    loop.add_reader(fd, readable)
    # A timer rather than asyncio.timeout: the deadline is one more callback, not a context manager per handshake.
    timer = loop.call_at(loop.time() + timeout_s, expired)
    try:
        step()
        await done
    finally:
        timer.cancel()
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
            if status is TlsStatus.UNTRUSTED:
                facts.update(_chain_facts(obj))
        except Exception:  # evidence is best effort: the verification failure is the finding
            pass
        finally:
            sock.close()
    error = exc.verify_message or _describe(exc)
    if status is TlsStatus.UNTRUSTED:
        error = _untrusted(error, code, facts.get("peer_chain_length"), facts.get("peer_issuer", ""))
    return TlsResult(status, handshake_ms=ms, verify_code=code, error=error, **facts)


def _chain_facts(obj: ssl.SSLObject) -> dict[str, Any]:
    """How many certificates the server sent and the issuer of the last one (unverified: read, not trusted)."""
    # Public as SSLObject.get_unverified_chain from Python 3.13; the same method of _ssl exists since 3.10.
    raw = getattr(obj, "_sslobj", None)
    getter = getattr(raw, "get_unverified_chain", None)
    chain = getter() if callable(getter) else None
    if not chain:
        return {}
    last = chain[-1]
    info = last.get_info() if hasattr(last, "get_info") else {}
    return {"peer_chain_length": len(chain), "peer_issuer": _dn(info.get("issuer", ()))}


def _dn(rdns: Any) -> str:
    """An OpenSSL name as ssl parses it, written `CN=..., O=...`."""
    parts = [f"{_DN_SHORT.get(key, key)}={value}" for rdn in rdns for key, value in rdn]
    return ", ".join(parts)


def _untrusted(error: str, code: int | None, chain_length: int | None, issuer: str) -> str:
    """The verification error with what the chain the server sent says about it."""
    if chain_length is None or not issuer:
        return error
    if code == _SELF_SIGNED_LEAF:
        return f"{error}: the server's certificate is self-signed ({issuer}) and not in the trust store"
    if code == _SELF_SIGNED_IN_CHAIN:
        return (
            f"{error}: the server sent {chain_length} certificates ending at the root {issuer}, which the trust "
            "store does not hold (unknown CA)"
        )
    if code in _NO_ISSUER_CODES and chain_length == 1:
        return (
            f"{error}: the server sent only its own certificate (chain of 1), issued by {issuer}, which the trust "
            f"store does not hold: most likely a missing intermediate certificate (the server must send the "
            f"certificate of {issuer}), else an unknown CA"
        )
    if code in _NO_ISSUER_CODES:
        return (
            f"{error}: the server sent {chain_length} certificates, the last issued by {issuer}, which the trust "
            "store does not hold (unknown CA)"
        )
    return error


def _wire_facts(wire: _Wire) -> dict[str, Any]:
    facts: dict[str, Any] = {"bytes_received": wire.received}
    if _is_not_tls(wire.first):
        facts["first_bytes"] = _printable(wire.first)
    offered = _offered_version(wire.first)
    if offered:
        facts["protocol_offered"] = offered
    return facts


def _is_not_tls(first: bytes) -> bool:
    """Whether the server's first bytes are not a TLS record header (type 20-23, then version 3.x)."""
    if not first:
        return False
    return first[0] not in _TLS_RECORD_TYPES or (len(first) > 1 and first[1] != 0x03)


def _printable(first: bytes) -> str:
    """The first line of what the server sent, with other bytes escaped."""
    line = first.split(b"\r", 1)[0].split(b"\n", 1)[0] or first
    return "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in line)


def _offered_version(first: bytes) -> str:
    """The version of a server that answered the ClientHello with a ServerHello below TLS 1.2, or with the
    protocol_version alert (it offers none of TLS 1.2 and 1.3); "" otherwise."""
    if len(first) >= 11 and first[0] == _HANDSHAKE and first[5] == _SERVER_HELLO:
        version = first[9] << 8 | first[10]
        return _VERSIONS.get(version, "") if version < 0x0303 else ""
    if len(first) >= 7 and first[0] == _ALERT and first[6] == _ALERT_PROTOCOL_VERSION:
        return "older than TLSv1.2"
    return ""


def _stalled(wire: _Wire) -> str:
    if _is_not_tls(wire.first):
        return f"the server answered something other than TLS ({_printable(wire.first)!r}), then waited"
    if not wire.received:
        return "the server accepted the connection but sent nothing"
    return f"the server sent {wire.received} bytes of the handshake, then nothing more"


def _failure(exc: BaseException, wire: _Wire) -> str:
    """What happened in a handshake that failed (not a verification failure), from what the server sent."""
    if _is_not_tls(wire.first):
        return f"the server answered something other than TLS: {_printable(wire.first)!r}"
    offered = _offered_version(wire.first)
    if offered.startswith("TLS") or offered.startswith("SSL"):
        return f"the server offers only {offered}; vpc-verify requires TLS 1.2 or later"
    if offered:
        return "the server refused TLS 1.2 and 1.3 (alert protocol_version): it offers only older versions"
    reset = isinstance(exc, ConnectionResetError)
    closed = isinstance(exc, _Closed | BrokenPipeError | ssl.SSLEOFError | ConnectionAbortedError)
    if (reset or closed) and not wire.received:
        # A server that closes before the ClientHello arrives is seen as a reset: our data meets a closed socket.
        how = " (reset)" if reset else ""
        return f"the server accepted the connection, then closed it without answering the TLS ClientHello{how}"
    if reset or closed:
        how = "reset" if reset else "closed"
        return f"the server {how} the connection during the handshake, after sending {wire.received} bytes"
    return _describe(exc)


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
        # Interned: a handful of values, otherwise a new string per handshake, held until the run reports.
        version=sys.intern(obj.version() or ""),
        cipher=sys.intern(cipher[0]) if cipher else "",
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
