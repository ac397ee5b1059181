"""Small stand-ins for the metadata services a real agent asks, on loopback: the EC2 instance metadata service
(IMDSv2: a token PUT, then GETs carrying the token) and the Lambda metadata endpoint (a bearer token).

What AWS does that the stand-ins play: IMDSv2 refuses a GET without a token (401); a token PUT whose answer
is lost (hop limit 1 inside a container) looks like a timeout to the client; the Lambda endpoint answers
`{"AvailabilityZoneID": ...}` at /2026-01-15/metadata/execution-environment to the bearer token it gave.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "stand-in-token"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], family: int) -> None:
        self.address_family = family
        super().__init__(address, handler)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `handler` on host:0; yields the base URL (http://host:port or http://[::1]:port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = _Server((host, 0), handler, family)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()


def imds(answers: Mapping[str, str], *, drop_token: bool = False) -> type[BaseHTTPRequestHandler]:
    """An IMDSv2 stand-in serving `answers` (path under /latest/meta-data/ -> text). With `drop_token`, the
    token PUT is never answered, as when the hop limit drops the answer before it reaches a container."""

    class Handler(BaseHTTPRequestHandler):
        asked: list[tuple[str, str, str | None]] = []

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_PUT(self) -> None:
            Handler.asked.append(("PUT", self.path, None))
            if drop_token:
                threading.Event().wait(5)  # longer than the client's timeout: the answer never comes
                return
            if self.path != "/latest/api/token" or not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                self._send(400, "")
                return
            self._send(200, TOKEN)

        def do_GET(self) -> None:
            token = self.headers.get("X-aws-ec2-metadata-token")
            Handler.asked.append(("GET", self.path, token))
            if token != TOKEN:
                self._send(401, "")
                return
            key = self.path.removeprefix("/latest/meta-data/")
            if key not in answers:
                self._send(404, "")
                return
            self._send(200, answers[key])

        def _send(self, status: int, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def lambda_metadata(az_id: str, token: str = TOKEN) -> type[BaseHTTPRequestHandler]:
    """The Lambda metadata endpoint: the execution environment's AZ id, to its bearer token only."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            ok = (
                self.path == "/2026-01-15/metadata/execution-environment"
                and self.headers.get("Authorization") == f"Bearer {token}"
            )
            body = json.dumps({"AvailabilityZoneID": az_id} if ok else {"message": "unauthorized"}).encode()
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
