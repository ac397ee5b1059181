"""Stand-ins for the two metadata services an agent may ask where it runs.

The EC2 instance metadata service, IMDSv2 only (EC2 user guide, "Use IMDSv2"; EC2 API InstanceMetadataOptions):
`PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1-21600) returns a token, and a PUT carrying
`X-Forwarded-For` is refused (403); every `GET /latest/meta-data/<path>` needs `X-aws-ec2-metadata-token` (401
without, HttpTokens required); a path ending in `/` lists its children. The response to the PUT leaves with the IP
TTL (hop limit) `hop_limit`, default 1 as on AWS: one routed hop more (a container behind the instance) and it is
dropped on the way, so the PUT never gets its answer. It listens on 169.254.169.254 and, on Nitro instances with
IPv6, [fd00:ec2::254] (IPv6 on AWS whitepaper, "Supporting Amazon VPC services").

The Lambda metadata endpoint (Lambda developer guide, "Using the Lambda metadata endpoint"): in the execution
environment at `$AWS_LAMBDA_METADATA_API` (e.g. 169.254.100.1:9001), `GET /2026-01-15/metadata/execution-environment`
with `Authorization: Bearer $AWS_LAMBDA_METADATA_TOKEN` returns `{"AvailabilityZoneID": "use1-az1"}` with
`Cache-Control: private, max-age=43200, immutable`. A request without the right token gets 401 (the guide requires
the header; the status is this stand-in's choice).

Run as `python -m tests.testbed.metadata --config FILE.json` (prints READY); the config is
{"kind": "imds"|"lambda", "listen": [[host, port], ...], "tree": {path: value} (imds), "hop_limit": 1 (imds),
"az_id": "use1-az1", "token": "..." (lambda)}.
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LAMBDA_PATH = "/2026-01-15/metadata/execution-environment"
TOKEN_PATH = "/latest/api/token"
META_PREFIX = "/latest/meta-data/"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], config: dict[str, Any]):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.config = config
        self.tokens: set[str] = set()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for its own name (getfqdn): seconds of timeouts where no resolver answers.
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"{self.client_address[0]} {format % args}\n")

    def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self) -> None:
        config = self.server.config
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if config["kind"] != "imds" or self.path != TOKEN_PATH:
            self._send(405 if config["kind"] == "lambda" else 404, "")
            return
        if self.headers.get("X-Forwarded-For"):
            self._send(403, "Forbidden")
            return
        try:
            ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= 21600:
            self._send(400, "Bad Request")
            return
        token = secrets.token_urlsafe(42)
        self.server.tokens.add(token)
        hops = int(config.get("hop_limit", 1))
        if self.server.address_family == socket.AF_INET6:
            self.connection.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)
        else:
            self.connection.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, hops)
        self._send(200, token, {"X-aws-ec2-metadata-token-ttl-seconds": str(ttl), "Content-Type": "text/plain"})

    def do_GET(self) -> None:
        if self.server.config["kind"] == "lambda":
            self._lambda()
        else:
            self._imds()

    def _lambda(self) -> None:
        config = self.server.config
        if self.path != LAMBDA_PATH:
            self._send(404, json.dumps({"message": "Not Found"}), {"Content-Type": "application/json"})
            return
        if self.headers.get("Authorization") != f"Bearer {config['token']}":
            self._send(401, json.dumps({"message": "Unauthorized"}), {"Content-Type": "application/json"})
            return
        body = json.dumps({"AvailabilityZoneID": config["az_id"]})
        headers = {"Content-Type": "application/json", "Cache-Control": "private, max-age=43200, immutable"}
        self._send(200, body, headers)

    def _imds(self) -> None:
        if self.headers.get("X-aws-ec2-metadata-token") not in self.server.tokens:
            self._send(401, "Unauthorized")
            return
        if not self.path.startswith(META_PREFIX):
            self._send(404, "Not Found")
            return
        path = self.path[len(META_PREFIX) :]
        tree: dict[str, str] = self.server.config["tree"]
        if path in tree:
            self._send(200, tree[path], {"Content-Type": "text/plain"})
            return
        prefix = path if not path or path.endswith("/") else path + "/"
        children = sorted(
            {
                k[len(prefix) :].split("/")[0] + ("/" if "/" in k[len(prefix) :] else "")
                for k in tree
                if k.startswith(prefix)
            }
        )
        if children:
            self._send(200, "\n".join(children), {"Content-Type": "text/plain"})
        else:
            self._send(404, "Not Found")


def serve(config: dict[str, Any]) -> list[_Server]:
    """Start a server per listen address in background threads."""
    servers = []
    for host, port in config["listen"]:
        server = _Server((host, int(port)), _Handler, config)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    return servers


def main(argv: list[str] | None = None) -> int:
    """CLI: serve the config's metadata service until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m tests.testbed.metadata", description=__doc__)
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    with open(args.config) as f:
        config = json.load(f)
    try:
        servers = serve(config)
    except OSError as exc:
        print(f"metadata: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("READY " + " ".join(f"{s.server_address[0]}:{s.server_address[1]}" for s in servers), flush=True)
    stop.wait()
    for server in servers:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
