"""The TLS probe against real TLS servers (trustme CAs) on 127.0.0.1:0: each outcome and its evidence."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import trustme

from tests.checks.conftest import NAME, http_answer, server_context
from vpc_verify.checks.tcp import TcpResult, TcpStatus
from vpc_verify.checks.tls import TlsResult, TlsSpec, TlsStatus, handshake

Serve = Callable[..., Awaitable[int]]


def spec(port: int, ca_bundle: str | None, timeout_s: float = 1.0, name: str = NAME) -> TlsSpec:
    return TlsSpec("127.0.0.1", port, name, timeout_s, verify=True, ca_bundle=ca_bundle)


async def test_handshake_ok_reports_certificate_and_timings(serve: Serve, ca: trustme.CA, ca_bundle: str) -> None:
    port = await serve(await http_answer(), server_context(ca, NAME, "alt.example.com"))
    tcp, result = await shake(spec(port, ca_bundle))
    assert result.status is TlsStatus.OK, result.error
    assert tcp.status is TcpStatus.OK
    assert result.version in ("TLSv1.2", "TLSv1.3")
    assert result.cipher
    assert set(result.cert_names) == {NAME, "alt.example.com"}
    assert result.cert_not_after is not None and dt.datetime.fromisoformat(result.cert_not_after).tzinfo
    assert result.handshake_ms is not None and 0 < result.handshake_ms < 1000


async def test_wrong_name_is_a_name_mismatch_with_the_certificate_names(
    serve: Serve, ca: trustme.CA, ca_bundle: str
) -> None:
    port = await serve(await http_answer(), server_context(ca, "other.example.com"))
    _tcp, result = await shake(spec(port, ca_bundle))
    assert result.status is TlsStatus.NAME_MISMATCH
    assert result.verify_code == 62
    assert result.cert_names == ("other.example.com",)


async def test_unknown_ca_is_untrusted_with_evidence(serve: Serve, ca_bundle: str) -> None:
    port = await serve(await http_answer(), server_context(trustme.CA(), NAME))
    _tcp, result = await shake(spec(port, ca_bundle))
    assert result.status is TlsStatus.UNTRUSTED
    assert result.verify_code == 20  # unable to get local issuer certificate
    assert result.cert_names == (NAME,)  # read from the DER of an unverified second handshake
    assert "issuer" in result.error


async def test_expired_certificate_is_untrusted(serve: Serve, ca: trustme.CA, ca_bundle: str) -> None:
    expired = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    port = await serve(await http_answer(), server_context(ca, NAME, not_after=expired))
    _tcp, result = await shake(spec(port, ca_bundle))
    assert result.status is TlsStatus.UNTRUSTED
    assert result.verify_code == 10  # certificate has expired
    assert "expired" in result.error


async def test_certificate_expiring_soon_verifies_and_reports_its_date(
    serve: Serve, ca: trustme.CA, ca_bundle: str
) -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(microsecond=0)
    port = await serve(await http_answer(), server_context(ca, NAME, not_after=soon))
    _tcp, result = await shake(spec(port, ca_bundle))
    assert result.status is TlsStatus.OK
    assert result.cert_not_after is not None
    assert abs(dt.datetime.fromisoformat(result.cert_not_after) - soon) < dt.timedelta(seconds=2)


async def test_server_that_never_speaks_times_out(serve: Serve, ca_bundle: str) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up

    port = await serve(silent)
    tcp, result = await shake(spec(port, ca_bundle, timeout_s=0.3))
    assert result.status is TlsStatus.TIMEOUT
    assert tcp.status is TcpStatus.OK
    assert result.handshake_ms is not None and 250 < result.handshake_ms < 1000


async def test_garbage_instead_of_tls_fails(serve: Serve, ca_bundle: str) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n" * 4)
        await writer.drain()
        writer.close()

    port = await serve(garbage)
    _tcp, result = await shake(spec(port, ca_bundle))
    assert result.status is TlsStatus.FAILED
    assert result.error


async def test_reset_after_accept_fails(serve: Serve, ca_bundle: str) -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.transport.abort()  # RST, not FIN

    port = await serve(reset)
    _tcp, result = await shake(spec(port, ca_bundle))
    assert result.status is TlsStatus.FAILED
    assert result.error


async def test_closed_port_skips_the_handshake(ca_bundle: str, closed_port: int) -> None:
    tcp, result = await handshake(spec(closed_port, ca_bundle))
    assert result is None
    assert tcp.status is TcpStatus.REFUSED


async def test_unreadable_ca_bundle_is_a_result_not_an_exception(serve: Serve, ca: trustme.CA) -> None:
    port = await serve(await http_answer(), server_context(ca, NAME))
    _tcp, result = await shake(spec(port, "/nonexistent/ca.pem"))
    assert result.status is TlsStatus.FAILED
    assert "/nonexistent/ca.pem" in result.error


async def test_verify_off_accepts_any_certificate(serve: Serve) -> None:
    port = await serve(await http_answer(), server_context(trustme.CA(), "whatever.example.com"))
    _tcp, result = await shake(TlsSpec("127.0.0.1", port, NAME, 1.0, verify=False))
    assert result.status is TlsStatus.OK
    assert result.cert_names == ("whatever.example.com",)


async def shake(tls_spec: TlsSpec) -> tuple[TcpResult, TlsResult]:
    """Connect and handshake; the connect must have succeeded."""
    tcp, result = await handshake(tls_spec)
    assert result is not None, tcp
    return tcp, result
