"""Servers that are not ours in the box: unbound as the VPC resolver, nginx as the TLS/HTTP endpoints.

So the finding codes do not depend on dnsmasq's or Python's quirks, the fault matrix also runs against the
servers people deploy (Debian's `unbound` and `nginx-light`, installed by scripts/setup). Each runs in the
foreground inside the test's network namespace, from a configuration the box writes into its work folder,
with its pid, logs and temporary files there too: no system service, nothing outside the folder.

nginx faults (beyond those the Python targets make): `no_intermediate` (the leaf without the intermediate
that issued it), `not_tls` (plain HTTP on the TLS port: it answers the ClientHello with "HTTP/1.1 400"),
`old_tls` (only TLS 1.0 and 1.1), `slow_body` (the status at once, then the body at 50 bytes a second).
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

NGINX_FAULTS = ("none", "wrong_name", "untrusted", "expired", "expiring", "http_status", "closed")
NGINX_ONLY_FAULTS = ("no_intermediate", "not_tls", "old_tls", "slow_body")
SLOW_BODY_BYTES = 20_000
SLOW_BODY_RATE = 50  # bytes a second: a 3 s timeout sees the status and a few hundred bytes


class ThirdPartyMissing(RuntimeError):
    """A third-party server binary is not installed (scripts/setup installs it)."""


def binary(name: str) -> str:
    """The path of `name` (searched in PATH and /usr/sbin), else ThirdPartyMissing."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise ThirdPartyMissing(f"{name} is not installed: run scripts/setup")
    return found


# ------------------------------------------------------------------------------------------------- unbound


def unbound_config(
    workdir: Path,
    listen: str,
    records: Mapping[str, list[tuple[str, str]]],
    stubs: Mapping[str, int],
) -> str:
    """unbound.conf: a recursive resolver whose zones (`records`, as authoritative zone files, the way a VPC
    resolver answers from private hosted zones) it chases CNAMEs through, and whose names in `stubs` go to a
    local authoritative server on that port (for SERVFAIL, REFUSED, silence, TC, garbage)."""
    zones: dict[str, list[str]] = {}
    for name, items in records.items():
        for rtype, value in items:
            target = f"{value}." if rtype == "CNAME" else value
            zones.setdefault(_apex(name), []).append(f"{name}. 0 IN {rtype} {target}")
    for name in stubs:
        zones.setdefault(_apex(name), [])
    lines = [
        "server:",
        f"  interface: {listen}",
        "  port: 53",
        "  do-daemonize: no",
        '  username: ""',
        '  chroot: ""',
        f'  directory: "{workdir}"',
        f'  pidfile: "{workdir / "unbound.pid"}"',
        f'  logfile: "{workdir / "unbound-server.log"}"',
        "  use-syslog: no",
        "  verbosity: 1",
        "  log-queries: yes",
        "  num-threads: 1",
        "  so-reuseport: no",
        "  access-control: 0.0.0.0/0 allow",
        "  access-control: ::/0 allow",
        '  module-config: "iterator"',
        "  do-not-query-localhost: no",
        "  qname-minimisation: no",
        "  cache-max-ttl: 0",
        "  cache-max-negative-ttl: 0",
        "remote-control:",
        "  control-enable: no",
    ]
    for name, port in stubs.items():
        lines += ["stub-zone:", f'  name: "{name}."', f"  stub-addr: 127.0.0.1@{port}"]
    for apex, entries in sorted(zones.items()):
        zonefile = workdir / f"zone-{apex}.txt"
        soa = f"{apex}. 0 IN SOA ns.{apex}. hostmaster.{apex}. 1 3600 600 86400 0"
        zonefile.write_text("\n".join([soa, f"{apex}. 0 IN NS ns.{apex}.", *entries]) + "\n")
        lines += [
            "auth-zone:",
            f'  name: "{apex}."',
            f'  zonefile: "{zonefile}"',
            "  for-upstream: yes",
            "  for-downstream: no",
            "  fallback-enabled: no",
        ]
    return "\n".join(lines) + "\n"


def _apex(name: str) -> str:
    labels = name.rstrip(".").split(".")
    return ".".join(labels[-2:]) if len(labels) >= 3 else labels[-1]


# --------------------------------------------------------------------------------------------------- nginx


@dataclass(frozen=True, slots=True)
class NginxSite:
    """One nginx listener: an endpoint's address and port, its certificate files and its fault."""

    host: str
    port: int
    certfile: str
    keyfile: str
    fault: str = "none"
    http_status: int = 200


def nginx_config(workdir: Path, sites: Iterable[NginxSite]) -> str:
    """nginx.conf: one single-process server in the foreground, everything it writes under `workdir`."""
    www = workdir / "www"
    www.mkdir(exist_ok=True)
    (www / "slow").write_bytes(b"x" * SLOW_BODY_BYTES)
    temp = workdir / "nginx-temp"
    temp.mkdir(exist_ok=True)
    out = [
        "daemon off;",
        "master_process off;",  # no worker to switch users: runs the same as root or in a user namespace
        f"pid {workdir / 'nginx.pid'};",
        f"error_log {workdir / 'nginx-error.log'} info;",
        "events { worker_connections 1024; }",
        "http {",
        "  access_log off;",
        f"  client_body_temp_path {temp / 'body'};",
        f"  proxy_temp_path {temp / 'proxy'};",
        f"  fastcgi_temp_path {temp / 'fastcgi'};",
        f"  uwsgi_temp_path {temp / 'uwsgi'};",
        f"  scgi_temp_path {temp / 'scgi'};",
        "  default_type text/plain;",
    ]
    for site in sites:
        listen = f"[{site.host}]:{site.port}" if ":" in site.host else f"{site.host}:{site.port}"
        out.append("  server {")
        if site.fault == "not_tls":
            out.append(f"    listen {listen};")
        else:
            out += [
                f"    listen {listen} ssl;",
                f"    ssl_certificate {site.certfile};",
                f"    ssl_certificate_key {site.keyfile};",
            ]
            if site.fault == "old_tls":
                out += ["    ssl_protocols TLSv1 TLSv1.1;", "    ssl_ciphers DEFAULT:@SECLEVEL=0;"]
            else:
                out.append("    ssl_protocols TLSv1.2 TLSv1.3;")
        if site.fault == "slow_body":
            out += [
                f"    root {www};",
                f"    location / {{ try_files /slow =404; limit_rate_after 500; limit_rate {SLOW_BODY_RATE}; }}",
            ]
        else:
            out.append(f'    location / {{ return {site.http_status} "ok\\n"; }}')
        out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"


def wait_listening(addresses: Iterable[tuple[str, int]], timeout_s: float = 10.0) -> list[tuple[str, int]]:
    """Wait until every address accepts a connection; returns those that never did."""
    pending = list(addresses)
    end = time.monotonic() + timeout_s
    while pending and time.monotonic() < end:
        still = []
        for host, port in pending:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(0.2)
                if s.connect_ex((host, port)) != 0:
                    still.append((host, port))
        pending = still
        if pending:
            time.sleep(0.05)
    return pending
