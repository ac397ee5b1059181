"""The topology schema agrees with the loader: on good documents both accept, on bad ones both reject, and the
few checks a schema cannot express are the loader's alone. The docs' examples and discovered files validate."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from vpc_verify.aws import discover
from vpc_verify.aws.model import Eni, VpcEndpoint, VpcState
from vpc_verify.reference import schemas
from vpc_verify.topology import HttpSettings, Resolver, TlsSettings, TopologyError, loads, parse

ROOT = Path(__file__).resolve().parents[2]
SQS = {"name": "sqs", "service": "com.amazonaws.us-east-1.sqs"}


def _validator() -> Any:
    schema = schemas.topology()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


VALIDATOR = _validator()


def doc(*endpoints: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"version": 1, **top, "endpoints": list(endpoints)}


GOOD: dict[str, Any] = {
    "minimal": doc(SQS),
    "a hub for the file, one endpoint out of it": doc(
        SQS,
        {"name": "kms", "service": "com.amazonaws.us-east-1.kms", "hub": False},
        {"name": "logs", "service": "com.amazonaws.us-east-1.logs", "hub": {"cidrs": ["10.3.0.0/16"]}},
        hub={"cidrs": ["10.2.0.0/16"], "vpc_id": "vpc-0123456789abcdef1"},
    ),
    "a gateway load balancer endpoint": doc(
        {
            "name": "glb",
            "type": "gatewayloadbalancer",
            "service": "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
        }
    ),
    "empty, allowed": doc(allow_empty=True),
    "one interface endpoint": doc(SQS),
    "everything": doc(
        {
            "name": "sqs",
            "type": "interface",
            "service": "com.amazonaws.us-east-1.sqs",
            "dns_names": ["sqs.us-east-1.amazonaws.com", "SQS.us-east-1.amazonaws.com."],
            "addresses": ["10.0.1.23", "10.0.2.45"],
            "azs": ["us-east-1a", "use1-az2"],
            "port": 443,
            "timeout_ms": 1500,
            "latency_budget_ms": 50.5,
            "tls": {"verify": True, "ca_bundle": None, "server_name": "sqs.us-east-1.amazonaws.com"},
            "http": {"path": "/health?x=1", "method": "HEAD", "status": [200, 403]},
            "ip_address_type": "ipv4",
        },
        region="us-east-1",
        vpc={"id": "vpc-0123456789abcdef0", "cidrs": ["10.0.0.0/16", "100.64.0.0/16", "fd00::/8"]},
        resolver={"nameservers": ["10.0.0.2", "169.254.169.253"], "port": 53, "timeout_ms": 1000},
        defaults={"port": 443, "timeout_ms": 2000, "tls": {"verify": True}, "http": None},
    ),
    "gateway and service": doc(
        {"name": "s3", "type": "gateway", "service": "com.amazonaws.us-east-1.s3"},
        {"name": "billing", "type": "service", "dns_names": ["billing.corp.internal"], "http": True, "tls": False},
        {"name": "ecr-api", "service": "com.amazonaws.us-east-1.ecr.api"},
    ),
    "a service type by default": doc(
        {"name": "a", "dns_names": ["a.internal"]},
        {"name": "b", "dns_names": ["b.internal"], "http": {"status": 204}},
        defaults={"type": "service", "tls": None},
    ),
    "dual stack": doc(
        {**SQS, "addresses": ["10.0.1.23", "fd00::23", "fe80::1%eth0"], "ip_address_type": "dualstack"},
    ),
    "nulls where optional": doc(
        {**SQS, "dns_names": None, "addresses": None, "azs": None, "tls": None, "ip_address_type": None},
        region=None,
        vpc=None,
        resolver=None,
        defaults=None,
    ),
    "nested nulls": doc(SQS, vpc={"id": None, "cidrs": None}, resolver={"nameservers": None}),
    "a host CIDR and an international name": doc(
        {"name": "intl", "type": "service", "dns_names": ["bücher.example"]}, vpc={"cidrs": ["10.0.0.0"]}
    ),
    "names with every allowed character": doc({**SQS, "name": "Svc_1.a:b/c+d=e@f-g"}),
    "signed calls": doc(
        {**SQS, "authorize": True},
        {"name": "kms", "service": "com.amazonaws.us-east-1.kms", "authorize": {"call": "kms:ListKeys"}},
        {
            "name": "cw",
            "service": "com.amazonaws.us-east-1.monitoring",
            "authorize": {"call": "cloudwatch:ListMetrics", "params": {"Namespace": "AWS/EC2"}, "action": None},
        },
        {"name": "billing", "type": "service", "dns_names": ["b.internal"], "authorize": False},
        {
            "name": "partner",
            "type": "service",
            "dns_names": ["p.internal"],
            "authorize": {"call": "sts:GetCallerIdentity", "params": None, "action": "sts:GetCallerIdentity"},
        },
        region="us-east-1",
        defaults={"authorize": None},
    ),
    "signed calls by default, where a call is known": doc(
        SQS, {"name": "b", "type": "service", "dns_names": ["b.internal"]}, defaults={"authorize": True}
    ),
}

BAD: dict[str, Any] = {
    "a hub without cidrs": doc(SQS, hub={"vpc_id": "vpc-0123456789abcdef1"}),
    "a hub with an unknown key": doc(SQS, hub={"cidrs": ["10.2.0.0/16"], "role_arn": "x"}),
    "a wildcard name": doc({**SQS, "dns_names": ["*.sqs.us-east-1.amazonaws.com"]}),
    "not a mapping": [1, 2],
    "no endpoint, not allowed": doc(),
    "no version": {"endpoints": []},
    "version 2": {"version": 2, "endpoints": []},
    "version true": {"version": True, "endpoints": []},
    "no endpoints": {"version": 1},
    "endpoints not a list": {"version": 1, "endpoints": {"name": "sqs"}},
    "unknown top key": doc(regoin="us-east-1"),
    "bad region": doc(region="US-EAST-1"),
    "bad vpc id": doc(vpc={"id": "vpc-xyz"}),
    "prefix too long": doc(vpc={"cidrs": ["10.0.0.0/33"]}),
    "not a CIDR": doc(vpc={"cidrs": ["ten.0.0.0/8"]}),
    "unknown vpc key": doc(vpc={"cidr": ["10.0.0.0/16"]}),
    "bad nameserver": doc(resolver={"nameservers": ["10.0.0.300"]}),
    "resolver port 0": doc(resolver={"port": 0}),
    "resolver timeout as text": doc(resolver={"timeout_ms": "1000"}),
    "endpoint without name": doc({"service": "com.amazonaws.us-east-1.sqs"}),
    "name starts with a dash": doc({**SQS, "name": "-sqs"}),
    "unknown type": doc({**SQS, "type": "nat"}),
    "interface without service": doc({"name": "sqs"}),
    "gateway without service": doc({"name": "s3", "type": "gateway", "dns_names": ["s3.amazonaws.com"]}),
    "service without names": doc({"name": "billing", "type": "service"}),
    "empty dns_names": doc({**SQS, "dns_names": []}),
    "bad dns name": doc({**SQS, "dns_names": ["-bad.example.com"]}),
    "bad address": doc({**SQS, "addresses": ["10.0.0.256"]}),
    "bad az": doc({**SQS, "azs": ["us-east-1"]}),
    "port too high": doc({**SQS, "port": 70000}),
    "port true": doc({**SQS, "port": True}),
    "port null": doc({**SQS, "port": None}),
    "timeout 0": doc({**SQS, "timeout_ms": 0}),
    "budget 0": doc({**SQS, "latency_budget_ms": 0}),
    "verify as text": doc({**SQS, "tls": {"verify": "yes"}}),
    "unknown tls key": doc({**SQS, "tls": {"sni": "sqs.us-east-1.amazonaws.com"}}),
    "POST": doc({**SQS, "http": {"method": "POST"}}),
    "path without slash": doc({**SQS, "http": {"path": "health"}}),
    "no status": doc({**SQS, "http": {"status": []}}),
    "status 99": doc({**SQS, "http": {"status": [99]}}),
    "bad ip_address_type": doc({**SQS, "ip_address_type": "v6"}),
    "unknown endpoint key": doc({**SQS, "adresses": ["10.0.1.23"]}),
    "name in defaults": doc(SQS, defaults={"name": "x"}),
    "bad default used": doc(SQS, defaults={"port": "https"}),
    "authorize as text": doc({**SQS, "authorize": "yes"}),
    "a call that changes something": doc({**SQS, "authorize": {"call": "sqs:DeleteQueue"}}),
    "a call without its service": doc({**SQS, "authorize": {"call": "ListQueues"}}),
    "authorize without a call": doc({**SQS, "authorize": {"params": {"MaxResults": 1}}}),
    "unknown authorize key": doc({**SQS, "authorize": {"call": "sqs:ListQueues", "region": "us-east-1"}}),
    "a parameter that is a list": doc({**SQS, "authorize": {"call": "sqs:ListQueues", "params": {"A": [1]}}}),
    "a bad IAM action": doc({**SQS, "authorize": {"call": "sqs:ListQueues", "action": "ListQueues"}}),
}

# What a JSON Schema cannot say; `vpc-verify validate` does.
LOADER_ONLY: dict[str, Any] = {
    "duplicate names": doc(SQS, SQS),
    "overlapping CIDRs": doc(SQS, vpc={"cidrs": ["10.0.0.0/16", "10.0.128.0/17"]}),
    "host bits set": doc(SQS, vpc={"cidrs": ["10.0.0.1/16"]}),
    "no name derivable from service": doc({"name": "x", "service": "my.partner.service"}),
    "service by default, no names": doc({"name": "x"}, defaults={"type": "service"}),
    "authorize where no call is known": doc(
        {"name": "x", "service": "com.amazonaws.us-east-1.foo", "dns_names": ["foo.example"], "authorize": True}
    ),
    "a service the catalogue does not know, without names": doc(
        {"name": "x", "service": "com.amazonaws.us-east-1.foo"}
    ),
    "execute-api without its API's name": doc({"name": "x", "service": "com.amazonaws.us-east-1.execute-api"}),
}


def schema_errors(document: Any) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(document)]


def loader_error(document: Any) -> str | None:
    try:
        loads(json.dumps(document), source="t.yaml")
    except TopologyError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("name", GOOD)
def test_good_documents_pass_both(name: str) -> None:
    assert loader_error(GOOD[name]) is None
    assert schema_errors(GOOD[name]) == []


@pytest.mark.parametrize("name", BAD)
def test_bad_documents_fail_both(name: str) -> None:
    assert loader_error(BAD[name]) is not None, "the loader accepted it"
    assert schema_errors(BAD[name]), "the schema accepted it"


@pytest.mark.parametrize("name", LOADER_ONLY)
def test_what_only_the_loader_checks(name: str) -> None:
    assert loader_error(LOADER_ONLY[name]) is not None
    assert schema_errors(LOADER_ONLY[name]) == []


def test_schema_defaults_are_the_loaders() -> None:
    schema = schemas.topology()
    props = schema["definitions"]["endpoint"]["properties"]
    e = parse(doc(SQS)).endpoints[0]
    for key in ("type", "port", "timeout_ms", "latency_budget_ms", "ip_address_type", "http"):
        assert props[key]["default"] == getattr(e, key), key
    assert TlsSettings(**props["tls"]["default"]) == e.tls
    tls = next(s for s in props["tls"]["anyOf"] if s.get("type") == "object")["properties"]
    assert {k: tls[k]["default"] for k in tls} == {"verify": True, "ca_bundle": None, "server_name": None}
    assert TlsSettings(**{k: tls[k]["default"] for k in tls}) == TlsSettings()
    http = next(s for s in props["http"]["anyOf"] if s.get("type") == "object")["properties"]
    defaults = HttpSettings(**{k: http[k]["default"] for k in http})
    assert parse(doc({**SQS, "http": True})).endpoints[0].http == HttpSettings(
        path=defaults.path, method=defaults.method, status=tuple(defaults.status)
    )
    resolver = schema["properties"]["resolver"]["anyOf"][0]["properties"]
    loaded = parse(doc(SQS, resolver={})).resolver
    assert resolver["nameservers"]["default"] == list(loaded.nameservers)
    assert (resolver["port"]["default"], resolver["timeout_ms"]["default"]) == (loaded.port, loaded.timeout_ms)
    assert loaded == parse(doc(SQS)).resolver == Resolver()


def _yaml_blocks(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    blocks = re.findall(r"```ya?ml\n(.*?)```", text, flags=re.S)
    # A fleet policy (docs/guides/fleet.md, `classes:`) is checked by tests/fleet/test_docs.py.
    return [b for b in blocks if re.search(r"^version: 1$", b, re.M) and not re.search(r"^classes:", b, re.M)]


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_the_docs_have_topology_examples() -> None:
    assert _yaml_blocks(ROOT / "docs" / "topology.md")
    assert _yaml_blocks(ROOT / "README.md")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_topology_examples_in_the_docs_validate(path: Path) -> None:
    for block in _yaml_blocks(path):
        document = yaml.safe_load(block)
        assert schema_errors(document) == [], block
        assert loader_error(document) is None, block


def _vpc_state() -> VpcState:
    def vpce(vid: str, kind: str, service: str, enis: tuple[str, ...], ip_type: str = "ipv4") -> VpcEndpoint:
        return VpcEndpoint(vid, kind, service, "available", True, (), ("sg-1",), (), enis, (), ip_address_type=ip_type)

    return VpcState(
        region="us-east-1",
        vpc_id="vpc-0123456789abcdef0",
        cidrs=(ipaddress.ip_network("10.0.0.0/16"),),
        dns_support=True,
        dns_hostnames=True,
        endpoints=(
            vpce("vpce-0a", "interface", "com.amazonaws.us-east-1.sqs", ("eni-a", "eni-b")),
            vpce("vpce-0b", "interface", "com.amazonaws.us-east-1.kms", ("eni-c",), "dualstack"),
            vpce("vpce-0c", "gateway", "com.amazonaws.us-east-1.s3", ()),
            vpce("vpce-0d", "interface", "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0", ("eni-d",)),
        ),
        enis={
            "eni-a": Eni("eni-a", "10.0.1.10", "us-east-1a", "subnet-a"),
            "eni-b": Eni("eni-b", "10.0.2.10", "us-east-1b", "subnet-b"),
            "eni-c": Eni("eni-c", "10.0.1.11", "us-east-1a", "subnet-a", ipv6=("fd00::11",)),
            "eni-d": Eni("eni-d", "10.0.1.12", "us-east-1a", "subnet-a"),
        },
    )


def test_a_discovered_file_names_its_schema_and_validates() -> None:
    text = discover.render(_vpc_state(), now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    assert text.splitlines()[0] == "# yaml-language-server: $schema=topology.schema.json"
    assert schema_errors(yaml.safe_load(text)) == []
    topo = loads(text)
    assert [e.name for e in topo.endpoints] == ["kms", "s3", "sqs", "vpce-svc-0123456789abcdef0"]
