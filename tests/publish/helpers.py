"""Shared by the publishing, Lambda and agent-loop tests: a synthetic Report and an outage proxy."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.testbed.ports import refusing_port
from vpc_verify.checks.dns import DnsResult, DnsStatus
from vpc_verify.checks.http import HttpResult, HttpStatus
from vpc_verify.checks.tcp import TcpResult, TcpStatus
from vpc_verify.checks.tls import TlsResult, TlsStatus
from vpc_verify.findings import Code, Finding
from vpc_verify.report import AddressProbe, AddressReport, EndpointReport, Report

STARTED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def ok_address(
    address: str, az: str | None, tcp_ms: float, tls_ms: float, http_ms: float | None = None
) -> AddressReport:
    """An address whose every phase passed."""
    tcp = TcpResult(address=address, port=443, status=TcpStatus.OK, ms=tcp_ms)
    tls = TlsResult(status=TlsStatus.OK, handshake_ms=tls_ms)
    http = HttpResult(status=HttpStatus.OK, status_code=200, ms=http_ms) if http_ms is not None else None
    return AddressReport(
        address=address,
        names=("sqs.us-east-1.amazonaws.com",),
        az=az,
        private=True,
        in_vpc=True,
        probe=AddressProbe(tcp=tcp, tls=tls, http=http),
    )


def timeout_address(address: str, az: str | None) -> AddressReport:
    """An address whose connect timed out."""
    tcp = TcpResult(address=address, port=443, status=TcpStatus.TIMEOUT, ms=2000.0, error="timed out")
    return AddressReport(
        address=address,
        names=("kms.us-east-1.amazonaws.com",),
        az=az,
        private=True,
        in_vpc=True,
        probe=AddressProbe(tcp=tcp),
    )


def synthetic_report(vpc_id: str | None = "vpc-0123456789abcdef0") -> Report:
    """Two endpoints: sqs healthy (two addresses, HTTP on one), kms with one address timing out."""
    sqs = EndpointReport(
        name="sqs",
        type="interface",
        service="com.amazonaws.us-east-1.sqs",
        findings=(),
        dns=(
            DnsResult(
                name="sqs.us-east-1.amazonaws.com",
                status=DnsStatus.OK,
                rcode="NOERROR",
                answers=("10.0.1.23", "10.0.2.45"),
                cname_chain=(),
                ms=1.5,
            ),
        ),
        addresses=(
            ok_address("10.0.1.23", "us-east-1a", 0.4, 2.0, 5.0),
            ok_address("10.0.2.45", "us-east-1b", 0.9, 3.5),
        ),
        ms=10.0,
    )
    kms_finding = Finding.make(
        Code.TCP_TIMEOUT, "kms", "connect to 10.0.2.9:443 timed out", address="10.0.2.9", evidence={"ms": 2000}
    )
    warn = Finding.make(Code.LATENCY_OVER_BUDGET, "kms", "connect+TLS took 150 ms", address="10.0.1.9")
    kms = EndpointReport(
        name="kms",
        type="interface",
        service="com.amazonaws.us-east-1.kms",
        findings=(kms_finding, warn),
        dns=(
            DnsResult(
                name="kms.us-east-1.amazonaws.com",
                status=DnsStatus.OK,
                rcode="NOERROR",
                answers=("10.0.1.9", "10.0.2.9"),
                cname_chain=(),
                ms=2.5,
            ),
        ),
        addresses=(ok_address("10.0.1.9", None, 50.0, 100.0), timeout_address("10.0.2.9", "us-east-1b")),
        ms=2010.0,
    )
    return Report(started_at=STARTED, duration_ms=2012.5, endpoints=(sqs, kms), region="us-east-1", vpc_id=vpc_id)


# ------------------------------------------------------------------------------------- the outage proxy

# botocore talks JSON (awsJson1_0) to CloudWatch here; an error is {"__type": code, "message": ...}.
_THROTTLING = b'{"__type": "Throttling", "message": "Rate exceeded"}'


class OutageProxy:
    """An HTTP proxy on 127.0.0.1 in front of the emulator that injects faults.

    Each request takes the next scripted fault (`script`), else the persistent `mode`: pass, throttle (400
    Throttling), 503, 500, timeout (hold the request `hold_s` then close), reset (close without answering).
    """

    def __init__(self, upstream: str, hold_s: float = 2.0) -> None:
        self.upstream = urlsplit(upstream)
        self.hold_s = hold_s
        self.mode = "pass"
        self.queue: deque[str] = deque()
        self.seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy.next_fault()
                if fault == "pass":
                    self._forward(body)
                elif fault == "throttle":
                    self._answer(400, _THROTTLING, "application/x-amz-json-1.0")
                elif fault in ("500", "503"):
                    self._answer(int(fault), b"", "text/plain")
                elif fault == "timeout":
                    time.sleep(proxy.hold_s)
                    self.close_connection = True
                elif fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True

            do_GET = do_POST

            def _answer(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _forward(self, body: bytes) -> None:
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=10)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    self.send_response(resp.status)
                    for k, v in resp.getheaders():
                        if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    conn.close()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def next_fault(self) -> str:
        """The fault for the next request (and count it)."""
        with self._lock:
            fault = self.queue.popleft() if self.queue else self.mode
            self.seen[fault] += 1
            return fault

    def script(self, *faults: str) -> None:
        """Faults for the next requests, in order."""
        with self._lock:
            self.queue.extend(faults)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def dead_url() -> Iterator[str]:
    """A loopback URL that refuses every connection while the block runs (a dead endpoint, never re-used by
    another server meanwhile: tests/testbed/ports.py)."""
    with refusing_port("tcp") as port:
        yield f"http://127.0.0.1:{port}"
