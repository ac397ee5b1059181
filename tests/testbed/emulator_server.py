"""The emulator's child process: moto's server with the testbed's patches and one test-only route.

`python -m tests.testbed.emulator_server -H 127.0.0.1 -p PORT` applies the patches of emulator_vpce (VPC endpoints
and ENI addresses as AWS shapes them), emulator_lambda (a function's VpcConfig names its VPC), emulator_firewall
(Route 53 Resolver DNS Firewall, which moto lacks) and emulator_lattice (VPC Lattice resource configurations, Resource
and ServiceNetwork endpoints), answers Route 53 Profiles itself (emulator_profiles: moto has no such service), then
serves moto's usual application.

Test-only route (never part of any AWS API; only this server has it), JSON in and out:
  GET  /_vpcbox/                 {"patches": [...]}: the patches in force
  POST /_vpcbox/vpc-endpoint     {"VpcEndpointId", "Region"?, "State"?, "LastError"?: {"Code", "Message"},
                                  "CreatedSecondsAgo"?, "PrivateDnsEnabled"?} -> {"VpcEndpointId", "State"}
  POST /_vpcbox/endpoint-service {"ServiceId", "Region"?, "State": pendingVerification | verified | failed}
                                 -> {"ServiceId", "PrivateDnsNameVerificationState"}
Errors are {"Error": {"Code", "Message"}} with status 400.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from tests.testbed import emulator_firewall, emulator_lambda, emulator_lattice, emulator_profiles, emulator_vpce

HOOK_PREFIX = "/_vpcbox/"
PATCHES = (
    "vpc-endpoint-enis",
    "vpc-endpoint-dns-entries",
    "vpc-endpoint-dns-options",
    "endpoint-services",
    "dns-firewall",
    "endpoint-service-verification",
    "lattice-endpoints",
    "route53profiles",
)

StartResponse = Callable[..., Any]


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class Hooks:
    """WSGI middleware: the test-only route, everything else to moto."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if emulator_profiles.wanted(environ):  # a service moto lacks, answered here
            return emulator_profiles.handle(environ, start_response)
        if path == "/moto-api/reset":
            emulator_profiles.reset()
        if not path.startswith(HOOK_PREFIX):
            return self.app(environ, start_response)
        if path == HOOK_PREFIX:
            return _json(start_response, "200 OK", {"patches": list(PATCHES)})
        routes = {"vpc-endpoint": self._endpoint, "endpoint-service": self._service}
        route = routes.get(path[len(HOOK_PREFIX) :])
        if route is not None and environ.get("REQUEST_METHOD") == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                body = json.loads(environ["wsgi.input"].read(size) or b"{}")
                return _json(start_response, "200 OK", route(body))
            except emulator_vpce.PatchError as exc:
                return _json(start_response, "400 Bad Request", {"Error": {"Code": exc.code, "Message": exc.message}})
            except (ValueError, KeyError, TypeError) as exc:
                error = {"Code": "InvalidRequest", "Message": f"bad request body: {exc}"}
                return _json(start_response, "400 Bad Request", {"Error": error})
        return _json(start_response, "404 Not Found", {"Error": {"Code": "NotFound", "Message": path}})

    def _service(self, body: dict[str, Any]) -> dict[str, Any]:
        from moto.ec2.models import ec2_backends

        backend = ec2_backends[emulator_vpce.ACCOUNT][str(body.get("Region") or "us-east-1")]
        return emulator_vpce.set_verification(backend, str(body["ServiceId"]), str(body["State"]))

    def _endpoint(self, body: dict[str, Any]) -> dict[str, Any]:
        from moto.ec2.models import ec2_backends

        backend = ec2_backends[emulator_vpce.ACCOUNT][str(body.get("Region") or "us-east-1")]
        return emulator_vpce.set_state(
            backend,
            str(body["VpcEndpointId"]),
            state=body.get("State"),
            last_error=body.get("LastError"),
            created_seconds_ago=body.get("CreatedSecondsAgo"),
            private_dns_enabled=body.get("PrivateDnsEnabled"),
        )


def main(argv: list[str] | None = None) -> int:
    """Patch moto, then serve it (threaded, as moto_server does) until terminated."""
    parser = argparse.ArgumentParser(prog="python -m tests.testbed.emulator_server", description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=0, help="0 (default): one the kernel picks")
    args = parser.parse_args(argv)
    if not args.host.startswith("127.") and args.host != "::1":
        print("emulator_server: listens on loopback only", file=sys.stderr)
        return 2

    import signal

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    emulator_vpce.apply()
    emulator_lambda.apply()
    emulator_firewall.apply()
    emulator_lattice.apply()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # type: ignore[attr-defined]
    # Bound here, port 0 included, and the port said on stdout: no port is picked by one process and bound by
    # another (a race under parallel tests).
    server = make_server(
        args.host,
        args.port,
        Hooks(app),  # type: ignore[arg-type]
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    os.environ.setdefault("MOTO_PORT", str(server.port))  # as moto's own launcher does (some services build URLs)
    print("READY", server.port, flush=True)
    os.dup2(2, 1)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
