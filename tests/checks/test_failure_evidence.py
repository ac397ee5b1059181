"""Failures that say what happened: TLS and HTTP against real servers on 127.0.0.1:0, one way of failing each.

Each test holds the evidence a person needs to act, not just the outcome: the chain the server sent (a missing
intermediate versus an unknown CA), the first bytes of a server that is not TLS, the version of a server that
offers only TLS < 1.2, a peer that accepted and closed, and a status that arrived before its body stalled.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import trustme

from tests.checks.conftest import NAME, http_answer, server_context
from tests.checks.test_tls import shake
from vpc_verify.checks.http import HttpSpec, HttpStatus, request
from vpc_verify.checks.tls import TlsSpec, TlsStatus

Serve = Callable[..., Awaitable[int]]


def spec(port: int, ca_bundle: str | None, timeout_s: float = 1.0) -> TlsSpec:
    return TlsSpec("127.0.0.1", port, NAME, timeout_s, verify=True, ca_bundle=ca_bundle)


def unit_name(ca: trustme.CA) -> str:
    """The CA's organizational unit: trustme names each CA there ("Testing CA #...")."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    return str(cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value)


def leaf_only_context(cert: trustme.LeafCert, tmp_path: Path) -> ssl.SSLContext:
    """A server that sends its own certificate without the intermediate that issued it."""
    certfile, keyfile = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(certfile), str(keyfile))
    return ctx


async def test_the_full_chain_from_an_intermediate_verifies(serve: Serve, ca: trustme.CA, ca_bundle: str) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.create_child_ca().issue_cert(NAME).configure_cert(ctx)  # sends the leaf and the intermediate
    _, result = await shake(spec(await serve(await http_answer(), ctx), ca_bundle))
    assert result.status is TlsStatus.OK, result.error


async def test_missing_intermediate_says_so_with_the_chain_sent(
    serve: Serve, ca: trustme.CA, ca_bundle: str, tmp_path: Path
) -> None:
    intermediate = ca.create_child_ca()
    port = await serve(await http_answer(), leaf_only_context(intermediate.issue_cert(NAME), tmp_path))
    _, result = await shake(spec(port, ca_bundle))
    assert result.status is TlsStatus.UNTRUSTED
    assert result.peer_chain_length == 1
    assert unit_name(intermediate) in result.peer_issuer
    assert "missing intermediate" in result.error and "chain of 1" in result.error


async def test_unknown_ca_says_so_with_the_chain_sent(serve: Serve, ca_bundle: str) -> None:
    stranger = trustme.CA()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    stranger.create_child_ca().issue_cert(NAME).configure_cert(ctx)
    _, result = await shake(spec(await serve(await http_answer(), ctx), ca_bundle))
    assert result.status is TlsStatus.UNTRUSTED
    assert result.peer_chain_length == 2
    assert unit_name(stranger) in result.peer_issuer
    assert "unknown CA" in result.error and "missing intermediate" not in result.error


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (b"SSH-2.0-OpenSSH_9.6 not-tls\r\n", "SSH-2.0-OpenSSH_9.6 not-tls"),
        (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 400 Bad Request"),
        (b"\x00\x01binary\xff", "\\x00\\x01binary\\xff"),
    ],
)
async def test_a_server_that_is_not_tls_is_shown_by_its_first_bytes(
    serve: Serve, ca_bundle: str, answer: bytes, shown: str
) -> None:
    async def not_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)  # the ClientHello arrived
        writer.write(answer)
        await writer.drain()
        writer.close()

    _, result = await shake(spec(await serve(not_tls), ca_bundle))
    assert result.status is TlsStatus.FAILED
    assert result.first_bytes == shown
    assert result.error == f"the server answered something other than TLS: {shown!r}"


async def test_a_server_that_offers_only_tls_1_1_says_so(ca: trustme.CA, ca_bundle: str) -> None:
    ctx = server_context(ca, NAME)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # that is the point
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses TLS < 1.2 at its default security level
    # A blocking server, as most are: it sends its alert before closing (asyncio's aborts without it).
    listener = socket.create_server(("127.0.0.1", 0))

    def serve_one() -> None:
        conn, _ = listener.accept()
        with contextlib.suppress(OSError), ctx.wrap_socket(conn, server_side=True):
            pass
        conn.close()

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    try:
        _, result = await shake(spec(listener.getsockname()[1], ca_bundle))
    finally:
        thread.join(5)
        listener.close()
    assert result.status is TlsStatus.FAILED
    assert result.protocol_offered == "older than TLSv1.2"
    assert "offers only older versions" in result.error


@pytest.mark.parametrize("how", ["close", "reset"])
async def test_a_peer_that_accepts_and_hangs_up_is_named(serve: Serve, ca_bundle: str, how: str) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if how == "reset":
            writer.transport.abort()
        else:
            writer.close()

    _, result = await shake(spec(await serve(hang_up), ca_bundle))
    assert result.status is TlsStatus.FAILED
    assert result.error.startswith("the server accepted the connection, then ")
    assert "closed it without answering the TLS ClientHello" in result.error
    assert "Broken pipe" not in result.error and result.bytes_received == 0


async def test_a_silent_server_times_out_having_sent_nothing(serve: Serve, ca_bundle: str) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    _, result = await shake(spec(await serve(silent), ca_bundle, timeout_s=0.3))
    assert result.status is TlsStatus.TIMEOUT
    assert "the server accepted the connection but sent nothing" in result.error


async def test_a_status_before_a_stalled_body_is_reported(serve: Serve, ca: trustme.CA, ca_bundle: str) -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        await writer.drain()
        await asyncio.sleep(5)

    port = await serve(stall, server_context(ca, NAME))
    result = await request(HttpSpec("127.0.0.1", port, NAME, timeout_s=0.5, ca_bundle=ca_bundle))
    assert result.status is HttpStatus.TIMEOUT
    assert (result.stalled_status, result.body_bytes, result.status_code) == (200, 10, None)
    assert result.error == "status 200 arrived, then the body stalled: 10 of 100 bytes within 500 ms"


async def test_a_body_cut_short_is_reported_with_its_status(serve: Serve, ca: trustme.CA, ca_bundle: str) -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 503 Busy\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        await writer.drain()
        writer.close()

    port = await serve(cut, server_context(ca, NAME))
    result = await request(HttpSpec("127.0.0.1", port, NAME, timeout_s=1.0, ca_bundle=ca_bundle))
    assert result.status is HttpStatus.FAILED
    assert result.stalled_status == 503 and result.body_bytes == 10
    assert result.error.startswith("status 503 arrived, then the body failed after 10 bytes")
