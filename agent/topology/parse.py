"""Text to a validated Topology: bounded YAML loading, then a strict walk with key paths.

Loading is bounded before any tree is built: the document is built straight from the parser's events
(libyaml's parser keeps its own stack and never recurses; PyYAML's composer recurses once per level and
overflows the C stack on `- - - - ...`), and it is refused, at the line where a bound is crossed, when it
nests deeper than `MAX_DEPTH` levels, holds more than `MAX_NODES` values or more than `MAX_ALIASES` aliases,
or repeats a key in a mapping (YAML would silently keep the last one). Any input up to `MAX_FILE_BYTES`
loads or is refused within about a second and 200 MB (tests/agent/test_topology_hostile.py measures it).

Validation then walks the document with a key path (`_Reader`), so an unknown key, a wrong type, a bad
CIDR, a duplicate name or an unreadable trust store is a `TopologyError` naming the source, the key path
(``endpoints[2].tls.ca_bundle``) and what was expected.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
from collections.abc import Iterable, Mapping
from typing import Any

from vpc_verify import service_names
from vpc_verify.checks import calls
from vpc_verify.checks.calls import Call, Param
from vpc_verify.ranges import NumberRange, OutOfRange
from vpc_verify.topology.errors import TopologyError, show
from vpc_verify.topology.model import (
    DEFAULT_ALLOW_EMPTY,
    DEFAULT_AUTHORIZE,
    DEFAULT_HTTP_METHOD,
    DEFAULT_HTTP_PATH,
    DEFAULT_HTTP_STATUS,
    DEFAULT_LATENCY_BUDGET_MS,
    DEFAULT_PORT,
    DEFAULT_QUERIES_PER_SECOND,
    DEFAULT_RESOLVER_PORT,
    DEFAULT_RESOLVER_TIMEOUT_MS,
    DEFAULT_TIMEOUT_MS,
    DEFAULT_TLS_VERIFY,
    DEFAULT_TYPE,
    ENDPOINT_TYPES,
    HTTP_METHODS,
    HTTP_STATUS_RANGE,
    IP_ADDRESS_TYPES,
    LATENCY_BUDGET_MS_RANGE,
    PORT_RANGE,
    QUERIES_PER_SECOND_RANGE,
    TIMEOUT_MS_RANGE,
    Authorize,
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
)
from vpc_verify.topology.yaml_module import yaml_module

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32  # a topology needs 5 (top, endpoints, an endpoint, http, status)
MAX_NODES = 300_000  # scalars, lists and mappings: MAX_ENDPOINTS endpoints of 30 values each fit
MAX_ALIASES = 200
MAX_ENDPOINTS = 10_000
MAX_LIST = 256
MAX_STRING = 1024
MAX_CA_BUNDLE_BYTES = 4 * 1024 * 1024

_LABEL = r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")  # one match per name: a 10,000-endpoint file has many
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/+=@-]{0,127}$")
_AZ = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+[a-z]$|^[a-z0-9]+-az\d+$")
_HTTP_PATH = re.compile(r"^/[\x21-\x7e]*$")
_HTTP_METHOD = re.compile(rf"^({'|'.join(HTTP_METHODS)})$")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.:/@-]{1,40}$")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TEXT_TAGS = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"})


# --------------------------------------------------------------------------------------------------- loading


def loads(text: str, *, source: str = "<string>", base_dir: str | os.PathLike[str] | None = None) -> Topology:
    """Validate a topology given as YAML/JSON text (relative ca_bundle paths resolve against `base_dir`)."""
    if len(text) > MAX_FILE_BYTES:
        raise TopologyError(source, "", f"at most {MAX_FILE_BYTES} characters", f"{len(text)} characters")
    return parse(load_yaml(text, source), source=source, base_dir=base_dir)


def load_yaml(text: str, source: str) -> object:
    """The YAML document in `text` as plain Python data, within the bounds above; TopologyError otherwise."""
    yaml = yaml_module()

    loader = (getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader)(text)
    try:
        return _Composer(loader, source).document()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise TopologyError(source, "", "valid YAML", found=f"{exc.problem}{where}"[:200]) from None
    except yaml.reader.ReaderError as exc:  # a control character, a byte order mark mid-text
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        found = f"{exc.reason} (#x{char:04x}) at line {line}, column {column}"
        raise TopologyError(source, "", "valid YAML", found=found) from None
    except yaml.YAMLError as exc:
        raise TopologyError(source, "", "valid YAML", found=str(exc)[:200]) from None
    finally:
        loader.dispose()


class _Frame:
    """A list or mapping being built: its key path, and for a mapping the pending key, key lines and merges."""

    __slots__ = ("anchor", "key", "lines", "merges", "path", "value")

    def __init__(self, value: list[Any] | dict[Any, Any], path: str, anchor: str | None) -> None:
        self.value = value
        self.path = path
        self.anchor = anchor
        self.key: Any = _NO_KEY
        self.lines: dict[Any, int] = {}
        self.merges: list[Any] = []


_NO_KEY: Any = object()
_MERGE_KEY: Any = object()


class _Composer:
    """Builds plain Python data straight from the parser's events, in one pass and without recursion.

    libyaml's parser keeps its own stack, so no input overflows the C stack here (PyYAML's composer recurses
    once per level). Every bound is checked as the events arrive, so a refused document costs only the events
    read up to the bound. Anchors are registered when their node is complete: an alias inside its own anchor
    (a recursive structure) is refused, like an alias to an unknown anchor. Duplicate keys are refused with
    both lines; `<<` merge keys are honoured (explicit keys win, then the first merged mapping).
    """

    def __init__(self, loader: Any, source: str) -> None:
        self.loader = loader
        self.source = source
        self.yaml = yaml_module()
        self.anchors: dict[str, Any] = {}
        self.stack: list[_Frame] = []
        self.nodes = 0
        self.aliases = 0
        self.plain: dict[str, Any] = {}  # plain scalar text -> its value (names and types repeat a lot)
        self.implicit_first = frozenset(loader.yaml_implicit_resolvers)
        self.root: Any = _NO_KEY

    def document(self) -> object:
        yaml = self.yaml
        loader = self.loader
        documents = 0
        while loader.check_event():
            event = loader.get_event()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                self._count(event)
                self._add(self._scalar(event), event)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self._open(event, kind is yaml.MappingStartEvent)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                self._close(event)
            elif kind is yaml.AliasEvent:
                self._alias(event)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise self._error(event, "a single YAML document", "a second document")
        return None if self.root is _NO_KEY else self.root

    def _error(self, event: Any, expected: str, what: str, path: str = "") -> TopologyError:
        mark = event.start_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        return TopologyError(self.source, path, expected, found=f"{what[:80]} at {where}")

    def _count(self, event: Any) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self._error(event, f"YAML of at most {MAX_NODES} values, lists and mappings", "more values")

    def _child_path(self) -> str:
        if not self.stack:
            return ""
        frame = self.stack[-1]
        if isinstance(frame.value, list):
            return f"{frame.path}[{len(frame.value)}]"
        if frame.key is _NO_KEY or frame.key is _MERGE_KEY:
            return frame.path
        return _join(frame.path, str(frame.key))

    def _open(self, event: Any, is_mapping: bool) -> None:
        self._count(event)
        if len(self.stack) >= MAX_DEPTH:
            raise self._error(event, f"YAML nested at most {MAX_DEPTH} levels deep", "deeper nesting")
        plain = "tag:yaml.org,2002:map" if is_mapping else "tag:yaml.org,2002:seq"
        if event.tag not in (None, "!", plain):
            tag = event.tag.replace("tag:yaml.org,2002:", "!!")
            raise self._error(event, "plain YAML mappings and lists (no tags)", f"the tag {tag}", self._child_path())
        value: list[Any] | dict[Any, Any] = {} if is_mapping else []
        self.stack.append(_Frame(value, self._child_path(), event.anchor))

    def _close(self, event: Any) -> None:
        frame = self.stack.pop()
        if isinstance(frame.value, dict):
            for merged in frame.merges:  # explicit keys win, then the first mapping merged
                for key, item in merged.items():
                    frame.value.setdefault(key, item)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = frame.value
        self._add(frame.value, event)

    def _alias(self, event: Any) -> None:
        self._count(event)
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise self._error(event, f"valid YAML with at most {MAX_ALIASES} aliases", "more aliases")
        if event.anchor not in self.anchors:
            expected = "an alias to an anchor defined before it, outside it"
            raise self._error(event, expected, f"*{event.anchor}", self._child_path())
        self._add(self.anchors[event.anchor], event)

    def _scalar(self, event: Any) -> Any:
        text = event.value
        if event.tag is not None and event.tag != "!":
            value = self._construct_scalar(event, event.tag)
        elif not event.implicit[0] or event.style or event.tag == "!":
            value = text  # quoted, a block scalar, or `! text`: a string
        elif text in self.plain:
            value = self.plain[text]
        elif text and text[0] not in self.implicit_first:
            value = text  # no implicit type (bool, int, float, null, timestamp) starts with this character
        elif text.isdigit() and len(text) < 16 and (text[0] != "0" or text == "0"):
            value = int(text)  # a plain decimal (YAML 1.1 reads a leading 0 as octal: that takes the long way)
        elif text.count(".") > 1:
            value = text  # an address, a CIDR, a name: no implicit type (a float, a timestamp) has two dots
        else:
            tag = self.loader.resolve(self.yaml.ScalarNode, text, event.implicit)
            # A topology holds no dates: a date-like plain scalar stays text (the costliest conversion saved).
            value = text if tag in _TEXT_TAGS else self._construct_scalar(event, tag)
            if value is not _MERGE_KEY:
                self.plain[text] = value
        if event.anchor is not None:
            self.anchors[event.anchor] = value
        return value

    def _construct_scalar(self, event: Any, tag: str) -> Any:
        yaml = self.yaml
        if tag == _MERGE_TAG:
            return _MERGE_KEY
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        constructors = self.loader.yaml_constructors
        construct = constructors.get(tag) or constructors[None]  # None: SafeConstructor refuses unknown tags
        try:
            return construct(self.loader, node)
        except ValueError as exc:  # a 5,000-digit integer, a date that does not exist
            what = (
                "an integer with too many digits" if "digits" in str(exc) else f"an impossible {tag.rsplit(':', 1)[-1]}"
            )
            raise self._error(event, "valid YAML", what, self._child_path()) from None

    def _add(self, value: Any, event: Any) -> None:
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        if isinstance(frame.value, list):
            frame.value.append(value)
            return
        if frame.key is _NO_KEY:
            self._key(frame, value, event)
            return
        if frame.key is _MERGE_KEY:
            merged = value if isinstance(value, list) else [value]
            if not all(isinstance(m, dict) for m in merged):
                raise self._error(event, "a mapping or a list of mappings to merge with <<", show(value), frame.path)
            frame.merges.extend(merged)
        else:
            frame.value[frame.key] = value
        frame.key = _NO_KEY

    def _key(self, frame: _Frame, key: Any, event: Any) -> None:
        if key is _MERGE_KEY:
            frame.key = key
            return
        try:
            hash(key)
        except TypeError:
            raise self._error(
                event, "plain keys (a string, not a list or mapping)", f"a key that is {show(key)}", frame.path
            ) from None
        line = event.start_mark.line + 1
        if key in frame.lines:
            lines = f"it is at line {frame.lines[key]} and again at line {line}"
            where = _join(frame.path, str(key))
            raise TopologyError(self.source, where, f"each key once in a mapping ({lines})", has_got=False)
        frame.lines[key] = line
        frame.key = key


# ------------------------------------------------------------------------------------------------ validation


class _Reader:
    """Walks parsed YAML with a key path, so every error names where it is."""

    def __init__(self, source: str, base_dir: str | os.PathLike[str] | None = None) -> None:
        self.source = source
        self.base_dir = base_dir
        self._trust_stores: dict[str, str] = {}  # path -> "" when loadable, else what is wrong

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
                import difflib  # only for a key the file got wrong: not on the way to the first packet

                close = difflib.get_close_matches(key[:64], allowed, n=1)
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
        if not isinstance(value, str) or not value or len(value) > MAX_STRING:
            raise self.fail(path, what, value)
        if not value.isprintable() or (pattern is not None and not pattern.fullmatch(value)):
            raise self.fail(path, f"{what} (printable, on one line)" if pattern is None else what, value)
        return value

    def integer(self, value: object, path: str, allowed: NumberRange) -> int:
        try:
            return allowed.check_int(value)
        except OutOfRange as exc:
            raise self.fail(path, exc.expected, value) from None

    def number(self, value: object, path: str, allowed: NumberRange) -> float:
        try:
            return float(allowed.check(value))
        except OutOfRange as exc:
            raise self.fail(path, exc.expected, value) from None

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
        if not isinstance(value, str) or not value or len(value) > MAX_STRING:
            raise self.fail(path, what, value)
        if value.startswith("*."):
            # A wildcard is what a private zone holds, not a name anyone asks: the record answers any label.
            under = service_names.probe_name(value.rstrip("."))
            raise self.fail(
                path, f"a name that can be asked, not a wildcard: list one under it, such as {under}", value
            )
        name = value.rstrip(".")
        if not name.isascii():
            try:
                name = name.encode("idna").decode("ascii")
            except UnicodeError:
                raise self.fail(path, what + " or a valid internationalised name", value) from None
        if len(name) > 253 or not _HOSTNAME.fullmatch(name):
            raise self.fail(path, what, value)
        return name.lower()

    def trust_store(self, value: object, path: str) -> str:
        """A CA bundle path that OpenSSL can load now, so a bad one is a configuration error before any packet.

        A relative path resolves against `base_dir` (the topology file's folder); without one it is checked
        only when absolute (it will resolve against the working directory of the probe)."""
        what = "a path to a PEM file of CA certificates"
        text = self.string(value, path, what=what)
        if self.base_dir is not None and not os.path.isabs(text):
            from pathlib import Path  # only for a relative path: pathlib is not on the way to the first packet

            text = str(Path(self.base_dir) / text)
        elif not os.path.isabs(text):
            return text
        if text not in self._trust_stores:
            self._trust_stores[text] = _trust_store_problem(text)
        problem = self._trust_stores[text]
        if problem:
            relative = " (relative paths are relative to the topology file)" if self.base_dir else ""
            shown = repr(text if len(text) <= 80 else "..." + text[-77:])
            raise self.fail(path, f"{what}{relative}, but {shown} is {problem}", has_got=False)
        return text


def _trust_store_problem(path: str) -> str:
    """What is wrong with a CA bundle file ("" when OpenSSL loads at least one certificate from it)."""
    import stat

    try:
        info = os.stat(path)
    except OSError as exc:
        return f"not readable ({exc.strerror or exc})"
    if stat.S_ISDIR(info.st_mode):
        return "a directory"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size == 0:
        return "empty"
    if info.st_size > MAX_CA_BUNDLE_BYTES:
        return f"larger than {MAX_CA_BUNDLE_BYTES} bytes"
    if not os.access(path, os.R_OK):
        return "not readable"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        ctx.load_verify_locations(cafile=path)
    except ssl.SSLError as exc:
        if exc.reason == "NO_CERTIFICATE_OR_CRL_FOUND":
            return "without a PEM certificate"
        return "a PEM file with a damaged certificate (OpenSSL cannot decode it)"
    except (OSError, ValueError) as exc:
        return getattr(exc, "strerror", None) or str(exc)
    if not ctx.cert_store_stats().get("x509"):
        return "without a PEM certificate"
    return ""


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    label = key if _PLAIN_KEY.fullmatch(key) else repr(key if len(key) <= 40 else key[:37] + "...")
    return f"{path}.{label}" if path else label


_TOP_KEYS = ("version", "region", "vpc", "hub", "resolver", "defaults", "endpoints", "allow_empty")
_HUB_KEYS = ("cidrs", "vpc_id", "role_arn")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
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
    "authorize",
    "hub",
)
_DEFAULT_KEYS = tuple(k for k in _ENDPOINT_KEYS if k != "name")
_TLS_KEYS = ("verify", "ca_bundle", "server_name")
_HTTP_KEYS = ("path", "method", "status")
_AUTHORIZE_KEYS = ("call", "params", "action")
_IAM_ACTION = re.compile(r"^[a-z0-9-]{1,63}:[A-Za-z0-9*]{1,128}$")
_PARAM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")
MAX_PARAMS = 16
_UNSET: Any = object()


def parse(document: object, *, source: str = "<memory>", base_dir: str | os.PathLike[str] | None = None) -> Topology:
    """Validate an already-parsed document (e.g. from a Lambda event) into a Topology.

    With `base_dir`, a relative `tls.ca_bundle` resolves against it; every ca_bundle that can be located must
    be a loadable PEM file. A topology without endpoints is refused unless it says `allow_empty: true`: a
    check of nothing must not pass as healthy.
    """
    r = _Reader(source, base_dir)
    if document is None:
        raise r.fail("", "a topology mapping with version, endpoints", "an empty document")
    top = r.mapping(document, "", _TOP_KEYS)
    if "version" not in top:
        raise r.fail("version", "version: 1", has_got=False)
    if top["version"] != 1 or isinstance(top["version"], bool):
        raise r.fail("version", "1 (the only version this vpc-verify reads)", top["version"])
    allow_empty = r.boolean(top["allow_empty"], "allow_empty") if "allow_empty" in top else DEFAULT_ALLOW_EMPTY
    region = _parse_region(r, top.get("region"))
    vpc = _parse_vpc(r, top.get("vpc"))
    resolver = _parse_resolver(r, top.get("resolver"))
    hub = _parse_hub(r, top["hub"], "hub") if top.get("hub") is not None else None
    defaults = r.mapping(top["defaults"], "defaults", _DEFAULT_KEYS) if top.get("defaults") is not None else {}

    if "endpoints" not in top:
        raise r.fail("endpoints", "a list of endpoints", has_got=False)
    raw_endpoints = r.list(top["endpoints"], "endpoints", MAX_ENDPOINTS)
    if not raw_endpoints and not allow_empty:
        raise r.fail(
            "endpoints",
            "at least one endpoint to check (write `allow_empty: true` at the top level to accept none)",
            has_got=False,
        )
    endpoints: list[Endpoint] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_endpoints):
        path = f"endpoints[{index}]"
        endpoint = _EndpointFields(r, raw, path, defaults, region, hub).endpoint()
        if endpoint.name in seen:
            raise r.fail(f"{path}.name", f"a unique name (endpoints[{seen[endpoint.name]}] has it too)", endpoint.name)
        seen[endpoint.name] = index
        endpoints.append(endpoint)
    return Topology(
        version=1,
        region=region,
        vpc=vpc,
        resolver=resolver,
        endpoints=tuple(endpoints),
        source=source,
        allow_empty=allow_empty,
        hub=hub,
    )


def _parse_region(r: _Reader, raw: object) -> str | None:
    if raw is not None:
        return r.string(raw, "region", _REGION, "an AWS region such as us-east-1")
    env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return env_region if env_region and _REGION.match(env_region) else None


def _parse_vpc(r: _Reader, raw: object) -> Vpc:
    if raw is None:
        return Vpc()
    m = r.mapping(raw, "vpc", ("id", "cidrs"))
    vpc_id = (
        r.string(m["id"], "vpc.id", _VPC_ID, "a VPC id such as vpc-0123456789abcdef0")
        if m.get("id") is not None
        else None
    )
    return Vpc(id=vpc_id, cidrs=_parse_cidrs(r, m.get("cidrs"), "vpc.cidrs"))


def _parse_cidrs(r: _Reader, raw: object, where: str) -> tuple[IPNetwork, ...]:
    cidrs: list[IPNetwork] = []
    for i, value in enumerate(r.list(raw or [], where, 64)):
        path = f"{where}[{i}]"
        if not isinstance(value, str):
            raise r.fail(path, "a CIDR such as 10.0.0.0/16", value)
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            raise r.fail(path, f"a CIDR such as 10.0.0.0/16 ({exc})", value) from None
        for j, other in enumerate(cidrs):
            if network.version == other.version and network.overlaps(other):
                raise r.fail(path, f"a CIDR that does not overlap {where}[{j}] ({other})", value)
        cidrs.append(network)
    return tuple(cidrs)


def _parse_hub(r: _Reader, raw: object, where: str) -> Hub:
    m = r.mapping(raw, where, _HUB_KEYS)
    if not m.get("cidrs"):
        raise r.fail(
            f"{where}.cidrs", "the hub VPC's CIDRs, such as [10.1.0.0/16] (its answers are right)", has_got=False
        )
    vpc_id = None
    if m.get("vpc_id") is not None:
        vpc_id = r.string(m["vpc_id"], f"{where}.vpc_id", _VPC_ID, "a VPC id such as vpc-0123456789abcdef0")
    role = None
    if m.get("role_arn") is not None:
        if vpc_id is None:
            raise r.fail(f"{where}.vpc_id", "the hub VPC's id, for role_arn to read it with", has_got=False)
        role = r.string(
            m["role_arn"],
            f"{where}.role_arn",
            _ROLE_ARN,
            "an IAM role ARN such as arn:aws:iam::123456789012:role/hub-read",
        )
    return Hub(cidrs=_parse_cidrs(r, m["cidrs"], f"{where}.cidrs"), vpc_id=vpc_id, role_arn=role)


def _parse_resolver(r: _Reader, raw: object) -> Resolver:
    if raw is None:
        return Resolver()
    m = r.mapping(raw, "resolver", ("nameservers", "port", "timeout_ms", "queries_per_second"))
    servers = tuple(
        str(r.address(v, f"resolver.nameservers[{i}]"))
        for i, v in enumerate(r.list(m.get("nameservers") or [], "resolver.nameservers", 8))
    )
    port = r.integer(m["port"], "resolver.port", PORT_RANGE) if "port" in m else DEFAULT_RESOLVER_PORT
    timeout = (
        r.integer(m["timeout_ms"], "resolver.timeout_ms", TIMEOUT_MS_RANGE)
        if "timeout_ms" in m
        else DEFAULT_RESOLVER_TIMEOUT_MS
    )
    qps = (
        r.integer(m["queries_per_second"], "resolver.queries_per_second", QUERIES_PER_SECOND_RANGE)
        if "queries_per_second" in m
        else DEFAULT_QUERIES_PER_SECOND
    )
    return Resolver(nameservers=servers, port=port, timeout_ms=timeout, queries_per_second=qps)


class _EndpointFields:
    """One endpoint's raw mapping merged with `defaults`, read field by field with the right key path."""

    def __init__(
        self, r: _Reader, raw: object, path: str, defaults: Mapping[str, Any], region: str | None, hub: Hub | None
    ) -> None:
        self.r = r
        self.m = r.mapping(raw, path, _ENDPOINT_KEYS)
        self.path = path
        self.defaults = defaults
        self.region = region
        self.file_hub = hub

    def value(self, key: str) -> Any:
        """The endpoint's value for `key`, else the default's, else _UNSET; tls/http mappings merge key by key."""
        if key in self.m:
            value = self.m[key]
            default = self.defaults.get(key)
            if key in ("tls", "http") and isinstance(value, Mapping) and isinstance(default, Mapping):
                return {**default, **value}
            return value
        return self.defaults.get(key, _UNSET)

    def where(self, key: str) -> str:
        """The key path a value came from: the endpoint's own key, else `defaults`."""
        return f"{self.path}.{key}" if key in self.m or key not in self.defaults else f"defaults.{key}"

    def endpoint(self) -> Endpoint:
        kind = self.kind()
        service = self.service(kind)
        if kind == "gatewayloadbalancer":
            return self.route_target(kind, service)
        addresses = self.addresses()
        known = service_names.lookup(service, self.region)
        return Endpoint(
            name=self.name(),
            type=kind,
            service=service,
            dns_names=self.dns_names(service, known),
            addresses=addresses,
            azs=self.azs(),
            port=self.integer("port", (known.port if known else None) or DEFAULT_PORT, PORT_RANGE),
            timeout_ms=self.integer("timeout_ms", DEFAULT_TIMEOUT_MS, TIMEOUT_MS_RANGE),
            latency_budget_ms=self.number("latency_budget_ms", DEFAULT_LATENCY_BUDGET_MS, LATENCY_BUDGET_MS_RANGE),
            tls=_parse_tls(self.r, self.value("tls"), self.where("tls"), kind, "tls" in self.m),
            http=_parse_http(self.r, self.value("http"), self.where("http")),
            ip_address_type=self.ip_address_type(addresses),
            authorize=self.authorize(service),
            hub=self.hub(kind),
        )

    def route_target(self, kind: EndpointType, service: str | None) -> Endpoint:
        """A Gateway Load Balancer endpoint: a route target, checked through the routes that use it; it has no
        names, addresses or TLS to probe, so the endpoint's own keys for them are refused."""
        for key in ("dns_names", "addresses", "tls", "http", "authorize", "hub"):
            if key in self.m:
                raise self.r.fail(
                    f"{self.path}.{key}",
                    "no such key on a gatewayloadbalancer endpoint (a route target: vpc-verify checks the routes "
                    "through it, not a name or a handshake)",
                    has_got=False,
                )
        return Endpoint(name=self.name(), type=kind, service=service, dns_names=(), tls=None)

    def hub(self, kind: EndpointType) -> Hub | None:
        """The hub the endpoint lives in: its own `hub` mapping, the file's (`hub: true`, or by default for
        interface and service endpoints), or none (`hub: false`)."""
        raw = self.value("hub")
        where = self.where("hub")
        if raw is _UNSET or raw is None:
            return self.file_hub if kind in ("interface", "service") else None
        if raw is False:
            return None
        if kind == "gateway":
            raise self.r.fail(
                where, "no hub on a gateway endpoint (it is the route table's of the VPC that uses it)", raw
            )
        if raw is True:
            if self.file_hub is None:
                raise self.r.fail(where, "a top-level `hub: {cidrs, vpc_id}` for `hub: true` to use", has_got=False)
            return self.file_hub
        if isinstance(raw, bool):
            raise self.r.fail(where, "true, false or a hub {cidrs, vpc_id, role_arn}", raw)
        return _parse_hub(self.r, raw, where)

    def name(self) -> str:
        if "name" not in self.m:
            raise self.r.fail(
                f"{self.path}.name", "a name for the endpoint (it becomes the metric dimension)", has_got=False
            )
        what = "a name of 1-128 letters, digits and _.:/+=@- (it becomes a metric dimension)"
        return self.r.string(self.m["name"], f"{self.path}.name", _NAME, what)

    def kind(self) -> EndpointType:
        kind = self.value("type")
        if kind is _UNSET:
            return DEFAULT_TYPE
        for known in ENDPOINT_TYPES:
            if kind == known:
                return known
        raise self.r.fail(self.where("type"), f"one of {', '.join(ENDPOINT_TYPES)}", kind)

    def service(self, kind: EndpointType) -> str | None:
        service = self.value("service")
        if service is not _UNSET and service is not None:
            what = "a service name such as com.amazonaws.us-east-1.sqs"
            return self.r.string(service, self.where("service"), what=what)
        if kind == "service":
            return None
        raise self.r.fail(
            f"{self.path}.service",
            f"the AWS service name of a {kind} endpoint, such as com.amazonaws.{self.region or 'us-east-1'}.sqs",
            has_got=False,
        )

    def dns_names(self, service: str | None, known: service_names.ServiceNames | None) -> tuple[str, ...]:
        raw = self.value("dns_names")
        if raw is _UNSET or raw is None:
            derived = known.default_name() if known is not None else None
            if derived is None:
                raise self.r.fail(f"{self.path}.dns_names", _why_no_default(service, known), has_got=False)
            return (derived,)
        where = self.where("dns_names")
        items = self.r.list(raw, where, 32)
        if not items:
            raise self.r.fail(where, "at least one DNS name", raw)
        return tuple(dict.fromkeys(self.r.hostname(v, f"{where}[{i}]") for i, v in enumerate(items)))

    def addresses(self) -> tuple[str, ...]:
        raw = self.value("addresses")
        if raw is _UNSET or raw is None:
            return ()
        where = self.where("addresses")
        items = self.r.list(raw, where)
        return tuple(dict.fromkeys(str(self.r.address(v, f"{where}[{i}]")) for i, v in enumerate(items)))

    def azs(self) -> tuple[str, ...]:
        raw = self.value("azs")
        if raw is _UNSET or raw is None:
            return ()
        where = self.where("azs")
        what = "an availability zone such as us-east-1a (or a zone id use1-az1)"
        items = self.r.list(raw, where, 32)
        return tuple(dict.fromkeys(self.r.string(v, f"{where}[{i}]", _AZ, what) for i, v in enumerate(items)))

    def integer(self, key: str, default: int, allowed: NumberRange) -> int:
        raw = self.value(key)
        return default if raw is _UNSET else self.r.integer(raw, self.where(key), allowed)

    def number(self, key: str, default: float, allowed: NumberRange) -> float:
        raw = self.value(key)
        return default if raw is _UNSET else self.r.number(raw, self.where(key), allowed)

    def ip_address_type(self, addresses: tuple[str, ...]) -> IpAddressType:
        # Like the endpoint's IpAddressType in the EC2 API: which record types the DNS phase asks for. An IPv4
        # endpoint is not asked for AAAA (half the DNS work of a run); expected IPv6 addresses imply dual-stack.
        raw = self.value("ip_address_type")
        if raw is _UNSET or raw is None:
            return "dualstack" if any(":" in a for a in addresses) else "ipv4"
        for known in IP_ADDRESS_TYPES:
            if raw == known:
                return known
        raise self.r.fail(self.where("ip_address_type"), f"one of {', '.join(IP_ADDRESS_TYPES)}", raw)

    def authorize(self, service: str | None) -> Authorize | None:
        """The signed call: the topology's (`authorize.call`), else the table's for the service; None when there is
        none. An endpoint that asks for it by its own key must have one; `defaults` applies where there is."""
        raw = self.value("authorize")
        where = self.where("authorize")
        own = "authorize" in self.m
        if raw is _UNSET or raw is None:
            enabled, explicit, call = DEFAULT_AUTHORIZE, False, None
        elif isinstance(raw, bool):
            enabled, explicit, call = raw, True, None
        else:
            enabled, explicit, call = True, True, _parse_call(self.r, raw, where)
        call = call or calls.for_service(service)
        region = calls.region_of(service) or self.region
        if call is None or region is None:
            if enabled and own:
                if call is None:
                    known = f"; the table knows {', '.join(sorted(calls.CALLS))}" if calls.short_name(service) else ""
                    why = f"a call to make: none is known for {service or 'this endpoint'} (set authorize.call{known})"
                else:
                    why = "a region to sign for (the top-level region, or a com.amazonaws.<region>.* service)"
                raise self.r.fail(where, why, has_got=False)
            return None
        return Authorize(call=call, region=region, enabled=enabled, explicit=explicit)


def _why_no_default(service: str | None, known: service_names.ServiceNames | None) -> str:
    """What a topology endpoint without dns_names must give instead, and why none is derived."""
    if service is None:
        return "a list of DNS names"
    if known is None:
        return f"a list of DNS names (none can be derived from service {service!r})"
    if not known.known:
        version = service_names.catalogue().version
        return (
            f"a list of DNS names: {service} is not in vpc-verify's catalogue of service names ({version}), and a "
            "guess would check a name nobody uses; list the service's private DNS name (DescribeVpcEndpointServices "
            "PrivateDnsName), or let `vpc-verify discover` write it"
        )
    return f"a list of DNS names: {known.note or f'{service} has no default name'}"


def _parse_call(r: _Reader, raw: object, path: str) -> Call:
    m = r.mapping(raw, path, _AUTHORIZE_KEYS)
    if "call" not in m:
        raise r.fail(f"{path}.call", "the call to make, such as sqs:ListQueues", has_got=False)
    text = r.string(m["call"], f"{path}.call", what="a call such as sqs:ListQueues")
    params: list[Param] = []
    if m.get("params") is not None:
        if not isinstance(m["params"], Mapping):
            raise r.fail(f"{path}.params", "a mapping of parameter names to values", m["params"])
        raw_params = r.mapping(m["params"], f"{path}.params", [k for k in m["params"] if isinstance(k, str)])
        if len(raw_params) > MAX_PARAMS:
            raise r.fail(f"{path}.params", f"at most {MAX_PARAMS} parameters", raw_params)
        for name, value in raw_params.items():
            where = f"{path}.params.{name}"
            if not _PARAM_NAME.match(name):
                raise r.fail(where, "a parameter name as the API writes it (MaxResults)", name)
            if not isinstance(value, str | int | bool) or isinstance(value, float):
                raise r.fail(where, "a string, an integer or true/false", value)
            params.append((name, value))
    action = ""
    if m.get("action") is not None:
        action = r.string(m["action"], f"{path}.action", _IAM_ACTION, "an IAM action such as sqs:ListQueues")
    try:
        return Call.parse(text, tuple(params), action)
    except ValueError as exc:
        raise r.fail(f"{path}.call", str(exc), text) from None


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
    verify = r.boolean(m["verify"], f"{path}.verify") if "verify" in m else DEFAULT_TLS_VERIFY
    ca_bundle = r.trust_store(m["ca_bundle"], f"{path}.ca_bundle") if m.get("ca_bundle") is not None else None
    server_name = r.hostname(m["server_name"], f"{path}.server_name") if m.get("server_name") is not None else None
    return TlsSettings(verify=verify, ca_bundle=ca_bundle, server_name=server_name)


def _parse_http(r: _Reader, raw: Any, path: str) -> HttpSettings | None:
    if raw is _UNSET or raw is None or raw is False:
        return None
    if raw is True:
        return HttpSettings()
    m = r.mapping(raw, path, _HTTP_KEYS)
    http_path = DEFAULT_HTTP_PATH
    if "path" in m:
        http_path = r.string(m["path"], f"{path}.path", _HTTP_PATH, "a URL path starting with /")
    method = DEFAULT_HTTP_METHOD
    if "method" in m:
        what = f"{', '.join(HTTP_METHODS[:-1])} or {HTTP_METHODS[-1]} (vpc-verify never changes anything)"
        method = r.string(m["method"], f"{path}.method", _HTTP_METHOD, what)
    status = DEFAULT_HTTP_STATUS
    if "status" in m:
        raw_status = m["status"]
        if isinstance(raw_status, int) and not isinstance(raw_status, bool):
            raw_status = [raw_status]
        items = r.list(raw_status, f"{path}.status", 64)
        if not items:
            raise r.fail(f"{path}.status", "at least one HTTP status", raw_status)
        status = tuple(r.integer(v, f"{path}.status[{i}]", HTTP_STATUS_RANGE) for i, v in enumerate(items))
    return HttpSettings(path=http_path, method=method, status=status)
