"""A small DNS server for faults a real one will not make on demand (UDP and TCP on one port).

Zone: name -> records [("A", "10.0.1.5"), ("CNAME", "x.example.com"), ...]; CNAMEs are followed inside the
zone into the answer, as a recursive resolver would return them. A name `*.example.com` is a wildcard (RFC 4592):
it answers any name below example.com that has no records of its own, with the query name as owner; a name with an
empty list exists without records (a zone apex: NODATA, not NXDOMAIN). Names not in the zone are NXDOMAIN.

Faults per name: servfail, refused, nxdomain, nodata, timeout (never answers), truncate (UDP: TC and no answer;
TCP: the whole, large answer), malformed (garbage after the query id), slow:<ms>, and what a Route 53 Resolver DNS
Firewall rule with Action BLOCK answers (Route 53 API reference, FirewallRule): block:nodata (NOERROR, no answer),
block:nxdomain, block:override:<domain> (a CNAME to <domain>, then <domain>'s records from the zone). A fault keyed
`*.example.com` applies to every name below example.com (a silent forwarder for a whole zone: `timeout`).
Run in-process (`running(zone, faults)`) or as `python -m tests.testbed.authdns --config FILE.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import signal
import struct
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import partial

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from tests.testbed import background

Zone = Mapping[str, Sequence[tuple[str, str]]]
FAULTS = (
    "servfail",
    "refused",
    "nxdomain",
    "nodata",
    "timeout",
    "truncate",
    "malformed",
    "block:nodata",
    "block:nxdomain",
)
_BIND_ATTEMPTS = 20


def _key(name: str) -> str:
    return name.rstrip(".").lower()


class Authority:
    """Answers queries from a zone and a fault table."""

    def __init__(self, zone: Zone, faults: Mapping[str, str] | None = None) -> None:
        self.zone = {_key(k): list(v) for k, v in zone.items()}
        self.faults = {_key(k): v for k, v in (faults or {}).items()}
        for name, fault in self.faults.items():
            if fault not in FAULTS and not fault.startswith(("slow:", "block:override:")):
                raise ValueError(f"{name}: unknown fault {fault!r}")

    def fault_of(self, name: str) -> str:
        """The fault for `name`: its own, else that of the closest `*.<ancestor>` key."""
        if name in self.faults:
            return self.faults[name]
        labels = name.split(".")
        for i in range(1, len(labels)):
            fault = self.faults.get("*." + ".".join(labels[i:]))
            if fault is not None:
                return fault
        return ""

    def records(self, name: str) -> list[tuple[str, str]] | None:
        """The records of `name` (a wildcard's when it has none of its own), or None when the name does not exist."""
        if name in self.zone:
            return self.zone[name]
        labels = name.split(".")
        for i in range(1, len(labels)):
            parent = ".".join(labels[i:])
            if parent in self.zone and "*." + parent not in self.zone:
                return None  # an existing name stops the wildcard search (RFC 4592)
            wildcard = self.zone.get("*." + parent)
            if wildcard is not None:
                return wildcard
        return None

    async def answer(self, wire: bytes, over_tcp: bool) -> bytes | None:
        """The response to one query (None: stay silent)."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # not DNS: ignore it, as a server would
            return None
        question = query.question[0]
        name, rdtype = _key(question.name.to_text()), question.rdtype
        fault = self.fault_of(name)
        if fault == "timeout":
            return None
        if fault.startswith("slow:"):
            await asyncio.sleep(int(fault[5:]) / 1000.0)
        if fault == "malformed":
            return wire[:2] + b"\x81\x80\x00\x01\x00\x07\x00\x00\x00\x00\xc0\xff\x00"
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        if fault in ("servfail", "refused", "nxdomain", "block:nxdomain"):
            rcode = {"servfail": dns.rcode.SERVFAIL, "refused": dns.rcode.REFUSED}.get(fault, dns.rcode.NXDOMAIN)
            response.set_rcode(rcode)
            return bytes(response.to_wire())
        if fault == "block:nodata":
            return bytes(response.to_wire())
        if fault.startswith("block:override:"):
            target = _key(fault[len("block:override:") :])
            response.answer.append(dns.rrset.from_text(name + ".", 30, "IN", "CNAME", target + "."))
            self._fill(response, target, rdtype)
            return bytes(response.to_wire(max_size=65535))
        if fault == "truncate" and not over_tcp:
            response.flags |= dns.flags.TC
            return bytes(response.to_wire())
        if fault != "nodata":
            found = self._fill(response, name, rdtype)
            if not found and self.records(name) is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
        return bytes(response.to_wire(max_size=65535))

    def _fill(self, response: dns.message.Message, name: str, rdtype: int) -> bool:
        seen = set()
        current = name
        while current not in seen:
            records = self.records(current)
            if records is None:
                break
            seen.add(current)
            wanted = [v for t, v in records if dns.rdatatype.from_text(t) == rdtype]
            if wanted:
                response.answer.append(dns.rrset.from_text_list(current + ".", 30, "IN", rdtype, wanted))
                return True
            cname = next((v for t, v in records if t.upper() == "CNAME"), None)
            if cname is None:
                return True
            response.answer.append(dns.rrset.from_text(current + ".", 30, "IN", "CNAME", _key(cname) + "."))
            current = _key(cname)
        return current in seen  # a loop: the CNAMEs are the answer


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, authority: Authority) -> None:
        self.authority = authority
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        task = asyncio.ensure_future(self._reply(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _reply(self, data: bytes, addr: tuple[str, int]) -> None:
        out = await self.authority.answer(data, over_tcp=False)
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)


async def start(authority: Authority, host: str, port: int) -> tuple[list[background.Closable], int]:
    """Serve UDP and TCP on host:port (port 0: a free one, the same for both); (closables, port).

    With port 0 the kernel picks the UDP port, and the TCP port of that number may be taken: then both are
    let go and another pair is tried, never a number that was released for someone else to take.
    """
    loop = asyncio.get_running_loop()
    for _attempt in range(_BIND_ATTEMPTS if port == 0 else 1):
        transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(authority), local_addr=(host, port))
        bound = int(transport.get_extra_info("sockname")[1])
        try:
            server = await asyncio.start_server(partial(_serve_tcp, authority), host, bound)
        except OSError as exc:
            transport.close()
            if port != 0 or exc.errno != errno.EADDRINUSE:
                raise
            continue
        return [transport, server], bound
    raise OSError(errno.EADDRINUSE, f"no port of {host} was free for both UDP and TCP in {_BIND_ATTEMPTS} tries")


async def _serve_tcp(authority: Authority, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One TCP connection: length-prefixed queries until the client closes (a silent fault holds it)."""
    try:
        while True:
            size = struct.unpack("!H", await reader.readexactly(2))[0]
            out = await authority.answer(await reader.readexactly(size), over_tcp=True)
            if out is None:
                await asyncio.sleep(60)
                return
            writer.write(struct.pack("!H", len(out)) + out)
            await writer.drain()
    except (asyncio.IncompleteReadError, OSError):
        pass
    finally:
        writer.close()


@contextlib.contextmanager
def running(
    zone: Zone, faults: Mapping[str, str] | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[tuple[str, int]]:
    """Serve in a background thread for the duration of the block; yields (host, port)."""
    authority = Authority(zone, faults)

    with background.serving(lambda: start(authority, host, port), "authdns") as bound:
        yield host, bound


async def _serve(authority: Authority, host: str, port: int) -> None:
    closables, bound = await start(authority, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {bound}", flush=True)
    await stop.wait()
    for c in closables:
        c.close()


def main(argv: list[str] | None = None) -> int:
    """CLI: serve a zone and faults from a JSON file ({"zone": {...}, "faults": {...}})."""
    parser = argparse.ArgumentParser(prog="python -m tests.testbed.authdns", description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with open(args.config) as f:
        config = json.load(f)
    zone = {k: [tuple(r) for r in v] for k, v in config.get("zone", {}).items()}
    try:
        asyncio.run(_serve(Authority(zone, config.get("faults")), args.host, args.port))
    except (OSError, ValueError) as exc:
        print(f"authdns: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
