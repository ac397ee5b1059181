"""The data plane: async probes, one module per kind, each an async function over a frozen spec returning a
frozen result. No AWS SDK here; network failures are results, never exceptions.

`PROBES` maps a kind to its probe, like blackbox_exporter's prober registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from vpc_verify.checks import dns, http, tcp, tls

PROBES: dict[str, Callable[[Any], Awaitable[Any]]] = {
    "dns": dns.resolve,
    "tcp": tcp.connect,
    "tls": tls.handshake,
    "http": http.request,
}
