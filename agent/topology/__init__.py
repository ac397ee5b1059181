"""The topology file (docs/topology.md): what a VPC is expected to reach, loaded and validated into frozen records.

- `model`: the records (Topology, Endpoint, Resolver, Vpc, TlsSettings, HttpSettings) and the defaults and
  ranges; `settings`: the table of them with their meaning (`SETTINGS`, imported when first asked for).
- `parse`: bounded YAML loading and the strict validation; every error is a one-line `TopologyError`
  naming the source, the key path (``endpoints[2].tls.ca_bundle``) and what was expected.
- `sources`: a topology file, read within a size limit (an SSM parameter or an S3 object is read one layer up,
  by vpc_verify.locations, with the AWS side).

Configuration errors are refused at load time, before any packet: duplicate keys (YAML would keep the last
one silently), a `tls.ca_bundle` that OpenSSL cannot load (missing, a directory, empty, without a PEM
certificate), and a topology with no endpoint to check, unless it says so with the top-level key
``allow_empty: true`` (a CI smoke test of nothing must not pass as healthy).
"""

from typing import TYPE_CHECKING, Any

from vpc_verify.topology.errors import TopologyError, TopologySourceError
from vpc_verify.topology.model import (
    DEFAULT_LATENCY_BUDGET_MS,
    DEFAULT_PORT,
    DEFAULT_QUERIES_PER_SECOND,
    DEFAULT_RESOLVER_PORT,
    DEFAULT_RESOLVER_TIMEOUT_MS,
    DEFAULT_TIMEOUT_MS,
    Endpoint,
    EndpointType,
    HttpSettings,
    Hub,
    IPAddress,
    IpAddressType,
    IPNetwork,
    Resolver,
    TlsSettings,
    Topology,
    Vpc,
    default_dns_name,
)
from vpc_verify.topology.parse import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_ENDPOINTS,
    MAX_FILE_BYTES,
    MAX_LIST,
    MAX_NODES,
    load_yaml,
    loads,
    parse,
)
from vpc_verify.topology.sources import load, read_file

if TYPE_CHECKING:
    from vpc_verify.topology.settings import SETTINGS, Setting

__all__ = [
    "DEFAULT_LATENCY_BUDGET_MS",
    "DEFAULT_PORT",
    "DEFAULT_QUERIES_PER_SECOND",
    "DEFAULT_RESOLVER_PORT",
    "DEFAULT_RESOLVER_TIMEOUT_MS",
    "DEFAULT_TIMEOUT_MS",
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_ENDPOINTS",
    "MAX_FILE_BYTES",
    "MAX_LIST",
    "MAX_NODES",
    "SETTINGS",
    "Endpoint",
    "EndpointType",
    "HttpSettings",
    "Hub",
    "IPAddress",
    "IPNetwork",
    "IpAddressType",
    "Resolver",
    "Setting",
    "TlsSettings",
    "Topology",
    "TopologyError",
    "TopologySourceError",
    "Vpc",
    "default_dns_name",
    "load",
    "load_yaml",
    "loads",
    "parse",
    "read_file",
]


def __getattr__(name: str) -> Any:
    # The settings table is for the reference documentation: loading a topology does not build it.
    if name in ("SETTINGS", "Setting"):
        from vpc_verify.topology import settings

        return getattr(settings, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
