"""The TCP probe against real sockets: connected, refused, timed out (full accept queue), unreachable."""

from __future__ import annotations

import os
import socket

import pytest

from tests.checks.conftest import closed_port
from vpc_verify.checks.tcp import TcpSpec, TcpStatus, connect


async def test_connects_to_a_listener() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        result = await connect(TcpSpec("127.0.0.1", server.getsockname()[1], 1.0))
    assert result.status is TcpStatus.OK
    assert 0 < result.ms < 1000
    assert result.error == ""


async def test_the_probe_records_its_own_source_address_and_port() -> None:
    # What flow-log evidence matches on: the server sees the connection come from exactly that port.
    with socket.create_server(("127.0.0.1", 0)) as server:
        result = await connect(TcpSpec("127.0.0.1", server.getsockname()[1], 1.0))
        conn, peer = server.accept()
        conn.close()
    assert (result.local_address, result.local_port) == peer


async def test_refused_when_nothing_listens() -> None:
    result = await connect(TcpSpec("127.0.0.1", closed_port(), 1.0))
    assert result.status is TcpStatus.REFUSED
    assert result.ms < 500
    assert result.local_address == "127.0.0.1" and result.local_port  # a reset probe keeps its source port


async def test_times_out_when_syns_are_dropped() -> None:
    # A listener whose accept queue is full drops further SYNs: a real timeout on loopback, without nft.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                fillers.append(s)
            result = await connect(TcpSpec("127.0.0.1", port, 0.3))
        finally:
            for s in fillers:
                s.close()
    assert result.status is TcpStatus.TIMEOUT
    assert 250 < result.ms < 1000
    assert "300 ms" in result.error
    assert result.local_address == "127.0.0.1" and result.local_port


@pytest.mark.netns
async def test_unreachable_without_a_route() -> None:
    assert os.environ.get("VPCBOX_NETNS") == "1", "conftest puts the tests in their own namespace"
    # Inside the test's namespace only lo exists: TEST-NET-1 has no route, so the kernel refuses at once.
    result = await connect(TcpSpec("192.0.2.10", 443, 1.0))
    assert result.status is TcpStatus.UNREACHABLE
    assert "errno" in result.error


async def test_an_invalid_address_is_an_error_result() -> None:
    result = await connect(TcpSpec("not-an-ip", 443, 1.0))
    assert result.status is TcpStatus.ERROR
    assert "not an IP address" in result.error
