"""The catalogue of AWS services' private DNS names (service_names.json, shipped in the package): which names a
service's interface endpoint answers, as AWS documents them, with the catalogue's sources and version.

Most services answer `<service>.<region>.amazonaws.com`, but not all: ecr.dkr answers `*.dkr.ecr.<region>...`,
kinesis-streams `kinesis.<region>...`, eks-auth `eks-auth.<region>.api.aws`, the China regions
`....amazonaws.com.cn`, and execute-api only an API's own name. The topology defaults to these names when it
names a service and no dns_names; offline they are what vpc-verify expects. When the control plane is read,
DescribeVpcEndpointServices' PrivateDnsName(s) are authoritative instead (vpc_verify.aws.names).

A service the catalogue does not know gets no name at all: a guess (`<svc>.<region>.amazonaws.com`) is what sends
a check to a name nobody uses. A wildcard name (`*.dkr.ecr.<region>...`) cannot be asked: it is probed under a
fixed label (`probe_name`), which the wildcard record answers and the wildcard certificate covers.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from typing import Any

DATA_FILE = "service_names.json"
_SERVICE = re.compile(
    r"^(?P<prefix>com\.amazonaws|cn\.com\.amazonaws)\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.(?P<svc>[a-z0-9][a-z0-9.-]*)$"
)


@dataclass(frozen=True, slots=True)
class ServiceNames:
    """What the catalogue says about one AWS service name (`com.amazonaws.<region>.<svc>`)."""

    service: str
    short: str  # ecr.dkr
    region: str
    known: bool  # listed in the catalogue
    names: tuple[str, ...] = ()  # its private DNS names, wildcards included (empty when unknown)
    default: bool = True  # a topology may default to them (execute-api: no, it needs an API id)
    port: int | None = None  # the port its clients use, when it is not 443 (email-smtp)
    ports: tuple[int, ...] = ()
    note: str = ""
    source: str = ""  # the URL the names come from

    def default_name(self) -> str | None:
        """The name a topology endpoint checks when it lists none: the first name that is not a wildcard, else a
        label under the first wildcard; None when unknown or when the service has no default."""
        if not self.known or not self.default or not self.names:
            return None
        plain = [n for n in self.names if not n.startswith("*.")]
        return plain[0] if plain else probe_name(self.names[0])


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The data file: its version, sources, partitions and services."""

    version: str
    probe_label: str
    sources: dict[str, str]
    partitions: tuple[dict[str, Any], ...]
    services: dict[str, dict[str, Any]]


@functools.cache
def catalogue() -> Catalogue:
    """The catalogue shipped with vpc-verify (read once)."""
    # Beside this module in every install (wheel, Lambda zip): read as a file, since importlib.resources (with
    # zipfile and tempfile) would cost every run 4 ms before its first packet.
    with open(os.path.join(os.path.dirname(__file__), DATA_FILE), encoding="utf-8") as f:  # pathlib costs 3 ms
        text = f.read()
    doc = json.loads(text)
    return Catalogue(
        version=str(doc["version"]),
        probe_label=str(doc["probe_label"]),
        sources=dict(doc["sources"]),
        partitions=tuple(doc["partitions"]),
        services=dict(doc["services"]),
    )


def parse(service: str | None) -> tuple[str, str] | None:
    """(region, short name) of an AWS service name (`com.amazonaws.us-east-1.ecr.dkr`,
    `cn.com.amazonaws.cn-north-1.sqs`), None for anything else (a partner's
    `com.amazonaws.vpce.<region>.vpce-svc-…`, an ARN, a custom name)."""
    match = _SERVICE.match(service or "")
    if match is None or match["svc"].startswith("vpce-svc-"):
        return None
    return match["region"], match["svc"]


def partition(region: str) -> dict[str, Any]:
    """The partition of a region: its DNS suffix (`dns`) and dual-stack suffix (`api`)."""
    for p in catalogue().partitions:
        if re.match(p["regions"], region):
            return p
    return catalogue().partitions[-1]


def lookup(service: str | None, region: str | None = None) -> ServiceNames | None:
    """What the catalogue says about `service` (its names in the service's region, else `region`); None when it is
    not an AWS service name at all."""
    parsed = parse(service)
    if parsed is None or service is None:
        return None
    svc_region, short = parsed
    where = svc_region or region or ""
    entry = catalogue().services.get(short)
    if entry is None:
        return ServiceNames(service, short, where, known=False)
    p = partition(where)
    templates = entry.get("names") or [f"{short}.{{region}}.{{dns}}"]
    names = tuple(t.format(region=where, dns=p["dns"], api=p["api"]) for t in templates)
    return ServiceNames(
        service=service,
        short=short,
        region=where,
        known=True,
        names=names,
        default=bool(entry.get("default", True)),
        port=entry.get("port"),
        ports=tuple(entry.get("ports") or ()),
        note=str(entry.get("note", "")),
        source=catalogue().sources.get(str(entry.get("source", "privatelink")), ""),
    )


def probe_name(name: str) -> str:
    """A name that can be asked for `name`: itself, or for a wildcard `*.zone` the catalogue's label under the zone."""
    return f"{catalogue().probe_label}.{name[2:]}" if name.startswith("*.") else name


def covers(pattern: str, name: str) -> bool:
    """Whether `pattern` (a name, or a wildcard `*.zone`) answers `name`: a wildcard answers every name below its
    zone, not the zone itself (DNS wildcards, RFC 4592)."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        return name.endswith(pattern[1:])
    return pattern == name
