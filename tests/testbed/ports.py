"""Ports that refuse: a loopback address where nothing listens, guaranteed for as long as the block runs.

Binding port 0, reading the number and closing the socket ("a free port") races: the next bind(0) in the
namespace, a server of a parallel test or the emulator, may get that very number, and then the "dead"
endpoint answers. Here the socket is kept, so the kernel keeps the port ours, yet it never answers:

- TCP: the socket is bound but never listens. A SYN finds no listening socket and gets RST (ECONNREFUSED at
  once), and no other socket can bind the port while we hold it: we do not set SO_REUSEADDR, so even a
  server that sets it gets EADDRINUSE, and bind(0) never hands the port out.
- UDP: the socket is bound and connected to a peer that never sends (its own address). A datagram from
  anyone else matches no socket, so the kernel answers ICMP port unreachable (ECONNREFUSED for a connected
  client, a fast DNS failure for a resolver), and again nothing else can bind the port.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal


@contextmanager
def refusing_port(kind: Literal["tcp", "udp"] = "tcp", host: str = "127.0.0.1") -> Iterator[int]:
    """A port on `host` that refuses every `kind` packet while the block runs; yields its number."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    try:
        sock.bind((host, 0))
        port = int(sock.getsockname()[1])
        if kind == "udp":
            sock.connect((host, port))
        yield port
    finally:
        sock.close()
