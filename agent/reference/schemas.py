"""JSON Schemas (draft 2020-12) of the topology file, the JSON report and the diagnosis, built from the code.

`topology()` describes what vpc_verify.topology accepts, for editors (a discovered file names it on its first
line) and CI linters; the loader stays the authority and checks what a schema cannot (duplicate names,
overlapping CIDRs, readable CA bundles). `report()` and `diagnosis()` describe `check --format json` and
`diagnose --format json`; their finding codes, severities and evidence keys come from
vpc_verify.findings.CATALOGUE and the probe statuses from the probes' enums, so the schemas follow the code.

The published schemas are open (consumers must accept keys added in later releases of report version 1);
`strict=True` closes every object, so the test suite proves each report it produces has no undocumented key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from vpc_verify.checks.dns import DnsStatus
from vpc_verify.checks.http import HttpStatus
from vpc_verify.checks.signed import PolicyType, SignedStatus
from vpc_verify.checks.tcp import TcpStatus
from vpc_verify.checks.tls import TlsStatus
from vpc_verify.findings import CATALOGUE, Code, CodeInfo, Severity

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# Editors validate YAML through yaml-language-server (VS Code, Neovim, ...), which implements draft-07 only:
# the topology schema is written in draft-07 (every keyword it uses means the same in 2020-12).
DRAFT_07 = "http://json-schema.org/draft-07/schema#"
Schema = dict[str, Any]

# ------------------------------------------------------------------------------------------------ helpers


def _obj(
    properties: Mapping[str, Schema],
    required: Iterable[str] = (),
    *,
    closed: bool,
    description: str | None = None,
) -> Schema:
    out: Schema = {"type": "object"}
    if description:
        out["description"] = description
    out["properties"] = dict(properties)
    req = list(required)
    if req:
        out["required"] = req
    if closed:
        out["additionalProperties"] = False
    return out


def _t(kind: str | list[str], description: str, **extra: Any) -> Schema:
    return {"type": kind, "description": description, **extra}


def _nullable(schema: Schema, description: str) -> Schema:
    return {"description": description, "anyOf": [schema, {"type": "null"}]}


def _strings(description: str, **extra: Any) -> Schema:
    return {"type": "array", "description": description, "items": {"type": "string", **extra}}


def dumps(schema: Schema) -> str:
    """A schema as the checked-in files hold it: two-space indent, keys in build order, a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------------------------- topology

_IPV4 = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}"
_IPV6 = r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*"
_IP = {"type": "string", "pattern": f"^({_IPV4}|{_IPV6}(%[0-9A-Za-z._-]+)?)$"}
_CIDR = {
    "type": "string",
    "pattern": f"^({_IPV4}(/(3[0-2]|[12]?[0-9]))?|{_IPV6}(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$",
}
_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
# ASCII names by label; a name with non-ASCII letters is converted to IDNA by the loader, which checks it.
_HOSTNAME = {"type": "string", "pattern": rf"^((?=.{{1,253}}\.?$){_LABEL}(\.{_LABEL})*\.?|.*[^\x00-\x7F].*)$"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 1024}


def _hub() -> Schema:
    """A hub VPC that holds the endpoints (centralised endpoints)."""
    return _obj(
        {
            "cidrs": {
                "type": "array",
                "minItems": 1,
                "maxItems": 64,
                "items": _CIDR,
                "description": "The hub VPC's CIDR blocks: the endpoint's answers there are right.",
            },
            "vpc_id": _nullable(
                {"type": "string", "pattern": "^vpc-[0-9a-f]{8,17}$"},
                "The hub VPC's id: read with the agent's credentials for its endpoint and security groups.",
            ),
            "role_arn": _nullable(
                {"type": "string", "pattern": "^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"},
                "A read-only role in the hub's account to read it with (sts:AssumeRole); needs vpc_id.",
            ),
        },
        ["cidrs"],
        closed=True,
    )


def _endpoint_properties() -> dict[str, Schema]:
    """The keys of one endpoint (every one but `name` may also be set under `defaults`)."""
    tls = _obj(
        {
            "verify": _t("boolean", "Verify the certificate chain and its name.", default=True),
            "ca_bundle": _nullable(
                _TEXT,
                "A PEM file of the CAs to trust instead of the system store (a private CA); relative paths are "
                "relative to the topology file, which must be readable.",
            )
            | {"default": None},
            "server_name": _nullable(
                _HOSTNAME, "The name sent as SNI and checked against the certificate. Default: the first DNS name."
            )
            | {"default": None},
        },
        closed=True,
    )
    status_code = {"type": "integer", "minimum": 100, "maximum": 599}
    http = _obj(
        {
            "path": {**_TEXT, "pattern": "^/[!-~]*$", "description": "The request path.", "default": "/"},
            "method": {
                "enum": ["GET", "HEAD", "OPTIONS"],
                "description": "The method: never one that changes anything.",
                "default": "GET",
            },
            "status": {
                "description": "The statuses that count as healthy: one, or a list.",
                "default": [200],
                "anyOf": [status_code, {"type": "array", "minItems": 1, "maxItems": 64, "items": status_code}],
            },
        },
        closed=True,
    )
    return {
        "name": {
            "type": "string",
            "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:/+=@-]{0,127}$",
            "description": "Unique in the file; the Endpoint dimension of the metrics.",
        },
        "type": {
            "enum": ["interface", "gateway", "service", "gatewayloadbalancer"],
            "description": "interface (PrivateLink interface endpoint), gateway (S3/DynamoDB gateway endpoint), "
            "service (any other private service: VPC Lattice resource and service-network endpoints too) or "
            "gatewayloadbalancer (a route target: no names, addresses, TLS or HTTP to probe).",
            "default": "interface",
        },
        "service": _nullable(
            _TEXT,
            "The AWS service name, such as com.amazonaws.us-east-1.sqs: required for interface and gateway "
            "endpoints, optional for a service.",
        ),
        "dns_names": _nullable(
            {"type": "array", "minItems": 1, "maxItems": 32, "items": _HOSTNAME},
            "The names to resolve (never a wildcard: a name under it). Default for an AWS service: its private "
            "DNS name from vpc-verify's catalogue (ecr.dkr: vpc-verify.dkr.ecr.<region>.amazonaws.com); none for a "
            "service the catalogue does not know, or for execute-api (<api-id>.execute-api.<region>...).",
        ),
        "addresses": _nullable(
            {"type": "array", "maxItems": 256, "items": _IP},
            "The expected ENI addresses; any other answer is DNS_UNEXPECTED_ADDRESS. Default: none expected.",
        ),
        "azs": _nullable(
            {
                "type": "array",
                "maxItems": 32,
                "items": {"type": "string", "pattern": "^([a-z]{2}(-[a-z]+)+-[0-9]+[a-z]|[a-z0-9]+-az[0-9]+)$"},
            },
            "AZs (us-east-1a) or zone ids (use1-az1) that must each hold an endpoint network interface "
            "(control plane: ENDPOINT_AZ_MISSING).",
        ),
        "port": _t(
            "integer",
            "The port to probe (default 443; the catalogue's for a service on another: email-smtp 465).",
            minimum=1,
            maximum=65535,
            default=443,
        ),
        "hub": {
            "description": "The endpoint lives in a hub VPC: true (the file's hub), false (in this VPC) or a hub of "
            "its own. Default: the file's hub for interface and service endpoints.",
            "anyOf": [{"type": "boolean"}, {"type": "null"}, _hub()],
        },
        "timeout_ms": _t(
            "integer", "The timeout of each probe phase (connect, handshake, request).", minimum=1, maximum=60000
        )
        | {"default": 2000},
        "latency_budget_ms": _t(
            "number",
            "Connect plus TLS above this on an address is LATENCY_OVER_BUDGET (a warning).",
            exclusiveMinimum=0,
            maximum=600000,
            default=100,
        ),
        "tls": {
            "description": "The TLS phase: a mapping, true (the defaults) or false/null (no TLS). Default: TLS "
            "with verification, except for a gateway endpoint (reachability only).",
            "default": {"verify": True},
            "anyOf": [tls, {"type": "boolean"}, {"type": "null"}],
        },
        "http": {
            "description": "An HTTP request after the handshake: a mapping, true (GET / expecting 200) or "
            "false/null (none).",
            "default": None,
            "anyOf": [http, {"type": "boolean"}, {"type": "null"}],
        },
        "ip_address_type": {
            "description": "Which records the DNS phase asks for: ipv4 (A), dualstack (A and AAAA), ipv6 (AAAA). "
            "Default: ipv4, or dualstack when an expected address is IPv6.",
            "default": "ipv4",
            "anyOf": [{"enum": ["ipv4", "dualstack", "ipv6"]}, {"type": "null"}],
        },
        "authorize": {
            "description": "One signed, read-only AWS call through each address, with the agent's credentials: "
            "true (the call vpc-verify's table names for the service), a mapping (another call) or false. "
            "Tells an endpoint policy's denial from an IAM one (docs/topology.md). `--authorize` turns it on "
            "wherever the file does not set it.",
            "default": False,
            "anyOf": [
                {"type": "boolean"},
                {"type": "null"},
                _obj(
                    {
                        "call": {
                            "type": "string",
                            "maxLength": 192,
                            "pattern": "^[a-z0-9][a-z0-9-]{0,62}:(Get|List|Describe)[A-Za-z0-9]*$",
                            "description": "The botocore service name and a read-only API operation: "
                            "sqs:ListQueues, cloudwatch:ListDashboards.",
                        },
                        "params": _nullable(
                            {
                                "type": "object",
                                "maxProperties": 16,
                                "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9]{0,63}$"},
                                "additionalProperties": {"type": ["string", "integer", "boolean"]},
                            },
                            "The call's parameters, named as in the API ({MaxResults: 1}).",
                        ),
                        "action": _nullable(
                            {"type": "string", "pattern": "^[a-z0-9-]{1,63}:[A-Za-z0-9*]{1,128}$"},
                            "The IAM action the call needs, when it is not <service>:<Operation>.",
                        ),
                    },
                    ["call"],
                    closed=True,
                ),
            ],
        },
    }


def topology() -> Schema:
    """The schema of a topology file (version 1), as vpc_verify.topology reads it."""
    endpoint_props = _endpoint_properties()
    defaults_props = {k: v for k, v in endpoint_props.items() if k != "name"}
    # A non-`service` endpoint needs `service`; a `service` needs dns_names or a service to derive them from.
    # Only checkable per endpoint when `defaults` sets neither (a default `type` or `service` applies to all).
    needs_service = {
        "if": {"not": {"required": ["type"], "properties": {"type": {"const": "service"}}}},
        "then": {"required": ["service"], "properties": {"service": {"type": "string"}}},
        "else": {"anyOf": [{"required": ["dns_names"]}, {"required": ["service"]}]},
    }
    return {
        "$schema": DRAFT_07,
        "title": "vpc-verify topology file (version 1)",
        "description": "What a VPC is expected to reach: its endpoints and how to check them. YAML or JSON. "
        "Reference: docs/topology.md. `vpc-verify validate FILE` is the authority: it also rejects duplicate "
        "endpoint names, overlapping or non-network CIDRs and unreadable CA bundles.",
        "type": "object",
        "required": ["version", "endpoints"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1, "description": "The format version: 1."},
            "region": _nullable(
                {"type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]+$"},
                "The AWS region, such as us-east-1. Default: AWS_REGION or AWS_DEFAULT_REGION.",
            ),
            "vpc": _nullable(
                _obj(
                    {
                        "id": _nullable(
                            {"type": "string", "pattern": "^vpc-[0-9a-f]{8,17}$"},
                            "The VPC id: enables the control-plane comparison (and its CIDRs when cidrs is empty).",
                        ),
                        "cidrs": _nullable(
                            {"type": "array", "maxItems": 64, "items": _CIDR},
                            "The VPC's CIDR blocks: a private answer outside them is DNS_OUTSIDE_VPC.",
                        ),
                    },
                    closed=True,
                ),
                "The VPC the agent runs in.",
            ),
            "hub": _nullable(
                _hub(),
                "A hub VPC holding the interface endpoints, reached over a transit gateway or peering, its private "
                "hosted zones shared with this VPC: answers in its CIDRs are right and ENDPOINT_MISSING does not "
                "apply; the route to its CIDRs is checked (HUB_UNROUTED).",
            ),
            "resolver": _nullable(
                _obj(
                    {
                        "nameservers": _nullable(
                            {"type": "array", "maxItems": 8, "items": _IP},
                            "Resolver addresses (in a VPC: base+2, or 169.254.169.253). Default: the system "
                            "resolver (/etc/resolv.conf).",
                        )
                        | {"default": []},
                        "port": _t("integer", "The resolver port.", minimum=1, maximum=65535, default=53),
                        "timeout_ms": _t(
                            "integer", "How long to wait for an answer.", minimum=1, maximum=60000, default=1000
                        ),
                        "queries_per_second": _t(
                            "integer",
                            "DNS packets a second at most (A and AAAA count as two): the VPC resolver drops what "
                            "a network interface sends above 1024 a second.",
                            minimum=1,
                            maximum=100000,
                            default=300,
                        ),
                    },
                    closed=True,
                ),
                "Where DNS questions go.",
            ),
            "defaults": _nullable(
                _obj(defaults_props, closed=True),
                "Any endpoint key but name, applied to every endpoint that does not set it (tls and http merge "
                "key by key).",
            ),
            "allow_empty": _t(
                "boolean",
                "Accept a topology with no endpoint (otherwise an empty one is a configuration error, so a CI "
                "smoke test never passes having checked nothing).",
                default=False,
            ),
            "endpoints": {
                "type": "array",
                "maxItems": 10000,
                "description": "The services the VPC depends on (at least one unless allow_empty is true).",
                "items": {"$ref": "#/definitions/endpoint"},
            },
        },
        "allOf": [
            {
                "if": {"not": {"required": ["allow_empty"], "properties": {"allow_empty": {"const": True}}}},
                "then": {"properties": {"endpoints": {"minItems": 1}}},
            },
            {
                "if": {
                    "properties": {
                        "defaults": {
                            "anyOf": [
                                {"type": "null"},
                                {"not": {"anyOf": [{"required": ["service"]}, {"required": ["type"]}]}},
                            ]
                        }
                    }
                },
                "then": {"properties": {"endpoints": {"items": needs_service}}},
            },
        ],
        "definitions": {"endpoint": _obj(endpoint_props, ["name"], closed=True, description="One service to check.")},
    }


# --------------------------------------------------------------------------------------------------- policy


def policy() -> Schema:
    """The schema of a fleet policy file (version 1), as vpc_verify.fleet.policy reads it."""
    topo = topology()
    service = {
        "type": "string",
        "pattern": "^([a-z0-9][a-z0-9.-]{0,99}|com\\.amazonaws\\.[a-z0-9.-]{3,200})$",
        "description": "A service: its short name (sqs, ecr.api: com.amazonaws.<the VPC's region>.<name>) or a full "
        "service name.",
    }
    services = {"type": "array", "maxItems": 256, "uniqueItems": True, "items": service}
    gateway = {
        "type": "array",
        "maxItems": 256,
        "uniqueItems": True,
        "items": {**service, "pattern": "^(s3|dynamodb|com\\.amazonaws\\.[a-z0-9-]+\\.(s3|dynamodb))$"},
    }
    zones = {"type": "integer", "minimum": 0, "maximum": 16}
    klass = _obj(
        {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", "description": "Unique."},
            "match": _nullable(
                {
                    "type": "object",
                    "maxProperties": 16,
                    "additionalProperties": {"type": ["string", "number"]},
                },
                'VPC tags that must all be there with these values ("*": any value). None: every VPC.',
            ),
            "interface": _nullable(services, "Interface endpoints every VPC of the class must have."),
            "gateway": _nullable(gateway, "Gateway endpoints (s3, dynamodb) every VPC of the class must have."),
            "private_dns": _nullable(
                {"type": "boolean"}, "Interface endpoints must have private DNS on (default true)."
            ),
            "azs": _nullable(
                {
                    "anyOf": [
                        zones,
                        {"const": "agent"},
                        _obj(
                            {
                                "min": _nullable(zones, "At least this many AZ ids."),
                                "agent": _nullable({"type": "boolean"}, "The agent's own AZ."),
                            },
                            closed=True,
                        ),
                    ]
                },
                "The AZs each required interface endpoint must cover, by AZ id: a number, agent, or both.",
            ),
        },
        ["name"],
        closed=True,
        description="What every VPC whose tags match must have; the first matching class applies.",
    )
    return {
        "$schema": DRAFT_07,
        "title": "vpc-verify fleet policy (version 1)",
        "description": "What every VPC of a class must have: `vpc-verify check --policy FILE`. Reference: "
        "docs/guides/fleet.md. The loader is the authority (`vpc-verify check --policy FILE` exits 2 naming the "
        "key path of what it refuses).",
        "type": "object",
        "required": ["version"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1, "description": "The format version: 1."},
            "exemption_tag": _nullable(
                {"type": "string", "minLength": 1, "maxLength": 128},
                "The VPC tag listing the services a VPC need not have (comma- or space-separated). Default "
                "vpc-verify:exempt.",
            ),
            "resolver": topo["properties"]["resolver"],
            "defaults": topo["properties"]["defaults"],
            "classes": _nullable(
                {"type": "array", "maxItems": 64, "items": klass},
                "The classes of VPCs, first match wins. None: every endpoint AWS reports is checked as it is.",
            ),
        },
        "definitions": topo["definitions"],
    }


# ------------------------------------------------------------------------------------------------- report


def _finding(catalogue: Mapping[Code, CodeInfo], *, closed: bool) -> Schema:
    base = _obj(
        {
            "code": {"enum": [c.value for c in catalogue], "description": "The stable code (docs/findings.md)."},
            "severity": {"enum": [s.value for s in Severity], "description": "error makes the endpoint unhealthy."},
            "endpoint": _t("string", "The endpoint's name, or * for the VPC as a whole."),
            "address": _t(["string", "null"], "The address the finding concerns, when one."),
            "message": _t("string", "One line for people."),
            "evidence": _t("object", "The facts the finding was judged on; keys per code in docs/findings.md."),
            "hint": _t("string", "The fix to try first."),
        },
        ["code", "severity", "endpoint", "address", "message", "evidence", "hint"],
        closed=closed,
        description="One problem, with its evidence and the likely fix.",
    )
    per_code = []
    for code, info in catalogue.items():
        evidence = _obj(
            {key: {"description": what} for key, what in info.evidence.items()}, closed=closed, description=None
        )
        per_code.append(
            {
                "if": {"properties": {"code": {"const": code.value}}, "required": ["code"]},
                "then": {"properties": {"severity": {"const": info.severity.value}, "evidence": evidence}},
            }
        )
    return {**base, "allOf": per_code}


def _rule(closed: bool) -> Schema:
    return _obj(
        {
            "group_id": _t("string", "The security group."),
            "ports": _t("string", "tcp/443-443, or all."),
            "source": _t("string", "A CIDR, security group or prefix list."),
            "description": _t("string", "The rule's description."),
        },
        ["group_id", "ports", "source", "description"],
        closed=closed,
    )


def _security_groups(closed: bool) -> Schema:
    rules = {"type": "array", "items": {"$ref": "#/$defs/rule"}}
    return _obj(
        {
            "security_group_ids": _strings("The endpoint's security groups."),
            "port": _t("integer", "The port evaluated."),
            "verdict": {"enum": ["admits", "blocks", "unknown"], "description": "Whether the rules admit the agent."},
            "agent_source": _strings("The agent's source networks."),
            "agent_source_precision": {"enum": ["address", "subnet", "vpc"], "description": "How they are known."},
            "agent_security_group_ids": _nullable(_strings("The agent's groups."), "Null when unknown."),
            "inbound_rules": rules | {"description": "Every inbound rule."},
            "admitting_rules": rules | {"description": "The rules that admit the agent."},
            "possibly_admitting_rules": rules | {"description": "The rules that may admit it."},
        },
        [
            "security_group_ids",
            "port",
            "verdict",
            "agent_source",
            "agent_source_precision",
            "agent_security_group_ids",
            "inbound_rules",
            "admitting_rules",
            "possibly_admitting_rules",
        ],
        closed=closed,
        description="How the endpoint's security groups judge the agent's traffic on the port.",
    )


def _aws_facts(closed: bool) -> Schema:
    eni = _obj(
        {
            "eni_id": _t("string", "The network interface."),
            "address": _t(["string", "null"], "Its private IPv4 address."),
            "az": _t(["string", "null"], "Its AZ."),
            "az_id": _t(["string", "null"], "Its AZ's id (the same zone in every account)."),
            "subnet_id": _t(["string", "null"], "Its subnet."),
            "status": _t(["string", "null"], "Its status."),
            "zone": {"enum": ["az-local", "cross-az", "unknown"], "description": "Relative to the agent's AZ."},
        },
        closed=closed,
    )
    return _obj(
        {
            "vpc_id": _t("string", "The VPC."),
            "vpc_endpoint_id": _t(["string", "null"], "The matched VPC endpoint (null: the VPC has none)."),
            "type": _t("string", "The endpoint's type as AWS reports it (interface, gateway, ...)."),
            "service": _t("string", "Its service name."),
            "state": _t("string", "Its State (available, pending, ...)."),
            "private_dns_enabled": _t("boolean", "PrivateDnsEnabled."),
            "subnet_ids": _strings("Its subnets."),
            "security_group_ids": _strings("Its security groups."),
            "route_table_ids": _strings("Its route tables (gateway endpoints)."),
            "network_interfaces": {"type": "array", "items": eni, "description": "Its ENIs."},
            "agent_az": _t(["string", "null"], "The agent's AZ, when known."),
            "agent_az_id": _t(["string", "null"], "The agent's AZ id, when known (zones are compared by id)."),
            "regional_dns_name": _t("string", "Interface endpoints: the vpce-… regional name."),
            "zonal_dns_names": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Interface endpoints: AZ -> the zonal vpce-… name.",
            },
            "security_groups": {"$ref": "#/$defs/security_groups"},
            "prefix_list": _nullable(
                _obj(
                    {"id": _t("string", "pl-…"), "name": _t("string", "The name."), "cidrs": _strings("Its CIDRs.")},
                    ["id", "name", "cidrs"],
                    closed=closed,
                ),
                "Gateway endpoints: the service's prefix list.",
            ),
            "policy_default": _t(
                ["boolean", "null"],
                "The endpoint policy grants every action to every principal (the default); null: the endpoint "
                "has no policy (a service without endpoint policies).",
            ),
            "policy": _t("object", "The endpoint policy (PolicyDocument), present when it is not the default."),
        },
        ["vpc_id", "vpc_endpoint_id"],
        closed=closed,
        description="What the AWS APIs say about the endpoint (present when the control plane was read).",
    )


def _address(closed: bool) -> Schema:
    ms = ["number", "null"]
    return _obj(
        {
            "address": _t("string", "The address."),
            "az": _t(["string", "null"], "Its AZ (from the control plane), when known."),
            "private": _t("boolean", "A private (RFC 1918, RFC 6598, ULA, ...) address."),
            "in_vpc": _t(
                ["boolean", "null"], "Inside the VPC's CIDRs or its declared hub's (null: the CIDRs are unknown)."
            ),
            "tcp_ms": _t(ms, "Connect time in ms, when the connect succeeded."),
            "tls_ms": _t(ms, "Handshake time in ms, when the handshake completed."),
            "http_status": _t(["integer", "null"], "The HTTP status, when an HTTP phase answered."),
            "http_ms": _t(ms, "Time to the HTTP response in ms."),
            "names": _strings("The DNS names that answered with it (empty: an expected ENI no name answered)."),
            "expected": _t(["boolean", "null"], "One of the expected ENI addresses (null: none are known)."),
            "probed": _t("boolean", "Whether it was probed."),
            "skip_reason": _t("string", "Why it was not probed."),
            "tcp": _obj(
                {
                    "status": {"enum": [s.value for s in TcpStatus]},
                    "port": {"type": "integer"},
                    "ms": {"type": "number"},
                    "error": {"type": "string"},
                },
                ["status", "port", "ms", "error"],
                closed=closed,
                description="The TCP phase.",
            ),
            "tls": _obj(
                {
                    "status": {"enum": [s.value for s in TlsStatus]},
                    "ms": _t(ms, "Handshake time."),
                    "version": _t("string", "TLSv1.3, ..."),
                    "cipher": _t("string", "The cipher suite."),
                    "subject": _t("string", "The certificate's subject."),
                    "names": _strings("The certificate's DNS names."),
                    "not_after": _t(["string", "null"], "The certificate's expiry (ISO 8601)."),
                    "verify_code": _t(["integer", "null"], "OpenSSL's verification error, when verification failed."),
                    "error": {"type": "string"},
                },
                ["status", "ms", "version", "cipher", "subject", "names", "not_after", "verify_code", "error"],
                closed=closed,
                description="The TLS phase (absent when TCP failed or the endpoint has no TLS).",
            ),
            "http": _obj(
                {
                    "status": {"enum": [s.value for s in HttpStatus]},
                    "status_code": {"type": ["integer", "null"]},
                    "ms": {"type": "number"},
                    "connect_ms": {"type": ms},
                    "tls_ms": {"type": ms},
                    "ttfb_ms": {"type": ms},
                    "error": {"type": "string"},
                },
                ["status", "status_code", "ms", "connect_ms", "tls_ms", "ttfb_ms", "error"],
                closed=closed,
                description="The HTTP phase (absent without an http expectation).",
            ),
            "signed": _obj(
                {
                    "status": {"enum": [s.value for s in SignedStatus]},
                    "call": _t("string", "The API call made (sqs:ListQueues)."),
                    "action": _t("string", "The IAM action it needs."),
                    "ms": _t(ms, "Time from sending the signed request to the answer."),
                    "status_code": _t(["integer", "null"], "The HTTP status of AWS's answer."),
                    "error_code": _t("string", "AWS's error code (AccessDenied, ThrottlingException, ...)."),
                    "message": _t("string", "AWS's error message, as sent."),
                    "request_id": _t("string", "AWS's request id."),
                    "denied_by": _nullable(
                        {"enum": [p.value for p in PolicyType]}, "The kind of policy the denial names."
                    ),
                    "explicit": _t(["boolean", "null"], "An explicit Deny (true) or no Allow (false)."),
                    "via": _nullable(
                        {"enum": [p.value for p in PolicyType]},
                        "The policy a deny was reached through ('... transitively through a service control policy').",
                    ),
                    "policy_arn": _t("string", "The denying policy's ARN, when AWS gives it."),
                    "principal": _t("string", "Who was denied, as AWS names it."),
                    "error": _t("string", "What went wrong on the agent's side (credentials, connection)."),
                },
                [
                    "status",
                    "call",
                    "action",
                    "ms",
                    "status_code",
                    "error_code",
                    "message",
                    "request_id",
                    "denied_by",
                    "explicit",
                    "via",
                    "policy_arn",
                    "principal",
                    "error",
                ],
                closed=closed,
                description="The signed AWS call through the address (only with authorize).",
            ),
        },
        [
            "address",
            "az",
            "private",
            "in_vpc",
            "tcp_ms",
            "tls_ms",
            "http_status",
            "http_ms",
            "names",
            "expected",
            "probed",
        ],
        closed=closed,
        description="One address a name answered (or an expected ENI), and how its probes went.",
    )


def _endpoint(closed: bool) -> Schema:
    dns = _obj(
        {
            "name": _t("string", "The name asked."),
            "answers": _strings("The addresses answered."),
            "cname_chain": _strings("The CNAME targets followed, in order."),
            "rcode": _t("string", "NOERROR, NXDOMAIN, ...; empty when nothing answered."),
            "ms": _t("number", "Time in ms."),
            "status": {"enum": [s.value for s in DnsStatus]},
            "nameserver": _t("string", "Who answered (an address, or system)."),
            "error": _t("string", "What went wrong."),
        },
        ["name", "answers", "cname_chain", "rcode", "ms", "status", "nameserver", "error"],
        closed=closed,
    )
    return _obj(
        {
            "name": _t("string", "The endpoint's name in the topology."),
            "type": {"enum": ["interface", "gateway", "service", "gatewayloadbalancer"]},
            "service": _t(["string", "null"], "The AWS service name."),
            "healthy": _t("boolean", "No error finding."),
            "dns_private": _t("boolean", "Every name answered, only with private addresses of this VPC."),
            "reachable": _t("number", "Fraction of probed addresses whose probes all passed.", minimum=0, maximum=1),
            "ms": _t(["number", "null"], "Time spent on the endpoint in ms."),
            "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
            "dns": {"type": "array", "items": dns, "description": "One entry per DNS name."},
            "addresses": {"type": "array", "items": {"$ref": "#/$defs/address"}},
            "aws": {"$ref": "#/$defs/aws"},
        },
        ["name", "type", "service", "healthy", "dns_private", "reachable", "ms", "findings", "dns", "addresses"],
        closed=closed,
        description="Everything seen about one endpoint, and the verdict.",
    )


def _agent(closed: bool) -> Schema:
    return _obj(
        {
            "hostname": _t("string", "The machine's host name."),
            "mode": {"enum": ["cli", "diagnose", "agent", "lambda"], "description": "Which shell ran it."},
            "source": _t("string", "Where the facts below came from (flags, env, imds, lambda, ...)."),
            "address": _t("string", "The agent's private address."),
            "ipv6_address": _t("string", "The agent's IPv6 address."),
            "subnet_id": _t("string", "The agent's subnet."),
            "subnet_ids": _strings("A Lambda's subnets (any of them may run it), when no single one is known."),
            "az": _t("string", "The agent's AZ."),
            "az_id": _t("string", "The agent's AZ id."),
            "instance_id": _t("string", "The EC2 instance."),
            "function_name": _t("string", "The Lambda function."),
            "security_group_ids": _strings("The agent's security groups."),
            "notes": _strings("What could not be known of where the agent stands, and how to tell it."),
        },
        closed=closed,
        description="Where the run ran (what is known of it).",
    )


def _loop(closed: bool) -> Schema:
    count = {"type": "integer", "minimum": 0}
    cloudwatch = _obj(
        {
            "sent": count | {"description": "Datums CloudWatch accepted."},
            "calls": count | {"description": "PutMetricData calls that succeeded."},
            "attempts": count | {"description": "Calls made, retries included."},
            "failed": count | {"description": "Datums not sent this time."},
            "dropped": count | {"description": "Datums thrown away (the buffer was full): MetricsDropped."},
            "buffered": count | {"description": "Datums kept for the next publish."},
            "error": _t(["string", "null"], "The last error."),
        },
        ["sent", "calls", "attempts", "failed", "dropped", "buffered", "error"],
        closed=closed,
    )
    publish = _obj(
        {
            "mode": {"enum": ["cloudwatch", "emf", "none"]},
            "datums": count | {"description": "Datums of the run."},
            "ok": _t("boolean", "Everything was published."),
            "emf_lines": count | {"description": "EMF lines written."},
            "fallback": _t("boolean", "Datums PutMetricData could not take went out as EMF lines."),
            "error": _t(["string", "null"], "What failed."),
            "cloudwatch": cloudwatch,
        },
        ["mode", "datums", "ok", "emf_lines", "fallback", "error"],
        closed=closed,
    )
    return _obj(
        {
            "run": count | {"description": "The run's number since the agent started."},
            "failures": count | {"description": "Runs that failed (raised, hung, bad topology) since it started."},
            "written_at": _t("string", "When this file was written (ISO 8601, UTC).", format="date-time"),
            "publish": _nullable(publish, "How the previous publish went (null before the first)."),
        },
        ["run", "failures", "written_at", "publish"],
        closed=closed,
        description="The EC2 agent only (its state file and GET /report): the loop's own state.",
    )


def _usage(closed: bool, extra: Mapping[str, Schema] | None = None) -> Schema:
    usd = _t(["number", "null"], "Dollars a month, to the cent (null: no price for the Region).")
    peak = _obj(
        {
            "value": _t("number", "The peak value."),
            "at": _t("string", "The minute (or hour) it fell in (ISO 8601, UTC).", format="date-time"),
            "resolution_s": _t("integer", "60: the minute is known; 3600: only the hour."),
        },
        ["value", "at", "resolution_s"],
        closed=closed,
    )
    cost = _obj(
        {
            "vpc_endpoint_id": _t("string", "The endpoint."),
            "az_attachments": _t("integer", "AZs it is billed in, every hour."),
            "gb_month": _t("number", "GB (2^30 bytes) a month at the window's rate."),
            "fixed_usd": _t("number", "AZ attachments x 730 h x the hourly price."),
            "data_usd": _t("number", "Its share of the tiered data-processing charge."),
            "monthly_usd": _t("number", "Fixed plus data."),
        },
        ["vpc_endpoint_id", "az_attachments", "gb_month", "fixed_usd", "data_usd", "monthly_usd"],
        closed=closed,
    )
    endpoint = _obj(
        {
            "name": _t("string", "The topology's name for it, else its id."),
            "vpc_endpoint_id": _t("string", "The endpoint."),
            "type": _t("string", "interface, gateway, gatewayloadbalancer, ..."),
            "service": _t("string", "Its service name."),
            "azs": _strings("The AZs it is attached in."),
            "metrics": _nullable(
                {"type": "object", "additionalProperties": {"type": "number"}},
                "AWS/PrivateLinkEndpoints totals in the window (ActiveConnections: the peak); null: no metrics.",
            ),
            "peaks": {
                "type": "object",
                "additionalProperties": peak,
                "description": "PacketsDropped / RstPacketsReceived: the peak minute of the busiest hour.",
            },
            "cost": _nullable(cost, "Its month (null: gateway endpoints are free, or no price)."),
            "note": _t("string", "Why there are no metrics."),
        },
        ["name", "vpc_endpoint_id", "type", "service", "azs", "metrics", "peaks", "cost"],
        closed=closed,
    )
    subnet = _obj(
        {
            "subnet_id": _t("string", "The subnet."),
            "az": _t("string", "Its AZ."),
            "cidr": _t("string", "Its CIDR."),
            "available_addresses": _t("integer", "AvailableIpAddressCount."),
            "usable_addresses": _t("integer", "Its addresses less the 5 AWS keeps."),
        },
        ["subnet_id", "az", "cidr", "available_addresses", "usable_addresses"],
        closed=closed,
    )
    tier = _obj(
        {"up_to_gb": _t(["integer", "null"], "The tier's top (null: none)."), "usd": _t("string", "$ per GB.")},
        ["up_to_gb", "usd"],
        closed=closed,
    )
    price = _obj(
        {
            "region": _t("string", "The Region."),
            "usd_per_az_hour": _t("string", "$ per endpoint per AZ-hour."),
            "usd_per_gb": {"type": "array", "items": tier, "description": "The data-processing tiers."},
            "source": _t("string", "Where the figures come from, and when they were read."),
        },
        ["region", "usd_per_az_hour", "usd_per_gb", "source"],
        closed=closed,
    )
    count = {"type": "integer", "minimum": 0}
    return _obj(
        {
            "vpc_id": _t("string", "The VPC."),
            "region": _t("string", "Its Region."),
            "window": _obj(
                {
                    "start": _t("string", "ISO 8601, UTC.", format="date-time"),
                    "end": _t("string", "ISO 8601, UTC.", format="date-time"),
                    "days": _t("number", "Its length."),
                },
                ["start", "end", "days"],
                closed=closed,
            ),
            "price": _nullable(price, "The prices used (null: none for the Region)."),
            "monthly_usd": usd,
            "fixed_usd": usd,
            "data_usd": usd,
            "endpoints": {"type": "array", "items": endpoint},
            "subnets": {"type": "array", "items": subnet, "description": "The endpoints' subnets."},
            "quota": _obj(
                {
                    "quota": count,
                    "quota_source": {"enum": ["service-quotas", "default"]},
                    "quota_code": _t("string", "L-29B6F2EB."),
                    "detail": _t("string", "Why the default, when it was used."),
                    "interface_endpoints": count,
                },
                ["quota", "quota_source", "quota_code", "detail", "interface_endpoints"],
                closed=closed,
            ),
            "client_azs": {
                "type": "object",
                "additionalProperties": count,
                "description": "AZ -> workload network interfaces.",
            },
            "reads": _obj(
                {
                    "get_metric_data_calls": count,
                    "metrics_requested": count,
                    "usd": _t("number", "What the reads cost ($0.01 per 1,000 metrics requested)."),
                },
                ["get_metric_data_calls", "metrics_requested", "usd"],
                closed=closed,
            ),
            **(extra or {}),
        },
        [
            *(extra or {}),
            "vpc_id",
            "region",
            "window",
            "price",
            "monthly_usd",
            "fixed_usd",
            "data_usd",
            "endpoints",
            "subnets",
            "quota",
            "client_azs",
            "reads",
        ],
        closed=closed,
        description="What the endpoints carried over the window and what they cost a month (`check --usage`, "
        "`vpc-verify usage`). Reference: docs/guides/usage-and-cost.md.",
    )


def _defs(catalogue: Mapping[Code, CodeInfo], closed: bool) -> Schema:
    return {
        "usage": _usage(closed),
        "finding": _finding(catalogue, closed=closed),
        "endpoint": _endpoint(closed),
        "address": _address(closed),
        "aws": _aws_facts(closed),
        "security_groups": _security_groups(closed),
        "rule": _rule(closed),
        "agent": _agent(closed),
    }


def _derivation(strict: bool) -> Schema:
    """The report's `policy`: how a topology was derived from a fleet policy (or from AWS alone)."""
    required = _obj(
        {
            "service": _t("string", "The AWS service name."),
            "type": {"enum": ["interface", "gateway"]},
            "endpoint": _t("string", "Its name in the derived topology (and in `endpoints`)."),
            "present": _t("boolean", "The VPC has an endpoint for it (ENDPOINT_MISSING when not)."),
            "azs": _strings("The AZ ids it must cover (ENDPOINT_AZ_MISSING for each it does not)."),
        },
        ["service", "type", "endpoint", "present", "azs"],
        closed=strict,
    )
    return _obj(
        {
            "source": _t("string", "The policy's location, or <every endpoint AWS reports> without one."),
            "class": _t(["object", "null"], "The class of the policy that applied (its keys as in the policy)."),
            "vpc_tags": {"type": "object", "additionalProperties": {"type": "string"}, "description": "The VPC's."},
            "exempt": _strings("The services the VPC's exemption tag names."),
            "required": {"type": "array", "items": required, "description": "What the class requires."},
            "notes": _strings("What the derivation could not do as asked, in words."),
            "topology": _t("object", "The derived topology, a topology document (docs/topology.md)."),
        },
        ["source", "class", "vpc_tags", "exempt", "required", "notes", "topology"],
        closed=strict,
        description="`check --policy` (or no topology): how the topology was derived. Absent with --topology.",
    )


def report(catalogue: Mapping[Code, CodeInfo] = CATALOGUE, *, strict: bool = False) -> Schema:
    """The schema of `vpc-verify check --format json` (and --output, the agent's /report and state file)."""
    body = _obj(
        {
            "version": {"const": 1, "description": "The report format version."},
            "healthy": _t("boolean", "Every endpoint healthy and no run-level error."),
            "started_at": _t("string", "When the run started (ISO 8601, UTC).", format="date-time"),
            "duration_ms": _t("number", "How long the run took."),
            "region": _t(["string", "null"], "The topology's region."),
            "vpc_id": _t(["string", "null"], "The topology's vpc.id."),
            "agent": {"$ref": "#/$defs/agent"},
            "endpoints": {"type": "array", "items": {"$ref": "#/$defs/endpoint"}},
            "findings": {
                "type": "array",
                "items": {"$ref": "#/$defs/finding"},
                "description": "All findings, flat: run-level ones first, then per endpoint in topology order.",
            },
            "loop": _loop(strict),
            "usage": {"$ref": "#/$defs/usage"},
            "policy": _derivation(strict),
        },
        ["version", "healthy", "started_at", "duration_ms", "region", "vpc_id", "agent", "endpoints", "findings"],
        closed=strict,
    )
    return {
        "$schema": DRAFT,
        "title": "vpc-verify report (version 1)",
        "description": "The JSON report of one run: `vpc-verify check --format json`. Reference: docs/report.md. "
        "Later releases may add keys; none is removed or changes meaning within version 1.",
        **body,
        "$defs": _defs(catalogue, strict),
    }


def diagnosis(catalogue: Mapping[Code, CodeInfo] = CATALOGUE, *, strict: bool = False) -> Schema:
    """The schema of `vpc-verify diagnose NAME --format json`."""
    zone = _obj(
        {
            "az": _t("string", "The AZ of the network interface."),
            "relation": {"enum": ["az-local", "cross-az", "unknown"], "description": "Relative to the agent."},
            "eni_id": _t("string", "The network interface."),
            "subnet_id": _t("string", "Its subnet."),
            "address": _t("string", "Its address."),
            "zonal_name": _t(["string", "null"], "The endpoint's zonal DNS name for the AZ."),
            "zonal_answers": _strings("What the zonal name answered."),
            "zonal_status": _t("string", "The zonal name's DNS status."),
            "zonal_ok": _t("boolean", "The zonal name answered exactly this ENI's address."),
            "probe": _t("string", "How a probe of the address went, in words."),
        },
        [
            "az",
            "relation",
            "eni_id",
            "subnet_id",
            "address",
            "zonal_name",
            "zonal_answers",
            "zonal_status",
            "zonal_ok",
            "probe",
        ],
        closed=strict,
    )
    body = _obj(
        {
            "endpoint": {"$ref": "#/$defs/endpoint"},
            "healthy": _t("boolean", "No error on the endpoint or the VPC, and every zonal name answered its ENI."),
            "agent": {"$ref": "#/$defs/agent"},
            "run_findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
            "zones": {"type": "array", "items": zone, "description": "Per AZ: the endpoint's ENI there."},
            "regional_dns": _nullable(
                _obj(
                    {
                        "name": {"type": "string"},
                        "answers": _strings("What it answered."),
                        "status": {"enum": [s.value for s in DnsStatus]},
                    },
                    ["name", "answers", "status"],
                    closed=strict,
                ),
                "The endpoint's regional vpce-… name and what it answered.",
            ),
            "next_steps": _strings("The fixes to try, most fundamental first."),
        },
        ["endpoint", "healthy", "agent", "run_findings", "zones", "regional_dns", "next_steps"],
        closed=strict,
    )
    return {
        "$schema": DRAFT,
        "title": "vpc-verify diagnosis",
        "description": "One endpoint in depth: `vpc-verify diagnose NAME --format json`. Reference: "
        "docs/guides/on-call.md.",
        **body,
        "$defs": _defs(catalogue, strict),
    }


def usage(catalogue: Mapping[Code, CodeInfo] = CATALOGUE, *, strict: bool = False) -> Schema:
    """The schema of `vpc-verify usage --format json`."""
    extra: dict[str, Schema] = {
        "version": {"const": 1, "description": "The format version."},
        "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
    }
    body = _usage(strict, extra)
    return {
        "$schema": DRAFT,
        "title": "vpc-verify usage",
        **body,
        "description": "What a VPC's endpoints carried and cost, and what to change: `vpc-verify usage --format "
        "json`. Reference: docs/guides/usage-and-cost.md.",
        "$defs": _defs(catalogue, strict),
    }


STATUS_NAMES = ("unhealthy", "silent", "healthy")


def fleet(*, strict: bool = False) -> Schema:
    """The schema of `vpc-verify fleet --format json`."""
    missing = _obj(
        {
            "endpoint": _t("string", "Its name in the VPC's derived topology."),
            "service": _t("string", "The AWS service name."),
            "type": _t("string", "interface or gateway."),
            "command": _t("string", "The AWS CLI command that creates it."),
        },
        ["endpoint", "service", "type", "command"],
        closed=strict,
    )
    vpc = _obj(
        {
            "account": _t(["string", "null"], "The account (from OwningAccounts, or the report's location)."),
            "region": _t(["string", "null"], "The Region."),
            "vpc_id": _t("string", "The VPC."),
            "status": {"enum": ["unhealthy", "silent", "healthy"], "description": "silent: nothing in the window."},
            "last_seen": _t("string", "When its latest run started (ISO 8601, UTC).", format="date-time"),
            "endpoints": _t(["integer", "null"], "How many endpoints its run checked (from a report)."),
            "endpoints_unhealthy": _t(["integer", "null"], "How many were unhealthy."),
            "unhealthy_endpoints": _strings("Their names."),
            "codes": _strings("The error finding codes of its latest report."),
            "missing": {"type": "array", "items": missing, "description": "Required endpoints it lacks."},
            "policy_class": _t(["string", "null"], "The fleet policy's class that applied."),
            "sources": _strings("Where its result came from: metrics, and the report's location."),
        },
        [
            "account",
            "region",
            "vpc_id",
            "status",
            "last_seen",
            "endpoints",
            "endpoints_unhealthy",
            "unhealthy_endpoints",
            "codes",
            "missing",
            "policy_class",
            "sources",
        ],
        closed=strict,
    )
    counts = _obj({k: {"type": "integer"} for k in STATUS_NAMES}, list(STATUS_NAMES), closed=strict)
    body = _obj(
        {
            "version": {"const": 1, "description": "The format version."},
            "generated_at": _t("string", "When the fleet report was made.", format="date-time"),
            "stale_after_s": _t("number", "A VPC with nothing newer is silent (--stale)."),
            "healthy": _t("boolean", "At least one VPC seen, and every VPC healthy."),
            "counts": counts,
            "sources": _strings("What was read."),
            "notes": _strings("What could not be read (a broken report is skipped, never the end)."),
            "vpcs": {"type": "array", "items": vpc, "description": "Unhealthy first, then silent, then healthy."},
        },
        ["version", "generated_at", "stale_after_s", "healthy", "counts", "sources", "notes", "vpcs"],
        closed=strict,
    )
    return {
        "$schema": DRAFT,
        "title": "vpc-verify fleet report (version 1)",
        "description": "Every VPC's last result: `vpc-verify fleet --format json`. Reference: docs/guides/fleet.md.",
        **body,
    }


SCHEMAS = {
    "topology": topology,
    "policy": policy,
    "report": report,
    "diagnosis": diagnosis,
    "usage": usage,
    "fleet": fleet,
}
