"""The registry: every judgment rule, in the order its findings appear in a report.

A new judgment is one rule in one of these modules (or a new module) and one line here; nothing else
changes. Data-plane rules come first, then the control plane's, so a report reads from symptom to cause.
Publish rules judge what publishing the report did (vpc_verify.publishing), after the run.
"""

from __future__ import annotations

from vpc_verify.judge.rule import EndpointRule, PublishRule, RunRule
from vpc_verify.judge.rules import (
    answers,
    authorization,
    capacity,
    dns,
    endpoint,
    families,
    flowlogs,
    gateway,
    hub,
    lattice,
    names,
    probes,
    resolver,
    run_state,
    security,
    telemetry,
    usage,
    vpc,
)

ENDPOINT_RULES: tuple[EndpointRule, ...] = (
    dns.unresolved,
    answers.public_address,
    answers.outside_vpc,
    answers.unexpected_address,
    answers.missing_address,
    names.uncovered,
    families.own_names,
    resolver.firewall,
    resolver.forwarded,
    resolver.shadowed,
    resolver.custom_resolver,
    probes.connect,
    probes.handshake,
    probes.http_exchange,
    probes.latency,
    authorization.signed_call,
    run_state.ending,
    endpoint.missing,
    hub.unrouted,
    hub.hub_endpoint,
    hub.hub_groups,
    hub.hub_network_acls,
    hub.hub_unread,
    endpoint.availability,
    gateway.route,
    gateway.prefix_list,
    gateway.load_balancer_routes,
    lattice.port_not_shared,
    lattice.port_unverified,
    endpoint.private_dns,
    endpoint.azs,
    endpoint.agent_zone,
    security.endpoint_groups,
    security.agent_egress,
    security.network_acls,
    security.disagreement,
    flowlogs.coverage,
)

# What the endpoints carry and cost (`vpc-verify usage`, `check --usage`): silent unless the usage was read.
USAGE_RULES: tuple[RunRule, ...] = (
    usage.unread,
    usage.traffic,
    usage.placement,
    usage.gateway_instead,
    capacity.subnets,
    capacity.quota,
)

RUN_RULES: tuple[RunRule, ...] = (
    vpc.control_plane_unread,
    vpc.partial_read,
    vpc.profile_unverified,
    vpc.dns_attributes,
    vpc.unexpected_endpoints,
    *USAGE_RULES,
)

# After the run, about the agent's own telemetry: its path to the endpoints it publishes to, then the outcome.
PUBLISH_RULES: tuple[PublishRule, ...] = (
    telemetry.path,
    telemetry.publishing,
)
