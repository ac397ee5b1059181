"""The fleet policy (docs/guides/fleet.md): what every VPC of a class must have, in one YAML file.

```yaml
version: 1
exemption_tag: vpc-verify:exempt   # a VPC tagged vpc-verify:exempt=kms,ecr.dkr need not have those
resolver: {timeout_ms: 1000}       # as in the topology file
defaults: {timeout_ms: 2000}       # endpoint settings, as the topology's `defaults`
classes:                           # the first class whose `match` fits the VPC's tags applies
  - name: workload
    match: {environment: prod}     # every tag must be there with this value ("*": any value)
    interface: [sts, logs, monitoring, ecr.api, ecr.dkr]
    gateway: [s3]
    private_dns: true              # interface endpoints must have private DNS on (default)
    azs: {min: 2, agent: true}     # at least 2 AZs (by AZ id), and the agent's AZ
  - name: default                  # no match: every other VPC
    interface: [sts]
```

Loaded like the topology: the bounded YAML loader of vpc_verify.topology.parse, then a walk with key paths, so
every error is one TopologyError line naming the source, the key path and the expectation (exit 2). `resolver`
and `defaults` are checked by the topology's own parser (their key paths are the same in both files).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpc_verify.locations import S3_PREFIX, SSM_PREFIX
from vpc_verify.topology import TopologyError
from vpc_verify.topology.parse import MAX_FILE_BYTES, _Reader, load_yaml, parse
from vpc_verify.topology.sources import read_file

DEFAULT_EXEMPTION_TAG = "vpc-verify:exempt"
MAX_CLASSES = 64
MAX_SERVICES = 256
MAX_MATCH_TAGS = 16
MAX_AZS = 16
ANY_VALUE = "*"

_SHORT_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,99}$")
_FULL_SERVICE = re.compile(r"^com\.amazonaws\.[a-z0-9.-]{3,200}$")
_CLASS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_TAG_KEY = re.compile(r"^[\w .:/=+@-]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+@*-]{0,256}$")
_TOP_KEYS = ("version", "exemption_tag", "resolver", "defaults", "classes")
_CLASS_KEYS = ("name", "match", "interface", "gateway", "private_dns", "azs")
_AZ_KEYS = ("min", "agent")
# What a policy's `defaults` may set: every derived endpoint has its own name, type, service, DNS names and AZs.
DEFAULT_KEYS = ("port", "timeout_ms", "latency_budget_ms", "tls", "http", "ip_address_type")
_PROBE_ENDPOINT = {
    "name": "policy-defaults",
    "type": "interface",
    "service": "com.amazonaws.us-east-1.sts",
    "dns_names": ["sts.us-east-1.amazonaws.com"],
}
SERVICE_WHAT = "a service such as sqs, ecr.api or com.amazonaws.us-east-1.sqs"


@dataclass(frozen=True, slots=True)
class AzRule:
    """The AZs every required interface endpoint must cover: at least `min` AZ ids, and the agent's own."""

    min: int = 0
    agent: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"min": self.min, "agent": self.agent}


@dataclass(frozen=True, slots=True)
class VpcClass:
    """What every VPC whose tags match must have."""

    name: str
    match: Mapping[str, str] = field(default_factory=dict)  # tag key -> value ("*": any value); empty: every VPC
    interface: tuple[str, ...] = ()
    gateway: tuple[str, ...] = ()
    private_dns: bool = True
    azs: AzRule = field(default_factory=AzRule)

    def matches(self, tags: Mapping[str, str]) -> bool:
        """Every tag of `match` is on the VPC with its value (or any value for "*")."""
        return all(k in tags and (v == ANY_VALUE or tags[k] == v) for k, v in self.match.items())

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the report's `policy.class`)."""
        return {
            "name": self.name,
            "match": dict(self.match),
            "interface": list(self.interface),
            "gateway": list(self.gateway),
            "private_dns": self.private_dns,
            "azs": self.azs.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated fleet policy. No class at all means: check every endpoint AWS reports (zero configuration)."""

    classes: tuple[VpcClass, ...] = ()
    exemption_tag: str = DEFAULT_EXEMPTION_TAG
    resolver: Mapping[str, Any] | None = None  # the topology's `resolver`, checked by its parser
    defaults: Mapping[str, Any] | None = None  # the topology's `defaults`, checked by its parser
    source: str = "<memory>"
    version: int = 1

    def classify(self, tags: Mapping[str, str]) -> VpcClass | None:
        """The first class whose `match` fits the VPC's tags; None when none does."""
        return next((c for c in self.classes if c.matches(tags)), None)


EVERY_ENDPOINT = Policy(source="<every endpoint AWS reports>")  # the zero-configuration check


def load(location: str, *, region: str | None = None) -> Policy:
    """Fetch and validate the policy at `location`: a file, `ssm:NAME` (or `ssm:` and a shared parameter's ARN) or
    `s3://bucket/key`."""
    if location.startswith((SSM_PREFIX, S3_PREFIX)):
        from vpc_verify.aws import objects

        if location.startswith(SSM_PREFIX):
            return loads(objects.read_ssm(location[len(SSM_PREFIX) :], region), source=location)
        return loads(objects.read_s3(location, region), source=location)
    return loads(read_file(location), source=location, base_dir=Path(location).resolve().parent)


def loads(text: str, *, source: str = "<string>", base_dir: Path | None = None) -> Policy:
    """Validate a policy given as YAML/JSON text."""
    if len(text) > MAX_FILE_BYTES:
        raise TopologyError(source, "", f"at most {MAX_FILE_BYTES} characters", f"{len(text)} characters")
    return parse_policy(load_yaml(text, source), source=source, base_dir=base_dir)


def parse_policy(document: object, *, source: str = "<memory>", base_dir: Path | None = None) -> Policy:
    """Validate an already-parsed policy document."""
    r = _Reader(source, base_dir)
    if document is None:
        raise r.fail("", "a policy mapping with version and classes", "an empty document")
    top = r.mapping(document, "", _TOP_KEYS)
    if "version" not in top:
        raise r.fail("version", "version: 1", has_got=False)
    if top["version"] != 1 or isinstance(top["version"], bool):
        raise r.fail("version", "1 (the only policy version this vpc-verify reads)", top["version"])
    tag = DEFAULT_EXEMPTION_TAG
    if top.get("exemption_tag") is not None:
        tag = r.string(top["exemption_tag"], "exemption_tag", _TAG_KEY, "a tag key such as vpc-verify:exempt")
    resolver = _topology_part(r, top, "resolver", source, base_dir)
    defaults = _topology_part(r, top, "defaults", source, base_dir)
    classes = _classes(r, top.get("classes"))
    return Policy(classes=classes, exemption_tag=tag, resolver=resolver, defaults=defaults, source=source, version=1)


def _topology_part(
    r: _Reader, top: Mapping[str, Any], key: str, source: str, base_dir: Path | None
) -> Mapping[str, Any] | None:
    """`resolver` or `defaults`, validated by the topology's parser (the key paths are the same)."""
    raw = top.get(key)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise r.fail(key, "a mapping", raw)
    if key == "defaults":
        r.mapping(raw, key, DEFAULT_KEYS)
    # The topology's parser applies `defaults` to an endpoint only, so one stands in for every derived endpoint.
    probe = {"version": 1, "endpoints": [_PROBE_ENDPOINT], key: raw}
    parse(probe, source=source, base_dir=base_dir)  # raises TopologyError with the same key path
    return dict(raw)


def _classes(r: _Reader, raw: object) -> tuple[VpcClass, ...]:
    if raw is None:
        return ()
    items = r.list(raw, "classes", MAX_CLASSES)
    out: list[VpcClass] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        klass = _class(r, item, f"classes[{i}]")
        if klass.name in seen:
            raise r.fail(f"classes[{i}].name", f"a unique name (classes[{seen[klass.name]}] has it too)", klass.name)
        seen[klass.name] = i
        out.append(klass)
    return tuple(out)


def _class(r: _Reader, raw: object, path: str) -> VpcClass:
    m = r.mapping(raw, path, _CLASS_KEYS)
    if "name" not in m:
        raise r.fail(f"{path}.name", "a name for the class", has_got=False)
    name = r.string(m["name"], f"{path}.name", _CLASS_NAME, "a name of 1-64 letters, digits and _.-")
    interface = _services(r, m.get("interface"), f"{path}.interface")
    gateway = _services(r, m.get("gateway"), f"{path}.gateway")
    for j, svc in enumerate(gateway):
        if svc.rsplit(".", 1)[-1] not in ("s3", "dynamodb"):
            raise r.fail(f"{path}.gateway[{j}]", "s3 or dynamodb (the services gateway endpoints serve)", svc)
    private_dns = r.boolean(m["private_dns"], f"{path}.private_dns") if m.get("private_dns") is not None else True
    return VpcClass(
        name=name,
        match=_match(r, m.get("match"), f"{path}.match"),
        interface=interface,
        gateway=gateway,
        private_dns=private_dns,
        azs=_azs(r, m.get("azs"), f"{path}.azs"),
    )


def _services(r: _Reader, raw: object, path: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = r.list(raw, path, MAX_SERVICES)
    out: list[str] = []
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        text = r.string(item, where, what=SERVICE_WHAT)
        if not (_SHORT_SERVICE.fullmatch(text) or _FULL_SERVICE.fullmatch(text)):
            raise r.fail(where, SERVICE_WHAT, item)
        if text in out:
            raise r.fail(where, f"each service once ({path}[{out.index(text)}] has it too)", item)
        out.append(text)
    return tuple(out)


def _match(r: _Reader, raw: object, path: str) -> Mapping[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise r.fail(path, "a mapping of VPC tag keys to values", raw)
    if len(raw) > MAX_MATCH_TAGS:
        raise r.fail(path, f"at most {MAX_MATCH_TAGS} tags", raw)
    out: dict[str, str] = {}
    for key, value in raw.items():
        where = f"{path}.{key}"
        if not isinstance(key, str) or not _TAG_KEY.fullmatch(key):
            raise r.fail(where, "a tag key of 1-128 characters", key)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise r.fail(where, 'a tag value (a string; "*" for any value)', value)
        text = str(value)
        if not _TAG_VALUE.fullmatch(text):
            raise r.fail(where, 'a tag value of at most 256 characters ("*" for any value)', value)
        out[key] = text
    return out


def _azs(r: _Reader, raw: object, path: str) -> AzRule:
    if raw is None:
        return AzRule()
    if isinstance(raw, int) and not isinstance(raw, bool):
        return AzRule(min=_min_azs(r, raw, path))
    if raw == "agent":
        return AzRule(agent=True)
    if not isinstance(raw, Mapping):
        raise r.fail(path, 'a number of AZs, "agent", or a mapping with min and agent', raw)
    m = r.mapping(raw, path, _AZ_KEYS)
    minimum = _min_azs(r, m["min"], f"{path}.min") if m.get("min") is not None else 0
    agent = r.boolean(m["agent"], f"{path}.agent") if m.get("agent") is not None else False
    return AzRule(min=minimum, agent=agent)


def _min_azs(r: _Reader, raw: object, path: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_AZS:
        raise r.fail(path, f"a whole number of AZs from 0 to {MAX_AZS}", raw)
    return raw


def service_name(service: str, region: str) -> str:
    """The AWS service name of a policy's service: `sqs` is com.amazonaws.<region>.sqs; full names stay."""
    return service if service.startswith("com.amazonaws.") else f"com.amazonaws.{region}.{service}"


def short_name(service: str) -> str:
    """`com.amazonaws.us-east-1.ecr.api` -> `ecr.api` (a partner service's name stays whole)."""
    parts = service.split(".")
    if len(parts) > 3 and parts[:2] == ["com", "amazonaws"] and parts[2] != "vpce":
        return ".".join(parts[3:])
    return service


def exemptions(tags: Mapping[str, str], tag: str) -> tuple[str, ...]:
    """The services a VPC's exemption tag names (comma- or space-separated short or full names)."""
    raw = tags.get(tag, "")
    return tuple(dict.fromkeys(s for s in re.split(r"[,\s]+", raw) if s))
