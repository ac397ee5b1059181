"""A VPC in a box (docs/testbed.md), built inside the current network namespace from a Spec.

It puts the ENI addresses and the resolver address on `lo`, runs dnsmasq as the VPC resolver (PrivateLink
CNAME chains; DNS faults forwarded to `authdns`), runs the TLS/HTTP targets in a subprocess, makes the
faults real with nftables (drops), and writes the matching topology file. It refuses to run outside a
namespace made by `netns.enter()`: nothing it serves must be reachable from, or reach, anything else.

Real-VPC parts (issues 11 and 12):
* Any ENI address: IPv6 global unicast (inside the VPC's /56) and non-RFC1918 IPv4 (100.64.0.0/10, public ranges a
  VPC uses privately) are served like any other: on `lo`, in DNS (A and AAAA), behind TLS targets, dropped per family.
* Wildcard private DNS names (`*.dkr.ecr.<r>`, `*.execute-api.<r>`): the resolver forwards the zone to authdns,
  which answers any label with the PrivateLink CNAME chain; the zone's apex exists without a record (NODATA); the
  certificate is issued for the wildcard; the topology lists a concrete child (EndpointSpec.probed_name).
* Hub-and-spoke: endpoint addresses in the hub's CIDRs; the topology declares `hub: {vpc_id, cidrs}` at the top
  level (as issue 12 suggests; `topology(declare_hub=False)` leaves it out).
* Resolver behaviours: DNS Firewall BLOCK (firewall_nodata, firewall_nxdomain, firewall_override: a CNAME to a
  walled garden), a private hosted zone shadowing a name without the record (phz_shadow: NXDOMAIN), a Resolver
  FORWARD rule whose target never answers (forwarder_silent: a second DNS server at FORWARDER_TARGET, silent for
  that zone only), and the VPC resolver's packet-rate limit (resolver.rate_limit_pps: nftables drops UDP queries
  above N per second per source; AWS: 1024 per ENI, Hybrid Cloud DNS whitepaper and the VPC DNS throttling article).
* Lambda and EC2 metadata: tests/testbed/lambda_sandbox.py and tests/testbed/instance.py build beside the box.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import trustme
import yaml

from tests.testbed import netns, thirdparty
from tests.testbed.spec import DNS_FAULTS, EndpointSpec, Spec
from tests.testbed.targets import TargetSpec, dump_config

REPO = Path(__file__).resolve().parents[2]
PUBLIC_ANSWER = "52.94.133.131"  # what sqs.us-east-1.amazonaws.com answers without private DNS (never probed)
OUTSIDE_VPC_ANSWER = "172.31.40.17"  # another VPC's endpoint (never probed)
WRONG_NAME = "wrong-service.example.net"
NFT_TABLE = "vpcbox"
WALLED_GARDEN = ("blocked.walled-garden.example.com", "198.51.100.80")  # a DNS Firewall OVERRIDE target (never probed)
FORWARDER_TARGET = "10.255.255.53"  # the on-premises DNS server a Resolver FORWARD rule sends a zone to
BLOCK_ANSWERS = {
    "firewall_nodata": "block:nodata",
    "firewall_nxdomain": "block:nxdomain",
    "firewall_override": f"block:override:{WALLED_GARDEN[0]}",
}


class BoxError(RuntimeError):
    """The box could not be built (a tool missing, a server that did not start)."""


@dataclass
class _Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path


@dataclass
class Box:
    """A running VPC in a box; use as a context manager."""

    spec: Spec
    workdir: Path
    ca: trustme.CA = field(default_factory=trustme.CA)
    procs: list[_Proc] = field(default_factory=list)
    lo_addresses: list[str] = field(default_factory=list)
    nft_rules: list[str] = field(default_factory=list)
    authdns_port: int = 0
    nginx_sites: list[thirdparty.NginxSite] = field(default_factory=list)

    @property
    def ca_bundle(self) -> Path:
        """The trusted test CA's PEM (the topology's tls.ca_bundle)."""
        return self.workdir / "ca.pem"

    # building ------------------------------------------------------------------------------------------------

    def __enter__(self) -> Box:
        self.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Build everything; on failure tear down what was built and raise BoxError."""
        if not netns.inside():
            raise BoxError("refusing to build a box outside its own network namespace (netns.enter() first)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self._addresses()
            targets = self._certs_and_targets()
            self._start_targets(targets)
            self._start_nginx()
            self._start_dns()
            self._nft()
        except BaseException:
            self.stop()
            raise

    def _addresses(self) -> None:
        # Every address something listens on: the resolver and the served ENIs; and a gateway service's
        # prefix-list address, public, which exists only in this namespace. Foreign answers (public_address,
        # outside_vpc) are never probed, so they stay off `lo`.
        wanted = [self.spec.resolver]
        if self.spec.resolver_server != "authdns" and any(e.fault == "forwarder_silent" for e in self.spec.endpoints):
            wanted.append(FORWARDER_TARGET)
        for e in self.spec.endpoints:
            wanted += self.listening_addresses(e)
        wanted = list(dict.fromkeys(wanted))
        batch = "".join(f"address add {a}/{128 if ':' in a else 32} dev lo\n" for a in wanted)
        done = subprocess.run(["ip", "-force", "-batch", "-"], input=batch.encode(), capture_output=True)
        if done.returncode != 0 and b"File exists" not in done.stderr:
            raise BoxError(f"ip address add failed: {done.stderr.decode().strip()}")
        self.lo_addresses = wanted

    def served_addresses(self, e: EndpointSpec) -> list[str]:
        """The addresses the endpoint's name answers with in this box."""
        if e.fault == "public_address":
            return [PUBLIC_ANSWER]
        if e.fault == "outside_vpc":
            return [OUTSIDE_VPC_ANSWER]
        if e.fault == "missing_address":
            return list(e.addresses[:1])
        if e.fault == "unexpected_address":
            return [*e.addresses, self.extra_address(e)]
        return list(e.addresses)

    def listening_addresses(self, e: EndpointSpec) -> list[str]:
        """Where the endpoint's service listens: its ENIs (which exist even when DNS answers something else, as
        with private DNS off) and any extra address DNS answers in the VPC."""
        foreign = (PUBLIC_ANSWER, OUTSIDE_VPC_ANSWER)
        return list(dict.fromkeys([*e.addresses, *(a for a in self.served_addresses(e) if a not in foreign)]))

    def extra_address(self, e: EndpointSpec) -> str:
        """An in-VPC address that is not one of the endpoint's ENIs (a stale record, another endpoint)."""
        first = ipaddress.ip_address(e.addresses[0])
        return str(first + 200)

    def _certs_and_targets(self) -> list[TargetSpec]:
        self.ca.cert_pem.write_to_path(str(self.ca_bundle))
        untrusted_ca = trustme.CA()
        # nginx endpoints present a chain through an intermediate CA, as most deployed servers do.
        intermediate = self.ca.create_child_ca() if any(e.server == "nginx" for e in self.spec.endpoints) else None
        now = dt.datetime.now(dt.UTC)
        targets = []
        for e in self.spec.endpoints:
            if e.fault == "closed":
                continue
            issuer, names, validity = intermediate if e.server == "nginx" else self.ca, [e.dns_name], {}
            assert issuer is not None
            if e.fault == "wrong_name":
                names = [WRONG_NAME]
            elif e.fault == "untrusted":
                issuer = untrusted_ca
            elif e.fault == "expired":
                validity = {"not_before": now - dt.timedelta(days=90), "not_after": now - dt.timedelta(days=2)}
            elif e.fault == "expiring":
                validity = {"not_before": now - dt.timedelta(days=60), "not_after": now + dt.timedelta(days=3)}
            cert = issuer.issue_cert(*names, **validity)  # type: ignore[arg-type]
            certfile, keyfile = self.workdir / f"{e.name}.crt", self.workdir / f"{e.name}.key"
            cert.private_key_pem.write_to_path(str(keyfile))
            chain = cert.cert_chain_pems[:1] if e.fault == "no_intermediate" else cert.cert_chain_pems
            certfile.write_bytes(b"".join(blob.bytes() for blob in chain))
            if e.server == "nginx":
                self.nginx_sites += [
                    thirdparty.NginxSite(
                        a, e.port, str(certfile), str(keyfile), e.fault, 503 if e.fault == "http_status" else 200
                    )
                    for a in self.listening_addresses(e)
                ]
                continue
            behavior = {
                "silent": "silent",
                "garbage": "garbage",
                "reset": "reset",
                "slow_tls": "slow_tls",
                "slow_once": "slow_once",
                "slow_headers": "slow_headers",
                "late": "late",
            }.get(e.fault, "tls")
            for address in self.listening_addresses(e):
                targets.append(
                    TargetSpec(
                        host=address,
                        port=e.port,
                        behavior=behavior,
                        certfile=str(certfile),
                        keyfile=str(keyfile),
                        http_status=503 if e.fault == "http_status" else 200,
                        delay_s=self.spec.slow_ms / 1000.0,
                    )
                )
        return targets

    def _start_targets(self, targets: list[TargetSpec]) -> None:
        if not targets:
            return
        config = self.workdir / "targets.json"
        dump_config(targets, str(config))
        self._spawn("targets", [sys.executable, "-m", "tests.testbed.targets", "--config", str(config)], ready=b"READY")

    def _start_nginx(self) -> None:
        if not self.nginx_sites:
            return
        config = self.workdir / "nginx.conf"
        config.write_text(thirdparty.nginx_config(self.workdir, self.nginx_sites))
        nginx = thirdparty.binary("nginx")
        self._spawn(
            "nginx", [nginx, "-p", str(self.workdir), "-e", str(self.workdir / "nginx-error.log"), "-c", str(config)]
        )
        never = thirdparty.wait_listening((s.host, s.port) for s in self.nginx_sites)
        if never:
            log = (self.workdir / "nginx-error.log").read_text(errors="replace")[-1500:]
            raise BoxError(f"nginx did not listen on {never}: {log}")

    def _start_unbound(self, zone: dict[str, list[tuple[str, str]]], faults: dict[str, str]) -> None:
        # unbound serves the zone itself (NXDOMAIN, NODATA, CNAME chains and loops are its own answers); names
        # whose fault needs a misbehaving server (SERVFAIL, REFUSED, silence, TC, garbage) go to authdns.
        stub_names = {
            e.dns_name for e in self.spec.endpoints if e.dns_name in faults and faults[e.dns_name] != "nxdomain"
        }
        if stub_names:
            self._start_authdns({k: v for k, v in zone.items() if k in stub_names}, faults, "127.0.0.1", 0)
        records = {k: v for k, v in zone.items() if k not in stub_names}
        for name, addresses in self.spec.records.items():
            records[name] = [("AAAA" if ":" in a else "A", a) for a in addresses]
        config = self.workdir / "unbound.conf"
        stubs = {name: self.authdns_port for name in stub_names}
        config.write_text(thirdparty.unbound_config(self.workdir, self.spec.resolver, records, stubs))
        self._spawn("unbound", [thirdparty.binary("unbound"), "-d", "-c", str(config)])
        self._wait_dns(self.spec.resolver, 53)

    def _start_dns(self) -> None:
        spec = self.spec
        if spec.resolver_down == "stopped":
            return
        zone, faults = self.zone()
        if spec.resolver_server == "authdns":  # one server: silent itself for a forwarded zone
            self._start_authdns(zone, faults, spec.resolver, 53)
            return
        if spec.resolver_server == "unbound":
            self._start_unbound(zone, faults)
            return
        silent = [e.dns_name for e in spec.endpoints if e.fault == "forwarder_silent"]
        if silent:  # the FORWARD rule's target: silent for the forwarded zones, which are all it is asked
            self._start_authdns(
                {},
                {n: f for name in silent for n, f in ((name, "timeout"), (f"*.{name}", "timeout"))},
                FORWARDER_TARGET,
                53,
                "forwarder",
            )
        dns_fault_names = {
            e.dns_name for e in spec.endpoints if e.fault in DNS_FAULTS and e.fault != "forwarder_silent"
        }
        wildcard_zones = {e.zone for e in spec.endpoints if e.wildcard}
        if dns_fault_names or wildcard_zones:
            fwd_zone = {
                k: v
                for k, v in zone.items()
                if any(k == n or k.endswith("." + n) for n in dns_fault_names | wildcard_zones)
                or k in self._fault_targets()
                or k == WALLED_GARDEN[0]
            }
            self._start_authdns(fwd_zone, {k: v for k, v in faults.items() if k not in silent}, "127.0.0.1", 0)
        binary = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        args = [
            binary,
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            f"--listen-address={spec.resolver}",
            "--port=53",
            "--user=root",
            "--group=root",
            "--pid-file=",
            f"--log-facility={self.workdir / 'dnsmasq.log'}",
            "--log-queries",
            "--cache-size=0",
            "--local=/amazonaws.com/",
            "--local=/internal/",
        ]
        for e in spec.endpoints:
            parent = e.zone.split(".", 1)[1]
            args.append(f"--local=/{parent}/")
            if e.wildcard:  # the zone goes to authdns; the endpoint's own name answers here too
                args.append(f"--server=/{e.zone}/127.0.0.1#{self.authdns_port}")
                args += [f"--host-record={e.vpce_name},{a}" for a in self.served_addresses(e)]
                continue
            if e.fault == "forwarder_silent":
                args.append(f"--server=/{e.dns_name}/{FORWARDER_TARGET}#53")
                continue
            if e.fault in DNS_FAULTS:
                args.append(f"--server=/{e.dns_name}/127.0.0.1#{self.authdns_port}")
                continue
            if e.fault == "phz_shadow":  # the zone answers NXDOMAIN for the name; the endpoint's own names still work
                args.append(f"--local=/{e.dns_name}/")
                args += [f"--host-record={e.vpce_name},{a}" for a in e.addresses]
                continue
            served = self.served_addresses(e)
            if e.fault in ("public_address", "outside_vpc"):
                # Private DNS off (or a stale zone): the name answers elsewhere, while the endpoint's own name
                # still answers its ENIs.
                args += [f"--host-record={e.dns_name},{a}" for a in served]
                if e.cname:
                    args += [f"--host-record={e.cname},{a}" for a in e.addresses]
            elif e.type in ("service", "gateway"):  # one address per --host-record (one A and one AAAA at most)
                args += [f"--host-record={e.dns_name},{a}" for a in served]
            else:
                args += [f"--host-record={e.vpce_name},{a}" for a in served]
                args.append(f"--cname={e.dns_name},{e.vpce_name}")
        for name, addresses in spec.records.items():
            args.append(f"--local=/{name.split('.', 1)[1]}/")
            args += [f"--host-record={name},{a}" for a in addresses]
        self._spawn("dnsmasq", args)
        self._wait_dns(spec.resolver, 53)

    def _fault_targets(self) -> set[str]:
        return {e.vpce_name for e in self.spec.endpoints if e.fault in DNS_FAULTS or e.wildcard}

    def zone(self) -> tuple[dict[str, list[tuple[str, str]]], dict[str, str]]:
        """The whole private zone as authdns serves it, and the DNS faults by name."""
        zone: dict[str, list[tuple[str, str]]] = {}
        faults: dict[str, str] = {}
        for e in self.spec.endpoints:
            served = self.served_addresses(e)
            records = [("AAAA" if ":" in a else "A", a) for a in served]
            if e.wildcard:  # the private zone: its apex exists without records, any child is the chain
                zone[e.zone] = []
                zone[e.dns_name] = [("CNAME", e.vpce_name)]
                zone[e.vpce_name] = records
            elif e.fault in BLOCK_ANSWERS:
                faults[e.dns_name] = BLOCK_ANSWERS[e.fault]
                zone[e.vpce_name] = records
                zone[WALLED_GARDEN[0]] = [("A", WALLED_GARDEN[1])]
            elif e.fault == "phz_shadow":
                zone[e.vpce_name] = records
            elif e.fault == "forwarder_silent":
                faults[e.dns_name] = "timeout"
                zone[e.vpce_name] = records
            elif e.fault in ("public_address", "outside_vpc"):
                zone[e.dns_name] = records
                if e.cname:
                    zone[e.cname] = [("AAAA" if ":" in a else "A", a) for a in e.addresses]
            elif e.fault == "nodata":
                zone[e.dns_name] = [("TXT", '"no addresses here"')]
            elif e.fault == "cname_loop":
                zone[e.dns_name] = [("CNAME", e.vpce_name)]
                zone[e.vpce_name] = [("CNAME", e.dns_name)]
            elif e.fault == "cname_nodata":
                zone[e.dns_name] = [("CNAME", e.vpce_name)]
                zone[e.vpce_name] = [("TXT", '"endpoint deleted"')]
            elif e.fault == "nxdomain":
                faults[e.dns_name] = "nxdomain"
            elif e.type in ("service", "gateway"):
                zone[e.dns_name] = records
            else:
                zone[e.dns_name] = [("CNAME", e.vpce_name)]
                zone[e.vpce_name] = records
            fault = {
                "servfail": "servfail",
                "refused": "refused",
                "dns_timeout": "timeout",
                "dns_slow": f"slow:{self.spec.resolver_timeout_ms * 2}",
                "truncate": "truncate",
                "malformed": "malformed",
            }.get(e.fault)
            if fault:
                faults[e.dns_name] = fault
        return zone, faults

    def _start_authdns(
        self,
        zone: dict[str, list[tuple[str, str]]],
        faults: dict[str, str],
        host: str,
        port: int,
        name: str = "authdns",
    ) -> None:
        config = self.workdir / f"authdns-{host}.json"
        config.write_text(json.dumps({"zone": zone, "faults": faults}))
        line = self._spawn(
            name,
            [
                sys.executable,
                "-m",
                "tests.testbed.authdns",
                "--config",
                str(config),
                "--host",
                host,
                "--port",
                str(port),
            ],
            ready=b"READY",
        )
        if name == "authdns":
            self.authdns_port = int(line.split()[1])

    def _nft(self) -> None:
        rules = []
        for e in self.spec.endpoints:
            if e.fault == "drop":
                rules += [f"{'ip6' if ':' in a else 'ip'} daddr {a} tcp dport {e.port} drop" for a in e.addresses]
        if self.spec.resolver_rate_limit_pps:
            n = self.spec.resolver_rate_limit_pps
            rules.append(
                f"ip daddr {self.spec.resolver} udp dport 53 "
                f"meter vpcbox_dns_rate {{ ip saddr limit rate over {n}/second burst {n} packets }} drop"
            )
        if self.spec.resolver_down == "drop":
            rules += [
                f"ip daddr {self.spec.resolver} udp dport 53 drop",
                f"ip daddr {self.spec.resolver} tcp dport 53 drop",
            ]
        if not rules:
            return
        if shutil.which("nft") is None:
            raise BoxError("nft (nftables) is missing: run scripts/setup")
        # Dropped on input, after the packet left the sender: an output drop would fail the send with EPERM at
        # once, which is not what a security group or NACL does.
        script = (
            f"table inet {NFT_TABLE} {{\n chain input {{\n  type filter hook input priority 0; policy accept;\n"
            + "".join(f"  {r}\n" for r in rules)
            + " }\n}\n"
        )
        done = subprocess.run(["nft", "-f", "-"], input=script.encode(), capture_output=True)
        if done.returncode != 0:
            raise BoxError(f"nft failed: {done.stderr.decode().strip()}")
        self.nft_rules = rules

    def _spawn(self, name: str, argv: list[str], ready: bytes | None = None, timeout_s: float = 20.0) -> str:
        log = self.workdir / f"{name}.log"
        err: IO[bytes] = open(log, "ab")  # noqa: SIM115 - the child writes it until stop()
        popen = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE if ready else err, stderr=err)
        self.procs.append(_Proc(name, popen, log))
        if ready is None:
            return ""
        assert popen.stdout is not None
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            line = popen.stdout.readline()
            if line.startswith(ready):
                return line.decode().strip()
            if not line and popen.poll() is not None:
                break
        raise BoxError(f"{name} did not start: {log.read_text(errors='replace')[-2000:]}")

    def _wait_dns(self, host: str, port: int, timeout_s: float = 10.0) -> None:
        import socket

        import dns.message

        query = dns.message.make_query("vpcbox-ready.internal", "A").to_wire()
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.2)
                try:
                    s.sendto(query, (host, port))
                    s.recv(512)
                    return
                except OSError:
                    time.sleep(0.05)
        servers = ("dnsmasq", "unbound")
        logs = "; ".join(p.log.read_text(errors="replace")[-500:] for p in self.procs if p.name in servers)
        raise BoxError(f"the resolver at {host}:{port} did not answer: {logs}")

    def stop(self) -> None:
        """Tear everything down (processes, nft table, addresses); safe to call twice."""
        for proc in reversed(self.procs):
            if proc.popen.poll() is None:
                proc.popen.terminate()
        for proc in self.procs:
            try:
                proc.popen.wait(5)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait()
            if proc.popen.stdout is not None:
                proc.popen.stdout.close()
        self.procs.clear()
        if self.nft_rules:
            subprocess.run(["nft", "delete", "table", "inet", NFT_TABLE], capture_output=True)
            self.nft_rules = []
        if self.lo_addresses:
            batch = "".join(f"address del {a}/{128 if ':' in a else 32} dev lo\n" for a in self.lo_addresses)
            subprocess.run(["ip", "-force", "-batch", "-"], input=batch.encode(), capture_output=True)
            self.lo_addresses = []

    # what the agent is given -----------------------------------------------------------------------------------

    def topology(self, *, declare_hub: bool = True) -> dict[str, Any]:
        """The topology file (docs/topology.md) that describes this box as its designer intended it.

        A hub-and-spoke box declares its hub at the top level (`hub: {vpc_id, cidrs}`, issue 12's suggestion), which
        today's loader rejects; `declare_hub=False` leaves it out."""
        spec = self.spec
        endpoints = []
        for e in spec.endpoints:
            item: dict[str, Any] = {"name": e.name, "type": e.type}
            if e.service:
                item["service"] = e.service
            item["dns_names"] = [e.probed_name]
            item["addresses"] = list(e.addresses)
            families = {":" in a for a in e.addresses}
            if families == {True, False}:
                item["ip_address_type"] = "dualstack"
            elif families == {True}:
                item["ip_address_type"] = "ipv6"
            if e.azs:
                item["azs"] = list(e.azs)
            if e.port != 443:
                item["port"] = e.port
            if e.http:
                item["http"] = dict(e.http)
            endpoints.append(item)
        doc: dict[str, Any] = {
            "version": 1,
            "region": spec.region,
            "vpc": {"cidrs": list(spec.vpc_cidrs)},
            "resolver": {"nameservers": [spec.resolver], "port": 53, "timeout_ms": spec.resolver_timeout_ms},
            "defaults": {
                "timeout_ms": spec.timeout_ms,
                "latency_budget_ms": spec.latency_budget_ms,
                "tls": {"verify": True, "ca_bundle": str(self.ca_bundle)},
            },
            "endpoints": endpoints,
        }
        if declare_hub and spec.hub_cidrs:
            doc["hub"] = {"vpc_id": spec.hub_vpc_id, "cidrs": list(spec.hub_cidrs)}
        return doc

    def write_topology(self, path: Path | None = None, *, declare_hub: bool = True) -> Path:
        """Write the topology file (YAML) and return its path."""
        path = path or self.workdir / "topology.yaml"
        path.write_text(yaml.safe_dump(self.topology(declare_hub=declare_hub), sort_keys=False))
        return path

    def expected_codes(self) -> dict[str, set[str]]:
        """Per endpoint, the exact finding codes a correct vpc-verify reports for this box."""
        codes = self.spec.expected_codes()
        if self.spec.resolver_server == "dnsmasq" and not self.spec.resolver_down:
            for e in self.spec.endpoints:
                if e.fault in ("malformed",):
                    codes[e.name] = {"DNS_TIMEOUT"}  # dnsmasq drops a malformed upstream answer
        return codes
