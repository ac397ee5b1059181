"""The settings of a topology file with their defaults, ranges and meaning (`SETTINGS`), for the reference
documentation. The defaults and ranges themselves are vpc_verify.topology.model's; this table is apart from the
records so that loading a topology (on the way to the first packet) does not build it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vpc_verify.ranges import NumberRange
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
    LATENCY_BUDGET_MS_RANGE,
    PORT_RANGE,
    QUERIES_PER_SECOND_RANGE,
    TIMEOUT_MS_RANGE,
)


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting of the topology file: its default (None: no default), its range, what it means."""

    default: object
    meaning: str
    range: NumberRange | None = None


# Key paths as in error messages; `defaults.<key>` overrides an endpoint setting for every endpoint.
SETTINGS: Mapping[str, Setting] = {
    "allow_empty": Setting(
        DEFAULT_ALLOW_EMPTY, "accept a topology without endpoints (otherwise a configuration error)"
    ),
    "resolver.port": Setting(DEFAULT_RESOLVER_PORT, "the resolver's port", PORT_RANGE),
    "resolver.timeout_ms": Setting(DEFAULT_RESOLVER_TIMEOUT_MS, "per-question DNS timeout", TIMEOUT_MS_RANGE),
    "resolver.queries_per_second": Setting(
        DEFAULT_QUERIES_PER_SECOND,
        "DNS packets a second at most (A and AAAA count as two): the VPC resolver drops above 1024 per interface",
        QUERIES_PER_SECOND_RANGE,
    ),
    "hub": Setting(
        None,
        "a hub VPC holding the interface endpoints (centralised endpoints): its cidrs, vpc_id and a role_arn to "
        "read it with in another account; every interface and service endpoint uses it unless it says `hub: false`",
    ),
    "endpoints[].type": Setting(DEFAULT_TYPE, f"one of {', '.join(ENDPOINT_TYPES)}"),
    "endpoints[].dns_names": Setting(
        None,
        "the names to resolve; default for an AWS service: its private DNS name from vpc-verify's catalogue "
        "(a wildcard's under the label vpc-verify); a service the catalogue does not know has no default",
    ),
    "endpoints[].port": Setting(
        DEFAULT_PORT, "the TCP port probed (default 443; the catalogue's for a service on another: email-smtp 465)"
    ),
    "endpoints[].hub": Setting(
        None, "true (the file's hub), false (the endpoint is this VPC's), or a hub of its own {cidrs, vpc_id, role_arn}"
    ),
    "endpoints[].timeout_ms": Setting(DEFAULT_TIMEOUT_MS, "per-phase probe timeout", TIMEOUT_MS_RANGE),
    "endpoints[].latency_budget_ms": Setting(
        DEFAULT_LATENCY_BUDGET_MS, "connect+TLS time above which LATENCY_OVER_BUDGET is said", LATENCY_BUDGET_MS_RANGE
    ),
    "endpoints[].ip_address_type": Setting(
        None, "which records the DNS phase asks for; default dualstack when an address is IPv6, else ipv4"
    ),
    "endpoints[].tls.verify": Setting(DEFAULT_TLS_VERIFY, "verify the chain and the name"),
    "endpoints[].http.path": Setting(DEFAULT_HTTP_PATH, "the request path"),
    "endpoints[].http.method": Setting(DEFAULT_HTTP_METHOD, f"one of {', '.join(HTTP_METHODS)}"),
    "endpoints[].http.status": Setting(DEFAULT_HTTP_STATUS, "the statuses that count as healthy", HTTP_STATUS_RANGE),
    "endpoints[].authorize": Setting(
        DEFAULT_AUTHORIZE,
        "make one signed, read-only AWS call through each address (true: the call the service's table names; "
        "a mapping: call, params, action); --authorize turns it on wherever the file does not turn it off",
    ),
    "endpoints[].authorize.params": Setting({}, "the call's parameters (names as in the API, scalar values)"),
    "endpoints[].authorize.action": Setting(None, "the IAM action the call needs; default <service>:<Operation>"),
}
