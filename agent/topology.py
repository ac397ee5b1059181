"""The topology file (docs/topology.md): what a VPC is expected to reach, loaded and validated into frozen records.

Validation is strict and explains itself: an unknown key, a wrong type, a bad CIDR or a duplicate name raises
`TopologyError` naming the file, the key path (``endpoints[2].tls.ca_bundle``) and what was expected.
Hostile files are bounded: a size limit, YAML aliases limited, and every list capped, so a "billion laughs"
file fails fast instead of eating memory.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
EndpointType = Literal["interface", "gateway", "service"]
IpAddressType = Literal["ipv4", "dualstack", "ipv6"]

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_ALIASES = 200
MAX_ENDPOINTS = 10_000
MAX_LIST = 256
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_AWS_SERVICE = re.compile(r"^com\.amazonaws\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.(?P<svc>[a-z0-9.-]+)$")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/+=@-]{0,127}$")
# AWS services whose private DNS name is not `<svc>.<region>.amazonaws.com`.
_DNS_NAME_EXCEPTIONS = {
    "ecr.api": "api.ecr.{region}.amazonaws.com",
    "ecr.dkr": "dkr.ecr.{region}.amazonaws.com",
}


class TopologyError(ValueError):
    """A topology file is unreadable or invalid; carries the file, the key path and the expectation."""

    def __init__(self, source: str, path: str, expected: str, got: object = None, *, has_got: bool = True):
        self.source = source
        self.path = path
        self.expected = expected
        self.got = got
        where = f"{source}: {path}" if path else source
        shown = f", got {_show(got)}" if has_got else ""
        super().__init__(f"{where}: expected {expected}{shown}")


def _show(value: object) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """How to handshake: verify the chain (against `ca_bundle`, or the system store) and the name."""

    verify: bool = True
    ca_bundle: str | None = None
    server_name: str | None = None


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """One HTTP request after the handshake and the statuses that count as healthy."""

    path: str = "/"
    method: str = "GET"
    status: tuple[int, ...] = (200,)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One service the VPC depends on, with every default already applied."""

    name: str
    type: EndpointType
    service: str | None
    dns_names: tuple[str, ...]
    addresses: tuple[str, ...] = ()
    azs: tuple[str, ...] = ()
    port: int = 443
    timeout_ms: int = 2000
    latency_budget_ms: float = 100.0
    tls: TlsSettings | None = field(default_factory=TlsSettings)
    http: HttpSettings | None = None
    ip_address_type: IpAddressType = "ipv4"

    @property
    def asks_a(self) -> bool:
        """Whether the DNS phase asks for A records (not for an IPv6-only endpoint)."""
        return self.ip_address_type != "ipv6"

    @property
    def asks_aaaa(self) -> bool:
        """Whether the DNS phase asks for AAAA records (dual-stack and IPv6-only endpoints)."""
        return self.ip_address_type != "ipv4"

    @property
    def server_name(self) -> str:
        """The name sent as SNI and checked against the certificate."""
        if self.tls is not None and self.tls.server_name:
            return self.tls.server_name
        return self.dns_names[0]

    @property
    def timeout_s(self) -> float:
        """Per-phase probe timeout in seconds."""
        return self.timeout_ms / 1000.0


# DNS questions (packets) a second at most: well under the VPC resolver's limit of 1024 packets a second per
# network interface, which the ENI's other traffic (and, in Lambda, other functions on a Hyperplane ENI) shares.
DEFAULT_QUERIES_PER_SECOND = 300
MAX_QUERIES_PER_SECOND = 100_000


@dataclass(frozen=True, slots=True)
class Resolver:
    """Where DNS questions go (no nameservers means the system resolver) and how fast they may be sent."""

    nameservers: tuple[str, ...] = ()
    port: int = 53
    timeout_ms: int = 1000
    queries_per_second: int = DEFAULT_QUERIES_PER_SECOND


@dataclass(frozen=True, slots=True)
class Vpc:
    """The VPC the agent runs in: its id enables the control-plane comparison."""

    id: str | None = None
    cidrs: tuple[IPNetwork, ...] = ()


@dataclass(frozen=True, slots=True)
class Topology:
    """A validated topology file."""

    version: int
    region: str | None
    vpc: Vpc
    resolver: Resolver
    endpoints: tuple[Endpoint, ...]
    source: str = "<memory>"

    def endpoint(self, name: str) -> Endpoint:
        """The endpoint called `name` (KeyError when absent)."""
        for endpoint in self.endpoints:
            if endpoint.name == name:
                return endpoint
        raise KeyError(name)

    def only(self, names: Iterable[str]) -> Topology:
        """The same topology narrowed to `names`; an unknown name is a TopologyError."""
        wanted = list(dict.fromkeys(names))
        known = {e.name for e in self.endpoints}
        for name in wanted:
            if name not in known:
                raise TopologyError(self.source, "only", f"one of the endpoint names {sorted(known)}", name)
        keep = set(wanted)
        return replace(self, endpoints=tuple(e for e in self.endpoints if e.name in keep))


def default_dns_name(service: str, region: str | None) -> str | None:
    """The private DNS name of an AWS service name (`com.amazonaws.<region>.<svc>`), or None if unknown."""
    match = _AWS_SERVICE.match(service)
    if not match or match["svc"].startswith("vpce-svc-"):
        return None
    svc, svc_region = match["svc"], match["region"]
    template = _DNS_NAME_EXCEPTIONS.get(svc, "{svc}.{region}.amazonaws.com")
    return template.format(svc=svc, region=svc_region or region)


# --------------------------------------------------------------------------------------------------- loading


def load(path: str | os.PathLike[str]) -> Topology:
    """Read and validate a topology file (YAML or JSON)."""
    source = str(path)
    try:
        size = os.path.getsize(source)
        if size > MAX_FILE_BYTES:
            raise TopologyError(source, "", f"a file of at most {MAX_FILE_BYTES} bytes", f"{size} bytes")
        text = Path(source).read_bytes().decode("utf-8")
    except TopologyError:
        raise
    except UnicodeDecodeError as exc:
        raise TopologyError(source, "", "UTF-8 text", f"undecodable byte at offset {exc.start}") from None
    except OSError as exc:
        raise TopologyError(source, "", "a readable file", exc.strerror or str(exc)) from None
    return loads(text, source=source, base_dir=Path(source).resolve().parent)


def loads(text: str, *, source: str = "<string>", base_dir: Path | None = None) -> Topology:
    """Validate a topology given as YAML/JSON text (relative ca_bundle paths resolve against `base_dir`)."""
    if len(text) > MAX_FILE_BYTES:
        raise TopologyError(source, "", f"at most {MAX_FILE_BYTES} characters", f"{len(text)} characters")
    return parse(_yaml_load(text, source), source=source, base_dir=base_dir)


def _yaml_load(text: str, source: str) -> object:
    import yaml

    from vpc_verify import plainyaml

    class BoundedLoader(yaml.SafeLoader):
        """SafeLoader that refuses alias-heavy documents (YAML bombs)."""

        aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases")
            return super().compose_node(parent, index)

    # libyaml's C parser is ~10x faster on a thousand-endpoint file, but it can neither count aliases nor stop
    # deep recursion (a flow of 100,000 "[" overflows the C stack): only plain documents, without an anchor
    # ("&": no alias, no bomb) and with shallow flow nesting, take it; the rest take the bounded Python path.
    fast = getattr(yaml, "CSafeLoader", None) if "&" not in text and _flow_depth(text) <= 64 else None
    try:
        return plainyaml.load(text) if fast else yaml.load(text, Loader=BoundedLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raise TopologyError(source, "", "valid YAML", f"{exc.problem} at {where}", has_got=True) from None
    except RecursionError:
        raise TopologyError(source, "", "valid YAML", "nesting too deep to be a topology") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise TopologyError(source, "", "valid YAML", str(exc)) from None


def _flow_depth(text: str) -> int:
    """The deepest nesting of flow brackets, counting brackets in strings too (an over-estimate is safe)."""
    brackets = re.sub(r"[^\[\]{}]", "", text)
    depth = deepest = 0
    for ch in brackets:
        depth += 1 if ch in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


class _Reader:
    """Walks parsed YAML with a key path, so every error names where it is."""

    def __init__(self, source: str, base_dir: Path | None = None) -> None:
        self.source = source
        self.base_dir = base_dir

    def fail(self, path: str, expected: str, got: object = None, *, has_got: bool = True) -> TopologyError:
        return TopologyError(self.source, path, expected, got, has_got=has_got)

    def mapping(self, value: object, path: str, allowed: Iterable[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, "a mapping", value)
        allowed = tuple(allowed)
        for key in value:
            if not isinstance(key, str):
                raise self.fail(_join(path, str(key)), "string keys", key)
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise self.fail(
                    _join(path, key), f"one of the keys {', '.join(allowed)}{hint}; this key is unknown", has_got=False
                )
        return value

    def list(self, value: object, path: str, limit: int = MAX_LIST) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, "a list", value)
        if len(value) > limit:
            raise self.fail(path, f"a list of at most {limit} items", value)
        return value

    def string(self, value: object, path: str, pattern: re.Pattern[str] | None = None, what: str = "a string") -> str:
        if not isinstance(value, str) or not value or len(value) > 1024:
            raise self.fail(path, what, value)
        if pattern is not None and not pattern.match(value):
            raise self.fail(path, what, value)
        return value

    def integer(self, value: object, path: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(path, f"an integer from {low} to {high}", value)
        return value

    def number(self, value: object, path: str, low: float, high: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
            raise self.fail(path, f"a number above {low} and at most {high}", value)
        return float(value)

    def boolean(self, value: object, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, "true or false", value)
        return value

    def address(self, value: object, path: str) -> IPAddress:
        if not isinstance(value, str):
            raise self.fail(path, "an IP address", value)
        try:
            return ipaddress.ip_address(value)
        except ValueError:
            raise self.fail(path, "an IP address", value) from None

    def hostname(self, value: object, path: str) -> str:
        what = "a DNS name (at most 253 characters, labels of 1-63 letters, digits or hyphens)"
        if not isinstance(value, str) or not value:
            raise self.fail(path, what, value)
        name = value.rstrip(".")
        if not name.isascii():
            try:
                name = name.encode("idna").decode("ascii")
            except UnicodeError:
                raise self.fail(path, what + " or a valid internationalised name", value) from None
        if len(name) > 253 or not all(_HOST_LABEL.match(label) for label in name.split(".")):
            raise self.fail(path, what, value)
        return name.lower()


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


_TOP_KEYS = ("version", "region", "vpc", "resolver", "defaults", "endpoints")
_ENDPOINT_KEYS = (
    "name",
    "type",
    "service",
    "dns_names",
    "addresses",
    "azs",
    "port",
    "timeout_ms",
    "latency_budget_ms",
    "tls",
    "http",
    "ip_address_type",
)
_DEFAULT_KEYS = tuple(k for k in _ENDPOINT_KEYS if k != "name")
_TLS_KEYS = ("verify", "ca_bundle", "server_name")
_HTTP_KEYS = ("path", "method", "status")
_UNSET: Any = object()


def parse(document: object, *, source: str = "<memory>", base_dir: Path | None = None) -> Topology:
    """Validate an already-parsed document (e.g. from a Lambda event) into a Topology.

    With `base_dir`, a relative `tls.ca_bundle` resolves against it and must name a readable file.
    """
    r = _Reader(source, base_dir)
    if document is None:
        raise r.fail("", "a topology mapping with version, endpoints", "an empty document")
    top = r.mapping(document, "", _TOP_KEYS)
    if "version" not in top:
        raise r.fail("version", "version: 1", has_got=False)
    if top["version"] != 1 or isinstance(top["version"], bool):
        raise r.fail("version", "1 (the only version this vpc-verify reads)", top["version"])

    region = None
    if top.get("region") is not None:
        region = r.string(top["region"], "region", _REGION, "an AWS region such as us-east-1")
    else:
        env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        region = env_region if env_region and _REGION.match(env_region) else None

    vpc = _parse_vpc(r, top.get("vpc"))
    resolver = _parse_resolver(r, top.get("resolver"))
    defaults = r.mapping(top["defaults"], "defaults", _DEFAULT_KEYS) if top.get("defaults") is not None else {}

    if "endpoints" not in top:
        raise r.fail("endpoints", "a list of endpoints", has_got=False)
    raw_endpoints = r.list(top["endpoints"], "endpoints", MAX_ENDPOINTS)
    endpoints: list[Endpoint] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_endpoints):
        path = f"endpoints[{index}]"
        endpoint = _parse_endpoint(r, raw, path, defaults, region)
        if endpoint.name in seen:
            raise r.fail(f"{path}.name", f"a unique name (endpoints[{seen[endpoint.name]}] has it too)", endpoint.name)
        seen[endpoint.name] = index
        endpoints.append(endpoint)
    return Topology(version=1, region=region, vpc=vpc, resolver=resolver, endpoints=tuple(endpoints), source=source)


def _parse_vpc(r: _Reader, raw: object) -> Vpc:
    if raw is None:
        return Vpc()
    m = r.mapping(raw, "vpc", ("id", "cidrs"))
    vpc_id = (
        r.string(m["id"], "vpc.id", _VPC_ID, "a VPC id such as vpc-0123456789abcdef0")
        if m.get("id") is not None
        else None
    )
    cidrs: list[IPNetwork] = []
    for i, value in enumerate(r.list(m.get("cidrs") or [], "vpc.cidrs", 64)):
        path = f"vpc.cidrs[{i}]"
        if not isinstance(value, str):
            raise r.fail(path, "a CIDR such as 10.0.0.0/16", value)
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            raise r.fail(path, f"a CIDR such as 10.0.0.0/16 ({exc})", value) from None
        for j, other in enumerate(cidrs):
            if network.version == other.version and network.overlaps(other):
                raise r.fail(path, f"a CIDR that does not overlap vpc.cidrs[{j}] ({other})", value)
        cidrs.append(network)
    return Vpc(id=vpc_id, cidrs=tuple(cidrs))


def _parse_resolver(r: _Reader, raw: object) -> Resolver:
    if raw is None:
        return Resolver()
    m = r.mapping(raw, "resolver", ("nameservers", "port", "timeout_ms", "queries_per_second"))
    servers = tuple(
        str(r.address(v, f"resolver.nameservers[{i}]"))
        for i, v in enumerate(r.list(m.get("nameservers") or [], "resolver.nameservers", 8))
    )
    port = r.integer(m["port"], "resolver.port", 1, 65535) if "port" in m else 53
    timeout = r.integer(m["timeout_ms"], "resolver.timeout_ms", 1, 60_000) if "timeout_ms" in m else 1000
    qps = DEFAULT_QUERIES_PER_SECOND
    if "queries_per_second" in m:
        qps = r.integer(m["queries_per_second"], "resolver.queries_per_second", 1, MAX_QUERIES_PER_SECOND)
    return Resolver(nameservers=servers, port=port, timeout_ms=timeout, queries_per_second=qps)


def _merged(r: _Reader, raw: Mapping[str, Any], defaults: Mapping[str, Any], key: str) -> Any:
    """The endpoint's value for `key`, else the default's, else _UNSET; tls/http mappings merge key by key."""
    if key in raw:
        value = raw[key]
        if key in ("tls", "http") and isinstance(value, Mapping) and isinstance(defaults.get(key), Mapping):
            return {**defaults[key], **value}
        return value
    return defaults.get(key, _UNSET)


def _parse_endpoint(r: _Reader, raw: object, path: str, defaults: Mapping[str, Any], region: str | None) -> Endpoint:
    m = r.mapping(raw, path, _ENDPOINT_KEYS)
    if "name" not in m:
        raise r.fail(f"{path}.name", "a name for the endpoint (it becomes the metric dimension)", has_got=False)
    name = r.string(
        m["name"], f"{path}.name", _NAME, "a name of 1-128 letters, digits and _.:/+=@- (it becomes a metric dimension)"
    )

    def value(key: str) -> Any:
        return _merged(r, m, defaults, key)

    def where(key: str) -> str:
        return f"{path}.{key}" if key in m else f"defaults.{key}"

    kind = value("type")
    if kind is _UNSET:
        kind = "interface"
    if kind not in ("interface", "gateway", "service"):
        raise r.fail(where("type"), "one of interface, gateway, service", kind)

    service = value("service")
    if service is _UNSET or service is None:
        service = None
        if kind != "service":
            raise r.fail(
                f"{path}.service",
                f"the AWS service name of a {kind} endpoint, such as com.amazonaws.{region or 'us-east-1'}.sqs",
                has_got=False,
            )
    else:
        service = r.string(service, where("service"), what="a service name such as com.amazonaws.us-east-1.sqs")

    raw_names = value("dns_names")
    if raw_names is _UNSET or raw_names is None:
        derived = default_dns_name(service, region) if service else None
        if derived is None:
            raise r.fail(
                f"{path}.dns_names",
                f"a list of DNS names (none can be derived from service {service!r})"
                if service
                else "a list of DNS names",
                has_got=False,
            )
        dns_names: tuple[str, ...] = (derived,)
    else:
        items = r.list(raw_names, where("dns_names"), 32)
        if not items:
            raise r.fail(where("dns_names"), "at least one DNS name", raw_names)
        dns_names = tuple(dict.fromkeys(r.hostname(v, f"{where('dns_names')}[{i}]") for i, v in enumerate(items)))

    addresses: tuple[str, ...] = ()
    raw_addresses = value("addresses")
    if raw_addresses is not _UNSET and raw_addresses is not None:
        items = r.list(raw_addresses, where("addresses"))
        addresses = tuple(dict.fromkeys(str(r.address(v, f"{where('addresses')}[{i}]")) for i, v in enumerate(items)))

    azs: tuple[str, ...] = ()
    raw_azs = value("azs")
    if raw_azs is not _UNSET and raw_azs is not None:
        items = r.list(raw_azs, where("azs"), 32)
        azs = tuple(
            dict.fromkeys(
                r.string(
                    v,
                    f"{where('azs')}[{i}]",
                    re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+[a-z]$|^[a-z0-9]+-az\d+$"),
                    "an availability zone such as us-east-1a (or a zone id use1-az1)",
                )
                for i, v in enumerate(items)
            )
        )

    port = value("port")
    port = 443 if port is _UNSET else r.integer(port, where("port"), 1, 65535)
    timeout_ms = value("timeout_ms")
    timeout_ms = 2000 if timeout_ms is _UNSET else r.integer(timeout_ms, where("timeout_ms"), 1, 60_000)
    budget = value("latency_budget_ms")
    budget = 100.0 if budget is _UNSET else r.number(budget, where("latency_budget_ms"), 0, 600_000)

    tls = _parse_tls(r, value("tls"), where("tls"), kind, "tls" in m)
    http = _parse_http(r, value("http"), where("http"))
    # Like the endpoint's IpAddressType in the EC2 API: which record types the DNS phase asks for. An IPv4
    # endpoint is not asked for AAAA (half the DNS work of a run); expected IPv6 addresses imply dual-stack.
    ip_type = value("ip_address_type")
    if ip_type is _UNSET or ip_type is None:
        ip_type = "dualstack" if any(":" in a for a in addresses) else "ipv4"
    elif ip_type not in ("ipv4", "dualstack", "ipv6"):
        raise r.fail(where("ip_address_type"), "one of ipv4, dualstack, ipv6", ip_type)
    return Endpoint(
        name=name,
        type=kind,
        service=service,
        dns_names=dns_names,
        addresses=addresses,
        azs=azs,
        port=port,
        timeout_ms=timeout_ms,
        latency_budget_ms=budget,
        tls=tls,
        http=http,
        ip_address_type=ip_type,
    )


def _parse_tls(r: _Reader, raw: Any, path: str, kind: str, explicit: bool) -> TlsSettings | None:
    # A gateway endpoint's addresses are the service's public prefix list: only reachability is expected
    # unless the endpoint itself asks for TLS.
    if raw is _UNSET:
        return None if kind == "gateway" else TlsSettings()
    if kind == "gateway" and not explicit:
        return None
    if raw is None or raw is False:
        return None
    if raw is True:
        return TlsSettings()
    m = r.mapping(raw, path, _TLS_KEYS)
    verify = r.boolean(m["verify"], f"{path}.verify") if "verify" in m else True
    ca_bundle = None
    if m.get("ca_bundle") is not None:
        ca_bundle = r.string(m["ca_bundle"], f"{path}.ca_bundle", what="a path to a PEM file")
        if r.base_dir is not None:
            ca_bundle = str(r.base_dir / ca_bundle) if not os.path.isabs(ca_bundle) else ca_bundle
            if not os.access(ca_bundle, os.R_OK):
                raise r.fail(
                    f"{path}.ca_bundle",
                    "a readable PEM file (relative paths are relative to the topology file)",
                    m["ca_bundle"],
                )
    server_name = r.hostname(m["server_name"], f"{path}.server_name") if m.get("server_name") is not None else None
    return TlsSettings(verify=verify, ca_bundle=ca_bundle, server_name=server_name)


def _parse_http(r: _Reader, raw: Any, path: str) -> HttpSettings | None:
    if raw is _UNSET or raw is None or raw is False:
        return None
    if raw is True:
        return HttpSettings()
    m = r.mapping(raw, path, _HTTP_KEYS)
    http_path = "/"
    if "path" in m:
        http_path = r.string(m["path"], f"{path}.path", re.compile(r"^/[\x21-\x7e]*$"), "a URL path starting with /")
    method = "GET"
    if "method" in m:
        method = r.string(
            m["method"],
            f"{path}.method",
            re.compile(r"^(GET|HEAD|OPTIONS)$"),
            "GET, HEAD or OPTIONS (vpc-verify never changes anything)",
        )
    status: tuple[int, ...] = (200,)
    if "status" in m:
        raw_status = m["status"]
        if isinstance(raw_status, int) and not isinstance(raw_status, bool):
            raw_status = [raw_status]
        items = r.list(raw_status, f"{path}.status", 64)
        if not items:
            raise r.fail(f"{path}.status", "at least one HTTP status", raw_status)
        status = tuple(r.integer(v, f"{path}.status[{i}]", 100, 599) for i, v in enumerate(items))
    return HttpSettings(path=http_path, method=method, status=status)
