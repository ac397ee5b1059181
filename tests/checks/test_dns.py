"""The DNS probe against a real dnsmasq on 127.0.0.1 and against faulty responders (dnspython-built)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from tests.testbed import netns
from vpc_verify.checks.dns import DnsResult, DnsSpec, DnsStatus, resolve

SQS = "sqs.us-east-1.amazonaws.com"
VPCE = "vpce-0a1b2c3d-x1y2z3.sqs.us-east-1.vpce.amazonaws.com"


def _candidate_port() -> int:
    """A port free for UDP and TCP right now; dnsmasq binds it itself, so `dnsmasq()` retries if it was taken."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = int(u.getsockname()[1])
            with socket.socket() as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


def _start_dnsmasq(port: int) -> subprocess.Popen[bytes] | None:
    """dnsmasq on 127.0.0.1:port once it answers; None when the port was taken in the meantime."""
    binary = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    many = [f"--host-record=big.example.com,10.0.{i // 250}.{i % 250 + 1}" for i in range(120)]
    proc = subprocess.Popen(
        [
            binary,
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            f"--port={port}",
            "--user=root",
            "--pid-file=",
            "--log-facility=-",
            "--local=/example.com/",
            "--local=/amazonaws.com/",
            f"--host-record={VPCE},10.0.1.23",
            f"--host-record={VPCE},10.0.2.45",
            f"--cname={SQS},{VPCE}",
            "--host-record=v4only.example.com,10.0.3.3",
            "--host-record=dual.example.com,10.0.3.4,fd00::4",
            *many,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(dns.message.make_query("v4only.example.com", "A").to_wire(), ("127.0.0.1", port))
                s.recv(512)
                return proc
            except OSError:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    if "in use" in err:
                        return None
                    raise RuntimeError(f"dnsmasq exited: {err}") from None
    proc.kill()
    raise RuntimeError("dnsmasq did not answer within 10 s")


@pytest.fixture(scope="module")
def dnsmasq() -> Iterator[int]:
    """dnsmasq (installed by scripts/setup) serving a PrivateLink-style zone on 127.0.0.1:<port>."""
    for _ in range(5):
        port = _candidate_port()
        proc = _start_dnsmasq(port)
        if proc is not None:
            break
    else:
        raise RuntimeError("dnsmasq found its port taken five times in a row")
    yield port
    proc.terminate()
    proc.wait(5)


def at(port: int, name: str, **kw: object) -> DnsSpec:
    return DnsSpec(name, ("127.0.0.1",), port, **kw)  # type: ignore[arg-type]


async def test_privatelink_chain_through_dnsmasq(dnsmasq: int) -> None:
    result = await resolve(at(dnsmasq, SQS, timeout_s=1.0))
    assert result.status is DnsStatus.OK, result
    assert set(result.answers) == {"10.0.1.23", "10.0.2.45"}
    assert result.cname_chain == (VPCE,)
    assert result.rcode == "NOERROR"
    assert result.nameserver == "127.0.0.1"
    assert 0 < result.ms < 1000


async def test_nxdomain_and_nodata_through_dnsmasq(dnsmasq: int) -> None:
    missing = await resolve(at(dnsmasq, "nope.example.com"))
    assert (missing.status, missing.rcode, missing.answers) == (DnsStatus.NXDOMAIN, "NXDOMAIN", ())
    v6 = await resolve(at(dnsmasq, "v4only.example.com", ipv4=False, ipv6=True))
    assert (v6.status, v6.rcode) == (DnsStatus.NODATA, "NOERROR")


async def test_a_and_aaaa_together(dnsmasq: int) -> None:
    result = await resolve(at(dnsmasq, "dual.example.com"))
    assert result.answers == ("10.0.3.4", "fd00::4")
    only_a = await resolve(at(dnsmasq, "dual.example.com", ipv6=False))
    assert only_a.answers == ("10.0.3.4",)


async def test_truncated_answer_is_retried_over_tcp(dnsmasq: int) -> None:
    result = await resolve(at(dnsmasq, "big.example.com", ipv6=False))
    assert result.status is DnsStatus.OK, result
    assert len(result.answers) == 120


# Faulty responders: a UDP server answering every query through `reply(query) -> bytes | None`.
Reply = Callable[[dns.message.Message, bytes], bytes | None]


class _Responder(asyncio.DatagramProtocol):
    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        out = self.reply(dns.message.from_wire(data), data)
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)


@pytest.fixture
async def responder() -> AsyncIterator[Callable[[Reply], asyncio.Future[int]]]:
    transports: list[asyncio.DatagramTransport] = []

    async def start(reply: Reply) -> int:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Responder(reply), local_addr=("127.0.0.1", 0))
        transports.append(transport)
        return int(transport.get_extra_info("sockname")[1])

    yield start  # type: ignore[misc]
    for t in transports:
        t.close()


def rcode(code: dns.rcode.Rcode) -> Reply:
    def reply(query: dns.message.Message, _: bytes) -> bytes:
        response = dns.message.make_response(query)
        response.set_rcode(code)
        return response.to_wire()

    return reply


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (dns.rcode.SERVFAIL, DnsStatus.SERVFAIL),
        (dns.rcode.REFUSED, DnsStatus.REFUSED),
        (dns.rcode.NOTIMP, DnsStatus.ERROR),
    ],
)
async def test_failing_rcodes_are_results(
    responder: Callable[[Reply], asyncio.Future[int]], code: dns.rcode.Rcode, status: DnsStatus
) -> None:
    port = await responder(rcode(code))
    result = await resolve(at(port, SQS))
    assert result.status is status
    assert result.rcode == dns.rcode.to_text(code)


async def test_silent_resolver_times_out(responder: Callable[[Reply], asyncio.Future[int]]) -> None:
    port = await responder(lambda q, w: None)
    result = await resolve(at(port, SQS, timeout_s=0.3))
    assert result.status is DnsStatus.TIMEOUT
    assert 250 < result.ms < 1000
    assert "300 ms" in result.error


async def test_resolver_down_is_seen_at_once() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = await resolve(at(port, SQS, timeout_s=2.0))
    assert result.status is DnsStatus.TIMEOUT
    assert "down" in result.error
    assert result.ms < 1000  # the ICMP port unreachable, not the timeout


async def test_malformed_response_is_an_error(responder: Callable[[Reply], asyncio.Future[int]]) -> None:
    port = await responder(lambda q, wire: wire[:2] + b"\x81\x80\x00\x01\x00\x05\x00\x00\x00\x00\xff\xfe")
    result = await resolve(at(port, SQS))
    assert result.status is DnsStatus.ERROR
    assert "malformed" in result.error


async def test_stray_response_with_another_id_is_ignored(responder: Callable[[Reply], asyncio.Future[int]]) -> None:
    def reply(query: dns.message.Message, _: bytes) -> bytes:
        response = dns.message.make_response(query)
        response.answer.append(dns.rrset.from_text(SQS + ".", 60, "IN", "A", "203.0.113.66"))
        response.id ^= 0xFFFF  # a spoofed/late answer: must not be believed
        return response.to_wire()

    port = await responder(reply)
    result = await resolve(at(port, SQS, timeout_s=0.3))
    assert result.status is DnsStatus.TIMEOUT
    assert result.answers == ()


def chain(*links: tuple[str, str, str]) -> Reply:
    def reply(query: dns.message.Message, _: bytes) -> bytes:
        response = dns.message.make_response(query)
        for owner, kind, value in links:
            response.answer.append(dns.rrset.from_text(owner.rstrip(".") + ".", 60, "IN", kind, value))
        return response.to_wire()

    return reply


async def test_cname_loop_is_an_error(responder: Callable[[Reply], asyncio.Future[int]]) -> None:
    port = await responder(chain((SQS, "CNAME", "a.example.com."), ("a.example.com", "CNAME", f"{SQS}.")))
    result = await resolve(at(port, SQS))
    assert result.status is DnsStatus.ERROR
    assert "CNAME loop" in result.error


async def test_chain_ending_without_address_is_nodata(responder: Callable[[Reply], asyncio.Future[int]]) -> None:
    port = await responder(chain((SQS, "CNAME", f"{VPCE}.")))
    result = await resolve(at(port, SQS))
    assert result.status is DnsStatus.NODATA
    assert result.cname_chain == (VPCE,)


async def test_names_compare_case_insensitively(responder: Callable[[Reply], asyncio.Future[int]]) -> None:
    port = await responder(chain((SQS.upper(), "CNAME", f"{VPCE.upper()}."), (VPCE, "A", "10.0.1.23")))
    result: DnsResult = await resolve(at(port, SQS, ipv6=False))
    assert result.answers == ("10.0.1.23",)
    assert result.ttl == 60


async def test_invalid_name_is_an_error_result() -> None:
    result = await resolve(DnsSpec("a" * 70 + ".example.com", ("127.0.0.1",), 9))
    assert result.status is DnsStatus.ERROR
    assert "not a valid DNS name" in result.error


@pytest.mark.netns
async def test_unreachable_resolver_is_a_timeout_at_once() -> None:
    # Inside the tests' namespace TEST-NET-1 has no route: the send fails at once, nothing leaves.
    assert netns.inside(), "only inside the tests' own namespace"
    result = await resolve(DnsSpec(SQS, ("192.0.2.53",), 53, 2.0))
    assert result.status is DnsStatus.TIMEOUT
    assert "could not reach 192.0.2.53:53" in result.error
    assert result.ms < 1000
