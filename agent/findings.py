"""Findings: the stable codes (docs/findings.md), their severities, meanings and fixes, and the Finding record.

A Finding is the unit of judgment: every problem the agent sees, on the data plane or the control plane,
becomes one, made by exactly one rule (vpc_verify.judge). Codes are stable API (alarms and runbooks key on
them); messages and hints are for people. `CATALOGUE` is exhaustive over `Code` (a test holds it so) and is
the source of docs/findings.md and of `vpc-verify explain`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is: an endpoint with any ERROR is unhealthy."""

    ERROR = "error"
    WARNING = "warning"


class Code(StrEnum):
    """Every finding code; the JSON report carries the value (the same text)."""

    DNS_NXDOMAIN = "DNS_NXDOMAIN"
    DNS_NO_ANSWER = "DNS_NO_ANSWER"
    DNS_SERVFAIL = "DNS_SERVFAIL"
    DNS_TIMEOUT = "DNS_TIMEOUT"
    DNS_PUBLIC_ADDRESS = "DNS_PUBLIC_ADDRESS"
    DNS_OUTSIDE_VPC = "DNS_OUTSIDE_VPC"
    DNS_UNEXPECTED_ADDRESS = "DNS_UNEXPECTED_ADDRESS"
    DNS_MISSING_ADDRESS = "DNS_MISSING_ADDRESS"
    DNS_NAME_UNCOVERED = "DNS_NAME_UNCOVERED"
    DNS_RECORD_FAMILY = "DNS_RECORD_FAMILY"
    DNS_FIREWALL_BLOCKED = "DNS_FIREWALL_BLOCKED"
    DNS_FORWARDED = "DNS_FORWARDED"
    DNS_ZONE_SHADOWED = "DNS_ZONE_SHADOWED"
    DNS_PROFILE_UNVERIFIED = "DNS_PROFILE_UNVERIFIED"
    DNS_CUSTOM_RESOLVER = "DNS_CUSTOM_RESOLVER"
    TCP_TIMEOUT = "TCP_TIMEOUT"
    TCP_REFUSED = "TCP_REFUSED"
    TCP_UNREACHABLE = "TCP_UNREACHABLE"
    TLS_HANDSHAKE_FAILED = "TLS_HANDSHAKE_FAILED"
    TLS_CERT_UNTRUSTED = "TLS_CERT_UNTRUSTED"
    TLS_CERT_NAME_MISMATCH = "TLS_CERT_NAME_MISMATCH"
    TLS_CERT_EXPIRING = "TLS_CERT_EXPIRING"
    HTTP_UNEXPECTED_STATUS = "HTTP_UNEXPECTED_STATUS"
    HTTP_FAILED = "HTTP_FAILED"
    LATENCY_OVER_BUDGET = "LATENCY_OVER_BUDGET"
    ENDPOINT_MISSING = "ENDPOINT_MISSING"
    ENDPOINT_NOT_AVAILABLE = "ENDPOINT_NOT_AVAILABLE"
    ENDPOINT_UNEXPECTED = "ENDPOINT_UNEXPECTED"
    PRIVATE_DNS_DISABLED = "PRIVATE_DNS_DISABLED"
    VPC_DNS_SUPPORT_DISABLED = "VPC_DNS_SUPPORT_DISABLED"
    VPC_DNS_HOSTNAMES_DISABLED = "VPC_DNS_HOSTNAMES_DISABLED"
    ENDPOINT_AZ_MISSING = "ENDPOINT_AZ_MISSING"
    ENDPOINT_NOT_IN_AGENT_AZ = "ENDPOINT_NOT_IN_AGENT_AZ"
    SECURITY_GROUP_BLOCKS = "SECURITY_GROUP_BLOCKS"
    AGENT_EGRESS_BLOCKS = "AGENT_EGRESS_BLOCKS"
    NACL_BLOCKS = "NACL_BLOCKS"
    CONTROL_PLANE_DISAGREES = "CONTROL_PLANE_DISAGREES"
    GATEWAY_ROUTE_MISSING = "GATEWAY_ROUTE_MISSING"
    HUB_UNROUTED = "HUB_UNROUTED"
    HUB_ENDPOINT_MISSING = "HUB_ENDPOINT_MISSING"
    HUB_SECURITY_GROUP_BLOCKS = "HUB_SECURITY_GROUP_BLOCKS"
    HUB_NACL_BLOCKS = "HUB_NACL_BLOCKS"
    HUB_UNVERIFIED = "HUB_UNVERIFIED"
    GWLB_ENDPOINT_UNROUTED = "GWLB_ENDPOINT_UNROUTED"
    LATTICE_PORT_NOT_SHARED = "LATTICE_PORT_NOT_SHARED"
    LATTICE_PORT_UNVERIFIED = "LATTICE_PORT_UNVERIFIED"
    GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST = "GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST"
    ENDPOINT_POLICY_DENIES = "ENDPOINT_POLICY_DENIES"
    IDENTITY_POLICY_DENIES = "IDENTITY_POLICY_DENIES"
    SIGNED_CALL_THROTTLED = "SIGNED_CALL_THROTTLED"
    SIGNED_CALL_INCONCLUSIVE = "SIGNED_CALL_INCONCLUSIVE"
    SIGNED_CALL_FAILED = "SIGNED_CALL_FAILED"
    TELEMETRY_PATH_PUBLIC = "TELEMETRY_PATH_PUBLIC"
    TELEMETRY_PATH_BROKEN = "TELEMETRY_PATH_BROKEN"
    PUBLISH_FAILED = "PUBLISH_FAILED"
    CHECK_ERROR = "CHECK_ERROR"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    AWS_API_ERROR = "AWS_API_ERROR"
    AWS_API_UNREACHABLE = "AWS_API_UNREACHABLE"
    AWS_READ_PARTIAL = "AWS_READ_PARTIAL"
    ENDPOINT_IDLE = "ENDPOINT_IDLE"
    ENDPOINT_PACKETS_DROPPED = "ENDPOINT_PACKETS_DROPPED"
    ENDPOINT_RESETS_RECEIVED = "ENDPOINT_RESETS_RECEIVED"
    ENDPOINT_CROSS_AZ = "ENDPOINT_CROSS_AZ"
    ENDPOINT_GATEWAY_WOULD_DO = "ENDPOINT_GATEWAY_WOULD_DO"
    SUBNET_ADDRESSES_LOW = "SUBNET_ADDRESSES_LOW"
    ENDPOINT_QUOTA_NEAR = "ENDPOINT_QUOTA_NEAR"
    USAGE_UNREAD = "USAGE_UNREAD"
    FLOW_LOGS_NOT_COVERED = "FLOW_LOGS_NOT_COVERED"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What a finding code means, how bad it is, the fix to try first, and the evidence keys it carries."""

    severity: Severity
    meaning: str
    hint: str
    evidence: Mapping[str, str] = field(default_factory=dict)  # key -> what it holds


E, W = Severity.ERROR, Severity.WARNING

# Evidence keys shared by several codes (what each key holds; docs/findings.md lists them per code).
_DNS_EVIDENCE = {
    "name": "the DNS name asked",
    "status": "the DNS outcome: nxdomain, nodata, servfail, refused, timeout or error",
    "rcode": "the response code (NOERROR, NXDOMAIN, SERVFAIL, REFUSED), empty when nothing answered",
    "cname_chain": "the CNAME targets followed before the failure, in order",
    "nameserver": "the resolver that answered (an address, or system for the system resolver)",
    "ms": "time spent on the name, in milliseconds",
    "error": "what went wrong, in words (timeout detail, malformed answer, CNAME loop)",
    "created_s_ago": "control plane: seconds since the endpoint was created, when recent (DNS may be propagating)",
}
_ANSWER_EVIDENCE = {
    "names": "the endpoint's DNS names that answered with this address",
    "cname_chain": "per name, the CNAME chain that led to the address",
}
_JOINED_DNS_EVIDENCE = {
    "created": "control plane: when the endpoint was created (ISO 8601), when recent",
    "created_s_ago": "control plane: seconds since it was created: private DNS may still be propagating",
    "vpc_id": "control plane: the VPC",
    "enableDnsSupport": "control plane: the VPC's enableDnsSupport attribute",
    "enableDnsHostnames": "control plane: the VPC's enableDnsHostnames attribute",
    "vpc_endpoint_id": "control plane: the VPC endpoint for the service (null: the VPC has none)",
    "PrivateDnsEnabled": "control plane: the endpoint's PrivateDnsEnabled (absent when there is no endpoint)",
    "PrivateDnsOnlyForInboundResolverEndpoint": "control plane: true when the service's names answer the gateway "
    "endpoint inside the VPC by design (S3, DynamoDB)",
}
_TCP_EVIDENCE = {
    "port": "the TCP port dialled",
    "status": "the connect outcome: timeout, refused, unreachable or error",
    "ms": "time until the connect gave up or failed, in milliseconds",
    "error": "the socket error, in words",
    "names": "the endpoint's DNS names that answered with this address",
}
_FLOW_EVIDENCE = {
    "flow_logs": "with --evidence flowlogs: what the VPC's flow-log records of this probe prove (verdict: "
    "reject-inbound, reject-reply, reject-agent-outbound, reject-agent-inbound, accepted-no-reply, "
    "accepted-both-ways, not-covered, no-record or unread; source_address, source_port, eni_id, covered_by, "
    "records, query: the window, log groups, calls and events scanned; error)",
}
_SG_EVIDENCE = {
    "vpc_endpoint_id": "the VPC endpoint",
    "security_group_ids": "the endpoint's security groups",
    "port": "the TCP port the rules were evaluated for",
    "verdict": "whether their inbound rules admit the agent on the port: admits, blocks or unknown",
    "agent_source": "the agent's source networks the rules were evaluated against",
    "agent_source_precision": "how precisely the agent's source is known: address, subnet or vpc",
    "agent_security_group_ids": "the agent's own security groups (null when unknown)",
    "inbound_rules": "every inbound rule of the endpoint's groups (group_id, ports, source, description)",
    "admitting_rules": "the rules that admit the agent on the port",
    "possibly_admitting_rules": "the rules that may admit it (the agent's place is not known precisely enough)",
}
_GATEWAY_TIMEOUT_EVIDENCE = {
    "prefix_list_id": "control plane, gateway endpoint: the service's prefix list",
    "agent_subnet_id": "control plane, gateway endpoint: the agent's subnet (null when unknown)",
    "route_table_id": "control plane, gateway endpoint: the route table of the agent's subnet (null when unknown)",
    "route_via_endpoint": "control plane, gateway endpoint: whether that table routes the prefix list via the endpoint",
}
_TLS_EVIDENCE = {
    "server_name": "the name sent as SNI and checked against the certificate",
    "status": "the handshake outcome: untrusted, name_mismatch, timeout, failed or ok (for an expiring certificate)",
    "verify_code": "OpenSSL's verification result code, when verification failed",
    "error": "the TLS error, in words",
    "cert_subject": "the certificate's subject, when one was received",
    "cert_names": "the names the certificate covers (subjectAltName DNS entries)",
    "cert_not_after": "the certificate's expiry (ISO 8601)",
    "handshake_ms": "time of the TLS handshake, in milliseconds (null when it did not complete)",
    "peer_chain_length": "how many certificates the server sent (null when unknown)",
    "peer_issuer": "the issuer of the last certificate the server sent (a missing intermediate or an unknown CA)",
    "first_bytes": "the server's first bytes, printable, when it did not answer TLS (SSH-2.0-..., HTTP/1.1 ...)",
    "protocol_offered": "the TLS version the server offered, when it offered only one older than TLS 1.2",
    "bytes_received": "how many bytes the server sent during the handshake",
}
_HTTP_EVIDENCE = {
    "status": "the request's outcome: ok, timeout or failed",
    "status_code": "the HTTP status received (null when none)",
    "ms": "time until the response or the failure, in milliseconds",
    "path": "the request path (query values redacted)",
    "expected": "the statuses that count as healthy (http.status)",
    "error": "what went wrong, in words (redacted)",
    "stalled_status": "the status that arrived before the body stalled (null otherwise)",
    "body_bytes": "how many body bytes arrived",
}
_VPC_DNS_EVIDENCE = {
    "vpc_id": "the VPC",
    "enableDnsSupport": "the VPC's enableDnsSupport attribute",
    "enableDnsHostnames": "the VPC's enableDnsHostnames attribute",
}
_SIGNED_EVIDENCE = {
    "call": "the API call made through the address (sqs:ListQueues)",
    "action": "the IAM action the call needs",
    "server_name": "the name the request was signed for and sent as SNI and Host",
    "status": "the outcome: denied, throttled, error, unsigned, timeout or failed",
    "status_code": "the HTTP status of AWS's answer (null when none came)",
    "error_code": "AWS's error code (AccessDenied, AccessDeniedException, ThrottlingException, ...)",
    "message": "AWS's error message, as sent",
    "request_id": "AWS's request id (for CloudTrail and AWS Support)",
    "ms": "time from sending the signed request to the answer or the failure, in milliseconds",
    "error": "what went wrong on the agent's side (no credentials, the connection), in words",
}
_DENIAL_EVIDENCE = {
    "denied_by": "the kind of policy AWS's message names: VPC endpoint policy, identity-based policy, service "
    "control policy, resource control policy, session policy, permissions boundary, resource-based policy",
    "explicit": "true for an explicit Deny, false when no statement allows the action (null: not said)",
    "via": "the policy the deny was reached through, for '... transitively through a service control policy'",
    "policy_arn": "the denying policy's ARN, when AWS gives it (same account or organization only)",
    "principal": "who was denied, as AWS's message names it",
}
_ENDPOINT_POLICY_EVIDENCE = {
    "vpc_endpoint_id": "the VPC endpoint (control plane, else from the endpoint's vpce-... DNS names; null: unknown)",
    "policy_default": "control plane: whether the endpoint's policy grants everything (null: not read)",
    "policy": "control plane: the endpoint's policy document (absent when not read)",
    "policy_statements": "control plane: the policy's statements whose Action or NotAction covers the call's action",
}
_TELEMETRY_EVIDENCE = {
    "service": "the agent's own telemetry service: monitoring (PutMetricData) or logs (EMF lines)",
    "url": "the endpoint URL the agent publishes to",
    "host": "its host name (or address)",
    "answers": "what the host name resolved to",
    "private": "whether every answer is private (in the VPC, or an RFC 1918 range)",
    "dns_status": "the DNS outcome (ok, nxdomain, timeout, ...; literal for an address in the URL)",
    "connect": "the connect outcome on the first answer (ok, timeout, refused, ...)",
    "tls": "the TLS handshake outcome (https only; null when none)",
    "error": "what failed, in words",
}
_ERROR_EVIDENCE = {
    "phase": "where it failed (dns, probe, the control-plane comparison, ...)",
    "error": "the exception's type",
    "detail": "the exception's message",
    "traceback": "the last frames of the traceback",
}
_USAGE_EVIDENCE = {
    "vpc_endpoint_id": "the VPC endpoint",
    "service": "its service name",
    "window": "the span the metrics cover (start, end, days)",
}
_COST_EVIDENCE = {
    "az_attachments": "the AZs (subnets) the endpoint is billed in, every hour",
    "monthly_usd": "the endpoint's month now: AZ attachments x 730 h x the hourly price + GB x the tiered price",
    "monthly_saving_usd": "what the recommended change saves a month, in dollars",
    "price_source": "where the prices come from (the package's table and its date, or the command line)",
}
_PEAK_EVIDENCE = {
    "peak": "the peak: value, the minute it fell in (at) and the resolution in seconds (60: a minute)",
    "new_connections": "new connections in the window",
    "bytes": "bytes processed in the window",
}


CATALOGUE: dict[Code, CodeInfo] = {
    Code.DNS_NXDOMAIN: CodeInfo(
        E,
        "the name does not exist",
        "Check the name for typos; for an interface endpoint, check that private DNS is enabled and that the "
        "VPC is associated with the private hosted zone.",
        evidence=_DNS_EVIDENCE,
    ),
    Code.DNS_NO_ANSWER: CodeInfo(
        E,
        "the name exists but has no A/AAAA record",
        "The zone has the name but no address record: check the record type and the private hosted zone.",
        evidence=_DNS_EVIDENCE,
    ),
    Code.DNS_SERVFAIL: CodeInfo(
        E,
        "the resolver failed (SERVFAIL/REFUSED)",
        "The resolver could not answer: check Route 53 Resolver rules, forwarders and DNSSEC for the zone.",
        evidence=_DNS_EVIDENCE,
    ),
    Code.DNS_TIMEOUT: CodeInfo(
        E,
        "no answer within the resolver timeout",
        "The resolver did not answer: check that the VPC resolver (base+2 or 169.254.169.253) is reachable "
        "and that enableDnsSupport is on. The VPC resolver also drops, silently, what a network interface sends "
        "it above 1024 packets a second (throttling; the ENI's other traffic counts, and a Lambda's ENI may be "
        "shared): if timeouts come in bursts, lower resolver.queries_per_second or --dns-queries-per-second.",
        evidence=_DNS_EVIDENCE,
    ),
    Code.DNS_PUBLIC_ADDRESS: CodeInfo(
        E,
        "an answer is a public address: private DNS is not in effect for this VPC",
        "Enable private DNS on the interface endpoint (and enableDnsHostnames/enableDnsSupport on the VPC); "
        "a custom resolver must forward the service's zone to the VPC resolver.",
        evidence={**_ANSWER_EVIDENCE, **_JOINED_DNS_EVIDENCE},
    ),
    Code.DNS_OUTSIDE_VPC: CodeInfo(
        E,
        "a private answer lies outside the VPC's CIDRs",
        "The name points at another VPC's endpoint or a stale private hosted zone: check which zone answers "
        "and remove or re-associate it.",
        evidence=_ANSWER_EVIDENCE,
    ),
    Code.DNS_UNEXPECTED_ADDRESS: CodeInfo(
        E,
        "an answer is not one of the expected ENI addresses",
        "The name resolves to an address that is not the endpoint's ENI: look for an overriding private "
        "hosted zone or a stale topology file (re-run `vpc-verify discover`).",
        evidence={
            **_ANSWER_EVIDENCE,
            "expected": "the expected ENI addresses (a Resource or ServiceNetwork endpoint's: its IP prefixes)",
        },
    ),
    Code.DNS_MISSING_ADDRESS: CodeInfo(
        W,
        "an expected ENI address is not in the answers",
        "An ENI of the endpoint is not served: check the endpoint's subnets and the topology file.",
        evidence={"answers": "the addresses the names did answer"},
    ),
    Code.DNS_NAME_UNCOVERED: CodeInfo(
        W,
        "a topology name is none of the service's private DNS names (nor an endpoint's own vpce-… name): the "
        "endpoint's private DNS does not answer it",
        "List the name the service's clients use (DescribeVpcEndpointServices PrivateDnsName; `vpc-verify discover` "
        "writes it); under a wildcard (*.dkr.ecr.<region>...) any label will do.",
        evidence={
            "name": "the topology's name",
            "service": "the service",
            "service_private_dns_names": "the service's private DNS names, wildcards included",
            "source": "where those come from: DescribeVpcEndpointServices, vpc-verify's catalogue and its version, "
            "or a Lattice endpoint's DescribeVpcEndpoints DnsEntries",
        },
    ),
    Code.DNS_RECORD_FAMILY: CodeInfo(
        E,
        "one of the endpoint's own names (regional or zonal vpce-… name) lacks the records of an address family its "
        "DnsRecordIpType creates, answers a family it creates none of, or answers another zone's ENI",
        "Clients of that family (or zone) get no answer or the wrong ENI: look for a private hosted zone or a "
        "Resolver rule answering the endpoint's own names, or set the endpoint's DnsRecordIpType "
        "(`aws ec2 modify-vpc-endpoint --dns-options DnsRecordIpType=dualstack`).",
        evidence={
            "name": "the endpoint's own name asked",
            "family": "the address family judged: IPv4 (A records) or IPv6 (AAAA records)",
            "record_type": "A or AAAA",
            "az": "the zone of a zonal name (null for the regional name)",
            "answers": "the name's answers of that family",
            "expected": "the ENI addresses of that family (in the name's zone) the records should hold",
            "DnsRecordIpType": "control plane: the endpoint's DnsRecordIpType (else its IpAddressType)",
        },
    ),
    Code.DNS_FIREWALL_BLOCKED: CodeInfo(
        E,
        "a wrong or missing answer, and a DNS Firewall rule associated with the VPC blocks the name (NODATA, "
        "NXDOMAIN, or an OVERRIDE CNAME): the first rule whose domain list matches decides",
        "Allow the name before the blocking rule (an ALLOW rule at a lower priority number, or a rule group "
        "associated at a lower priority), or take it out of the domain list.",
        evidence={
            "name": "the name asked",
            "firewall_rule_group_id": "the rule group",
            "association_id": "the group's association with the VPC",
            "rule_name": "the deciding rule",
            "rule_priority": "its priority in the group",
            "action": "BLOCK",
            "block_response": "NODATA, NXDOMAIN or OVERRIDE",
            "domain_list_id": "the domain list that matched",
            "override_domain": "the CNAME an OVERRIDE answers (null otherwise)",
        },
    ),
    Code.DNS_FORWARDED: CodeInfo(
        E,
        "a wrong or missing answer, and a Route 53 Resolver FORWARD rule associated with the VPC is the most "
        "specific match for the name: the VPC resolver sends it to the rule's targets instead of answering from "
        "the endpoint's private zone",
        "Add a SYSTEM rule for the service's name (so the VPC resolver answers it) and associate it with the VPC, "
        "or have the forwarder send the name back to an inbound Resolver endpoint.",
        evidence={
            "name": "the name asked",
            "resolver_rule": "the rule: resolver_rule_id, association_id, domain, rule_type, name, targets",
            "status": "what the name's DNS phase ended with",
        },
    ),
    Code.DNS_ZONE_SHADOWED: CodeInfo(
        E,
        "a wrong or missing answer, and a private hosted zone associated with the VPC covers the name without a "
        "record for it: the VPC resolver answers from that zone (NXDOMAIN), never from the endpoint's or public DNS",
        "Add the record to the zone (an alias to the endpoint's regional DNS name), or disassociate the zone from "
        "the VPC.",
        evidence={
            "name": "the name asked",
            "hosted_zone_id": "the zone",
            "zone": "its name",
            "owner": "the account or service that owns it",
            "profile_id": "the Route 53 Profile that shares the zone with the VPC (null: associated with the VPC)",
            "status": "what the name's DNS phase ended with",
        },
    ),
    Code.DNS_PROFILE_UNVERIFIED: CodeInfo(
        W,
        "the VPC's Route 53 Profile shares private hosted zones (or other DNS resources) that could not be read (a "
        "Profile shared from another account): the answers they give the VPC are unverifiable, not absent",
        "Let the agent read the Profile's zones (route53:GetHostedZone and route53:ListResourceRecordSets where they "
        "live), or check from the Profile owner's account.",
        evidence={
            "vpc_id": "the VPC",
            "profile_id": "the Profile",
            "profile_association_id": "its association with the VPC",
            "profile_name": "its association's name",
            "owner": "the account that owns the association",
            "resources": "the ARNs of what it shares (null: they could not be listed)",
            "unreadable_hosted_zones": "the zones whose name or records could not be read",
            "error": "why its resources could not be listed (null when they were)",
        },
    ),
    Code.DNS_CUSTOM_RESOLVER: CodeInfo(
        W,
        "a wrong or missing answer, and the VPC's DHCP option set gives clients DNS servers other than the VPC "
        "resolver: workloads ask those, which reach the endpoint's private zone only if they forward to it",
        "Forward the service's names (or amazonaws.com) from those servers to the VPC resolver (the VPC CIDR's "
        "base+2, or 169.254.169.253), or use AmazonProvidedDNS in the DHCP options.",
        evidence={
            "dhcp_options_id": "the VPC's DHCP option set",
            "domain_name_servers": "its domain-name-servers",
            "names": "the endpoint's names that were answered wrongly",
        },
    ),
    Code.TCP_TIMEOUT: CodeInfo(
        E,
        "connect timed out (security group / NACL drops)",
        "Packets are dropped: check that the endpoint's security group admits the port from this agent, "
        "then the subnets' network ACLs.",
        evidence={
            **_TCP_EVIDENCE,
            "vpc_endpoint_id": "control plane: the VPC endpoint (interface or gateway) the address belongs to",
            **{
                k: f"control plane, interface endpoint: {v}"
                for k, v in _SG_EVIDENCE.items()
                if k not in _TCP_EVIDENCE and k != "vpc_endpoint_id"
            },
            **_GATEWAY_TIMEOUT_EVIDENCE,
            **_FLOW_EVIDENCE,
            "path": "control plane: every piece of configuration between the agent and the address (its source, "
            "the endpoint's groups, the agent's egress, the network ACLs), each with its verdict",
        },
    ),
    Code.TCP_REFUSED: CodeInfo(
        E,
        "connection refused",
        "Something answered with a reset: the address is up but nothing listens on the port; check the "
        "port in the topology and the service behind the address.",
        evidence={**_TCP_EVIDENCE, **_FLOW_EVIDENCE},
    ),
    Code.TCP_UNREACHABLE: CodeInfo(
        E,
        "no route to the address",
        "There is no route from this agent to the address: check the route table of the agent's subnet.",
        evidence=_TCP_EVIDENCE,
    ),
    Code.TLS_HANDSHAKE_FAILED: CodeInfo(
        E,
        "the TLS handshake failed or timed out",
        "The port accepts TCP but does not complete TLS: check that it is a TLS port and that SNI is accepted.",
        evidence=_TLS_EVIDENCE,
    ),
    Code.TLS_CERT_UNTRUSTED: CodeInfo(
        E,
        "the chain does not verify against the trust store",
        "Check tls.ca_bundle (a private CA must be listed there) and the certificate's validity dates.",
        evidence=_TLS_EVIDENCE,
    ),
    Code.TLS_CERT_NAME_MISMATCH: CodeInfo(
        E,
        "the certificate does not cover the name asked for",
        "The server presents a certificate for another name: check tls.server_name and which service "
        "answers on this address.",
        evidence=_TLS_EVIDENCE,
    ),
    Code.TLS_CERT_EXPIRING: CodeInfo(
        W,
        "the certificate expires within 14 days",
        "Renew the certificate before it expires.",
        evidence=_TLS_EVIDENCE,
    ),
    Code.HTTP_UNEXPECTED_STATUS: CodeInfo(
        E,
        "the status is not among those expected",
        "Check the service's health and the path; or widen http.status in the topology if this is normal.",
        evidence=_HTTP_EVIDENCE,
    ),
    Code.HTTP_FAILED: CodeInfo(
        E,
        "the request failed or timed out after the handshake",
        "The service accepted TLS but did not answer HTTP in time: check the service behind the endpoint.",
        evidence=_HTTP_EVIDENCE,
    ),
    Code.LATENCY_OVER_BUDGET: CodeInfo(
        W,
        "connect+TLS exceeded the endpoint's budget",
        "Latency is above budget: compare per-AZ figures (cross-AZ answers add latency) and the service's load.",
        evidence={
            "tcp_ms": "connect time, in milliseconds (the second, unhurried measurement)",
            "tls_ms": "TLS handshake time, in milliseconds (the second, unhurried measurement)",
            "budget_ms": "the endpoint's latency_budget_ms",
            "az": "the address's availability zone, when known",
        },
    ),
    Code.ENDPOINT_MISSING: CodeInfo(
        E,
        "no VPC endpoint for the service in the VPC",
        "Create the VPC endpoint for the service in this VPC.",
        evidence={
            "vpc_id": "the VPC",
            "service": "the service the topology expects an endpoint for",
            "type": "the endpoint type the topology expects",
            "vpc_endpoints": "every endpoint the VPC has (id, service, type, state)",
        },
    ),
    Code.ENDPOINT_NOT_AVAILABLE: CodeInfo(
        E,
        "the endpoint's state is not `available`",
        "Wait for a pending endpoint; accept a pendingAcceptance one on the service side; recreate a failed one.",
        evidence={
            "vpc_endpoint_id": "the endpoint",
            "state": "its State (pending, pendingAcceptance, rejected, failed, expired, ...)",
            "last_error": "its LastError message, when AWS gives one",
        },
    ),
    Code.ENDPOINT_UNEXPECTED: CodeInfo(
        W,
        "the VPC has an endpoint that the topology does not list",
        "Add the endpoint to the topology (`vpc-verify discover`) or delete it if nobody uses it.",
        evidence={
            "vpc_endpoint_id": "the endpoint the topology does not list",
            "service": "its service",
            "type": "its type (Interface, Gateway, ...)",
            "state": "its State",
            "topology": "the topology file it is missing from",
        },
    ),
    Code.PRIVATE_DNS_DISABLED: CodeInfo(
        E,
        "the interface endpoint has private DNS off",
        "Enable private DNS: aws ec2 modify-vpc-endpoint --vpc-endpoint-id <id> --private-dns-enabled",
        evidence={
            "vpc_endpoint_id": "the endpoint",
            "PrivateDnsEnabled": "false",
            "names": "the topology's names that need private DNS",
            "service_private_dns_names": "the service's private DNS names",
            "verification_state": "a partner service's PrivateDnsNameVerificationState, when it is not verified",
        },
    ),
    Code.VPC_DNS_SUPPORT_DISABLED: CodeInfo(
        E,
        "enableDnsSupport is off",
        "aws ec2 modify-vpc-attribute --vpc-id <id> --enable-dns-support",
        evidence=_VPC_DNS_EVIDENCE,
    ),
    Code.VPC_DNS_HOSTNAMES_DISABLED: CodeInfo(
        E,
        "enableDnsHostnames is off (private DNS cannot work)",
        "aws ec2 modify-vpc-attribute --vpc-id <id> --enable-dns-hostnames",
        evidence=_VPC_DNS_EVIDENCE,
    ),
    Code.ENDPOINT_AZ_MISSING: CodeInfo(
        E,
        "an expected AZ has no endpoint network interface",
        "Add a subnet in that AZ to the endpoint: aws ec2 modify-vpc-endpoint --add-subnet-ids <subnet>",
        evidence={
            "vpc_endpoint_id": "the endpoint",
            "az": "the expected AZ (name or zone id) with no network interface",
            "subnet_ids": "the endpoint's subnets",
            "network_interfaces": "the endpoint's network interfaces (eni_id, az, subnet_id, address)",
            "subnets_in_az": "the VPC's subnets in that AZ, candidates for --add-subnet-ids",
        },
    ),
    Code.ENDPOINT_NOT_IN_AGENT_AZ: CodeInfo(
        W,
        "the interface endpoint has no network interface in the agent's AZ (compared by AZ id): every request "
        "crosses AZs, with cross-AZ data charges and added latency, and fails with that AZ",
        "Add a subnet of the agent's AZ to the endpoint: aws ec2 modify-vpc-endpoint --add-subnet-ids <subnet>",
        {
            "vpc_endpoint_id": "the interface endpoint",
            "agent_az": "the agent's AZ name (this account's)",
            "agent_az_id": "the agent's AZ id",
            "endpoint_az_ids": "the AZ ids of the endpoint's network interfaces",
            "subnets_in_agent_az": "the VPC's subnets in the agent's AZ",
        },
    ),
    Code.SECURITY_GROUP_BLOCKS: CodeInfo(
        E,
        "no rule of the endpoint's security groups admits the port from this agent (in the address family of "
        "the probe), and a connect timed out",
        "Add an inbound rule for the port from the agent's security group or address.",
        evidence={
            **_SG_EVIDENCE,
            "timed_out": "the addresses whose connects timed out (the packets agree)",
            "address_family": "4 or 6: the family the rules were judged for",
        },
    ),
    Code.AGENT_EGRESS_BLOCKS: CodeInfo(
        E,
        "no outbound rule of the agent's own security groups lets the port out to the address, and a connect timed out",
        "Add an outbound rule to the agent's security group: to the VPC's CIDRs (interface endpoints) or to the "
        "service's prefix list (gateway endpoints).",
        {
            "vpc_endpoint_id": "the endpoint",
            "agent_security_group_ids": "the agent's security groups",
            "port": "the TCP port",
            "destination": "the address the connect went to",
            "verdict": "blocks",
            "outbound_rules": "every outbound rule of the agent's groups",
            "admitting_rules": "none",
            "possibly_admitting_rules": "none",
            "prefix_list_id": "a gateway service's prefix list (null for an interface endpoint)",
        },
    ),
    Code.NACL_BLOCKS: CodeInfo(
        E,
        "a network ACL on the path denies the connection or its return traffic (stateless: both directions, "
        "ephemeral ports for the return), and a connect timed out",
        "Add an allow entry numbered below the blocking one (or fix the deny) in the network ACL it names.",
        {
            "network_acl_id": "the ACL",
            "subnet_id": "the subnet it applies to",
            "direction": "inbound | outbound",
            "leg": "request (to the port) | return (to the agent's ephemeral ports)",
            "peer": "the other end of the traffic judged",
            "ports": "the destination ports of the traffic judged",
            "verdict": "blocks",
            "rule": "the deciding entry (null: no entry admits it and the final * entry denies it)",
            "timed_out": "the addresses whose connect timed out",
            "vpc_endpoint_id": "the endpoint",
        },
    ),
    Code.CONTROL_PLANE_DISAGREES: CodeInfo(
        W,
        "the AWS configuration says the agent is blocked (a security group, its own egress or a network ACL), "
        "but the probes went through",
        "The packets win: the endpoint works from here. Tell vpc-verify where the agent stands (--subnet-id, "
        "--security-group-id) or look for a rule it cannot read (a group referenced across accounts).",
        {
            **_SG_EVIDENCE,
            "connected": "the addresses whose connect succeeded",
            "disagreements": "each piece of configuration that says the connection is blocked",
        },
    ),
    Code.GATEWAY_ROUTE_MISSING: CodeInfo(
        E,
        "the agent's route table has no route to the service's prefix list",
        "Associate the gateway endpoint with the agent subnet's route table.",
        evidence={
            "vpc_endpoint_id": "the gateway endpoint",
            "prefix_list_id": "the service's prefix list (null when unknown)",
            "endpoint_route_table_ids": "the route tables the endpoint is associated with",
            "agent_subnet_id": "the agent's subnet (null when unknown)",
            "route_table_id": "the route table of the agent's subnet (when known)",
            "routes": "that table's routes (destination, target, state) (when known)",
            "route_table_ids": "every route table of the VPC (when the agent's subnet is unknown)",
            "subnet_ids": "a Lambda's subnets whose route tables lack the route (any of them may run it)",
        },
    ),
    Code.HUB_UNROUTED: CodeInfo(
        E,
        "the endpoint lives in a hub VPC (topology `hub`), and the agent's route table sends the hub's CIDR nowhere "
        "private (no route, a blackhole, or an internet or NAT gateway); no connect to the hub went through",
        "Route the hub's CIDR to the transit gateway or peering connection that joins the VPCs: aws ec2 create-route "
        "--route-table-id <rtb-…> --destination-cidr-block <hub CIDR> --transit-gateway-id <tgw-…>",
        evidence={
            "hub_cidr": "the hub VPC's CIDR",
            "hub_vpc_id": "the hub VPC (null when the topology does not name it)",
            "route_table_id": "the agent's route table",
            "route": "the most specific route covering the hub CIDR (destination, target, state; null: none)",
        },
    ),
    Code.HUB_ENDPOINT_MISSING: CodeInfo(
        E,
        "the endpoint lives in a hub VPC (topology `hub.vpc_id`), and that VPC has no endpoint for the service",
        "Create the interface endpoint in the hub VPC (and share its name with the spokes), or correct `hub`.",
        evidence={
            "hub_vpc_id": "the hub VPC",
            "service": "the service",
            "vpc_endpoints": "the hub's endpoints (id, service, type, state)",
        },
    ),
    Code.HUB_SECURITY_GROUP_BLOCKS: CodeInfo(
        E,
        "the hub endpoint's security groups admit no traffic from the agent on the port, and the connects timed out",
        "Admit the spoke's CIDR (a security group in another VPC cannot be referenced over a transit gateway) on "
        "the port in the hub endpoint's group: aws ec2 authorize-security-group-ingress --group-id <sg-…> "
        "--protocol tcp --port <port> --cidr <spoke CIDR>",
        evidence={
            "hub_vpc_id": "the hub VPC",
            "vpc_endpoint_id": "the hub's endpoint",
            "security_groups": "its groups' verdict for the agent (groups, rules, the source judged)",
            "timed_out": "the addresses whose connect timed out",
        },
    ),
    Code.HUB_NACL_BLOCKS: CodeInfo(
        E,
        "the endpoint lives in a hub VPC, and a network ACL on the way denies the connection or its return traffic "
        "(the spoke agent subnet's, out to the hub and back in; the hub ENI subnet's, in from the spoke and back "
        "out), and a connect timed out",
        "Add an allow entry numbered below the blocking one (or fix the deny) in the network ACL it names; the hub's "
        "ACL must admit the spoke's CIDR on the port and let the return traffic out to the ephemeral ports.",
        {
            "hub_vpc_id": "the hub VPC",
            "vpc": "spoke (the agent's subnet) | hub (the hub endpoint ENI's subnet)",
            "network_acl_id": "the ACL",
            "subnet_id": "the subnet it applies to",
            "direction": "inbound | outbound",
            "leg": "request (to the port) | return (to the agent's ephemeral ports)",
            "peer": "the other end of the traffic judged",
            "ports": "the destination ports of the traffic judged",
            "verdict": "blocks",
            "rule": "the deciding entry with its rule_number (null: no entry admits it and the final * entry denies "
            "it)",
            "timed_out": "the addresses whose connect timed out",
            "vpc_endpoint_id": "the hub's endpoint (null when the hub was not read)",
        },
    ),
    Code.HUB_UNVERIFIED: CodeInfo(
        W,
        "the hub VPC the topology names could not be read with the agent's credentials (another account's VPC, or "
        "a denied call): its endpoint and security groups are unverified, not absent",
        "Read the hub from an account that can (its own agent), or drop `hub.vpc_id` to check the spoke's side only.",
        evidence={"hub_vpc_id": "the hub VPC", "error": "why it could not be read"},
    ),
    Code.GWLB_ENDPOINT_UNROUTED: CodeInfo(
        W,
        "a Gateway Load Balancer endpoint (a route target) that no route table of the VPC sends traffic to: "
        "the appliances behind it see nothing",
        "Route the traffic to inspect through it: aws ec2 create-route --route-table-id <rtb-…> "
        "--destination-cidr-block <CIDR> --vpc-endpoint-id <vpce-…>",
        evidence={
            "vpc_endpoint_id": "the Gateway Load Balancer endpoint",
            "route_table_ids": "the VPC's route tables (none routes to it, or only as a blackhole)",
        },
    ),
    Code.LATTICE_PORT_NOT_SHARED: CodeInfo(
        E,
        "a Resource endpoint (VPC Lattice) is checked on a port its resource configuration does not share "
        "(GetResourceConfiguration portRanges), and no connect on it went through",
        "Probe a port the configuration shares (`port:` in the topology; `vpc-verify discover` writes one), or add "
        "the port to the configuration: aws vpc-lattice update-resource-configuration --resource-configuration-"
        "identifier <rcfg-…> --port-ranges <ranges>",
        evidence={
            "vpc_endpoint_id": "the Resource endpoint",
            "resource_configuration_arn": "its resource configuration",
            "port": "the port probed",
            "port_ranges": "the TCP port ranges the configuration shares",
        },
    ),
    Code.LATTICE_PORT_UNVERIFIED: CodeInfo(
        W,
        "a Resource or ServiceNetwork endpoint (VPC Lattice) whose ports vpc-verify cannot know (a service network's "
        "are its services' and resources'; a resource configuration that could not be read), and no connect on the "
        "port probed went through: the port may be the wrong one rather than the endpoint broken",
        "Set `port:` to the port clients use (a resource configuration's portRanges, a service's listener), or let "
        "the agent read the configuration (vpc-lattice:GetResourceConfiguration).",
        evidence={
            "vpc_endpoint_id": "the endpoint",
            "type": "resource | servicenetwork",
            "port": "the port probed",
            "resource_configuration_arn": "a Resource endpoint's configuration (null for a ServiceNetwork endpoint)",
            "service_network_arn": "a ServiceNetwork endpoint's service network (null for a Resource endpoint)",
            "why": "why the ports are unknown",
        },
    ),
    Code.GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST: CodeInfo(
        E,
        "a gateway service address is outside the service's prefix list",
        "The name resolves outside the service's prefix list: traffic will not use the gateway endpoint; "
        "check the resolver and the region of the name.",
        evidence={
            "vpc_endpoint_id": "the gateway endpoint",
            "prefix_list_id": "the service's prefix list",
            "prefix_list_name": "its name",
            "prefix_list_cidrs": "its CIDRs",
            "names": "the DNS names that answered the address",
        },
    ),
    Code.ENDPOINT_POLICY_DENIES: CodeInfo(
        E,
        "the VPC endpoint's policy denies the signed call through it (AWS's answer names the endpoint policy)",
        "Allow the call in the endpoint's policy for the principals that use it (the policy is in the evidence): "
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id <id> --policy-document file://policy.json",
        evidence={**_SIGNED_EVIDENCE, **_DENIAL_EVIDENCE, **_ENDPOINT_POLICY_EVIDENCE},
    ),
    Code.IDENTITY_POLICY_DENIES: CodeInfo(
        W,
        "the signed call reached the service through the endpoint and was denied by another policy: the "
        "agent's identity-based policy, an SCP, an RCP, a session policy, a permissions boundary or a resource policy",
        "Not the endpoint: grant the agent's role the action (the Lambda template's SignedCalls parameter does), "
        "or ask who owns the named policy (an SCP or RCP belongs to the organization).",
        evidence={
            **_SIGNED_EVIDENCE,
            **_DENIAL_EVIDENCE,
            "vpc_endpoint_id": _ENDPOINT_POLICY_EVIDENCE["vpc_endpoint_id"],
        },
    ),
    Code.SIGNED_CALL_THROTTLED: CodeInfo(
        W,
        "AWS throttled the signed call: whether it is allowed through the endpoint is unknown this time",
        "Nothing to fix unless it persists: the call is one cheap request per address per run; check what else "
        "calls the API with the same credentials.",
        evidence=_SIGNED_EVIDENCE,
    ),
    Code.SIGNED_CALL_INCONCLUSIVE: CodeInfo(
        W,
        "the signed call's outcome says nothing about the endpoint's policy: no credentials, credentials "
        "rejected, a server error, or a denial whose message names no policy",
        "Give the agent credentials (its role) and check the clock; for a denial that names no policy, compare "
        "the endpoint's policy in the evidence with the call, or look the request id up in CloudTrail.",
        evidence={**_SIGNED_EVIDENCE, **_DENIAL_EVIDENCE, **_ENDPOINT_POLICY_EVIDENCE},
    ),
    Code.SIGNED_CALL_FAILED: CodeInfo(
        E,
        "the signed call got no answer although the connection (and handshake) succeeded",
        "The endpoint accepts connections but does not answer the API: check the service's health, and any "
        "proxy or TLS inspection between the agent and the endpoint.",
        evidence=_SIGNED_EVIDENCE,
    ),
    Code.TELEMETRY_PATH_PUBLIC: CodeInfo(
        W,
        "the agent's own metrics or logs endpoint resolves to public addresses: its telemetry leaves the VPC "
        "through a NAT or internet gateway",
        "Create an interface endpoint for the service (com.amazonaws.<region>.monitoring or .logs) with private "
        "DNS, or accept that the monitor goes dark when the NAT does (the Heartbeat alarm will say so).",
        evidence=_TELEMETRY_EVIDENCE,
    ),
    Code.TELEMETRY_PATH_BROKEN: CodeInfo(
        W,
        "the agent's own metrics or logs endpoint does not resolve or does not answer: publishing will fail",
        "Check the interface endpoint for monitoring (or logs): its private DNS, its security group (443 from the "
        "agent), or the NAT route when there is none.",
        evidence=_TELEMETRY_EVIDENCE,
    ),
    Code.PUBLISH_FAILED: CodeInfo(
        W,
        "the run's metrics could not be published (the report stands; the CLI exits 4 when it is otherwise healthy)",
        "See TELEMETRY_PATH_* and the error: the endpoint for monitoring, the agent's cloudwatch:PutMetricData "
        "permission (limited to the namespace), throttling. Alarms on missing data will fire.",
        evidence={
            "sink": "where the metrics were going: cloudwatch or emf",
            "datums": "how many datums the run had",
            "sent": "how many PutMetricData accepted",
            "failed": "how many were not sent",
            "fallback_emf_lines": "EMF lines written instead (the Lambda's fallback; CloudWatch Logs turns them "
            "into the same metrics)",
            "error": "the last error, in words",
        },
    ),
    Code.CHECK_ERROR: CodeInfo(
        E,
        "the checker itself failed on this endpoint (a bug): the run went on",
        "This is a bug in vpc-verify: the evidence holds the error; please report it.",
        evidence=_ERROR_EVIDENCE,
    ),
    Code.DEADLINE_EXCEEDED: CodeInfo(
        E,
        "the run's deadline came before this check finished",
        "Raise the run's deadline (Lambda timeout, --deadline) or lower per-probe timeouts and concurrency waits.",
        evidence={
            "phase": "the phase the endpoint was in (dns, probe) when the deadline came",
            "unfinished_addresses": "the addresses whose probes had not finished",
            "names_resolved": "the names whose DNS phase had finished",
            "vpc_id": "run level: the VPC whose control plane was not read in time",
        },
    ),
    Code.AWS_API_ERROR: CodeInfo(
        E,
        "an AWS API call needed for the control-plane comparison failed (denied, throttled, failed, or not "
        "answered by the run's deadline); `check` exits 4 when nothing else is wrong",
        "Check the agent's IAM permissions (the action the message names) and the region; the data-plane "
        "results stand.",
        evidence={
            "vpc_id": "the VPC whose control plane was read",
            "error": "the error's type (e.g. AwsAccessDenied, TimeoutError)",
            "detail": "the error's message (the API error code and what to fix)",
            "action": "the IAM action that was denied, when AWS named one",
        },
    ),
    Code.AWS_API_UNREACHABLE: CodeInfo(
        W,
        "the EC2 API cannot be reached from where the agent runs (no ec2 interface endpoint, no NAT): the "
        "control plane was not compared; `check` exits 4 when nothing else is wrong",
        "Create an ec2 interface endpoint (private DNS on) or a NAT route for the agent's subnet, or turn the "
        "comparison off: --no-aws, VPC_VERIFY_AWS=false (the template's ControlPlane=false).",
        {"vpc_id": "the VPC", "error": "the connect's error", "detail": "the endpoint and why"},
    ),
    Code.AWS_READ_PARTIAL: CodeInfo(
        W,
        "an optional control-plane read was denied: the verdicts that need it (network ACLs, the agent's own "
        "groups, AZ names) are unknown, the rest stands",
        "Grant the agent's role the actions listed (read-only).",
        {"vpc_id": "the VPC", "actions": "the IAM actions that were denied"},
    ),
    Code.ENDPOINT_IDLE: CodeInfo(
        W,
        "the interface endpoint carried no traffic in the whole window: a candidate to delete",
        "Check that nothing needs it (a client outside the window, a DR path), then delete it: "
        "aws ec2 delete-vpc-endpoints --vpc-endpoint-ids <id>",
        evidence={**_USAGE_EVIDENCE, **_COST_EVIDENCE, "created": "when the endpoint was created"},
    ),
    Code.ENDPOINT_PACKETS_DROPPED: CodeInfo(
        W,
        "the endpoint dropped packets in the window (AWS/PrivateLinkEndpoints PacketsDropped)",
        "Look at the peak minute: a burst over the endpoint's bandwidth, or a client sending malformed or "
        "oversized packets; compare with the clients' retries and the service's throttling.",
        evidence={**_USAGE_EVIDENCE, "packets_dropped": "packets dropped in the window", **_PEAK_EVIDENCE},
    ),
    Code.ENDPOINT_RESETS_RECEIVED: CodeInfo(
        W,
        "the endpoint received TCP resets in the window (AWS/PrivateLinkEndpoints RstPacketsReceived)",
        "Resets come from the service or the clients: look at the peak minute against the service's health and "
        "the clients' connection reuse and timeouts.",
        evidence={**_USAGE_EVIDENCE, "rst_packets_received": "RST packets received in the window", **_PEAK_EVIDENCE},
    ),
    Code.ENDPOINT_CROSS_AZ: CodeInfo(
        W,
        "clients in an AZ without an endpoint ENI cross AZs to reach it, or an ENI sits in an AZ without clients",
        "Attach the endpoint to a subnet in each AZ that has clients (aws ec2 modify-vpc-endpoint "
        "--add-subnet-ids); remove attachments in AZs without clients (--remove-subnet-ids) to save their hours.",
        evidence={
            **_USAGE_EVIDENCE,
            "endpoint_azs": "the AZs the endpoint has an ENI in",
            "client_azs": "AZ -> workload network interfaces there (instances, Lambda, containers)",
            "azs_without_endpoint": "AZs with clients and no endpoint ENI (their traffic crosses AZs)",
            "azs_without_clients": "AZs with an endpoint ENI and no clients (billed hours for cross-AZ traffic only)",
            "bytes_by_az": "bytes each AZ's ENI processed in the window",
            "monthly_saving_usd": "what removing the AZ attachments without clients saves a month",
            "price_source": _COST_EVIDENCE["price_source"],
        },
    ),
    Code.ENDPOINT_GATEWAY_WOULD_DO: CodeInfo(
        W,
        "an S3 or DynamoDB interface endpoint carries traffic a free gateway endpoint would carry from inside the VPC",
        "For clients inside the VPC, route the service through a gateway endpoint (no hourly or per-GB charge); "
        "keep the interface endpoint only for clients outside the VPC (on premises, peered VPCs).",
        evidence={
            **_USAGE_EVIDENCE,
            **_COST_EVIDENCE,
            "gb_month": "GB a month at the window's rate",
            "gateway_endpoint_id": "the VPC's gateway endpoint for the service, when it has one (null: none)",
        },
    ),
    Code.SUBNET_ADDRESSES_LOW: CodeInfo(
        W,
        "an endpoint subnet has fewer free addresses than the threshold (none: it cannot hold another ENI)",
        "Free addresses in the subnet, or attach new endpoints to a larger subnet in the same AZ "
        "(a /28 has 11 usable addresses; AWS keeps 5 of every subnet).",
        evidence={
            "subnet_id": "the subnet",
            "az": "its AZ",
            "cidr": "its CIDR",
            "available_addresses": "its free addresses (AvailableIpAddressCount)",
            "usable_addresses": "its addresses less the 5 AWS keeps",
            "threshold": "the free addresses below which vpc-verify warns (--min-free-addresses)",
            "vpc_endpoint_ids": "the endpoints with an ENI in the subnet",
        },
    ),
    Code.ENDPOINT_QUOTA_NEAR: CodeInfo(
        W,
        "the VPC's interface endpoints are at 80% or more of the quota",
        "Request a higher quota (Service Quotas, vpc L-29B6F2EB) before the next endpoint is needed, or share "
        "endpoints from a hub VPC.",
        evidence={
            "vpc_id": "the VPC",
            "interface_endpoints": "its interface and Gateway Load Balancer endpoints",
            "quota": "the quota",
            "quota_source": "service-quotas (the applied value) or default (the documented 50)",
            "quota_code": "the Service Quotas code (L-29B6F2EB)",
            "detail": "why the default was used, when it was",
        },
    ),
    Code.USAGE_UNREAD: CodeInfo(
        W,
        "the endpoints' usage (metrics, subnets, quota) could not be read; the checks stand",
        "Grant the agent cloudwatch:GetMetricData, ec2:DescribeSubnets, ec2:DescribeNetworkInterfaces and "
        "servicequotas:GetServiceQuota (docs/guides/usage-and-cost.md).",
        evidence={"vpc_id": "the VPC", "error": "the error's type", "detail": "the error's message"},
    ),
    Code.FLOW_LOGS_NOT_COVERED: CodeInfo(
        W,
        "no flow log covers the endpoint's network interfaces (or it goes only to S3, which is named, not read)",
        "Create a flow log on the VPC, the endpoint subnets or the ENIs, to CloudWatch Logs, to have evidence of "
        "where packets were dropped.",
        evidence={
            "vpc_endpoint_id": "the endpoint",
            "network_interfaces": "its ENIs that no CloudWatch Logs flow log covers",
            "flow_logs": "the VPC's flow logs (id, resource, traffic type, destination type and name)",
            "s3_destinations": "the S3 destinations that do cover them (named, not read)",
        },
    ),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem seen on one endpoint (and address, when it concerns one), with evidence and a hint."""

    code: Code
    endpoint: str
    message: str
    address: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    hint: str = ""
    severity: Severity = Severity.ERROR

    @classmethod
    def make(
        cls,
        code: Code,
        endpoint: str,
        message: str,
        *,
        address: str | None = None,
        evidence: dict[str, Any] | None = None,
        hint: str | None = None,
    ) -> Finding:
        """Build a finding whose severity comes from the catalogue and whose hint defaults to it."""
        code = Code(code)
        info = CATALOGUE[code]
        return cls(
            code=code,
            endpoint=endpoint,
            message=message,
            address=address,
            evidence=dict(evidence or {}),
            hint=info.hint if hint is None else hint,
            severity=info.severity,
        )

    @property
    def is_error(self) -> bool:
        """True when the finding makes its endpoint unhealthy."""
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of docs/findings.md."""
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "endpoint": self.endpoint,
            "address": self.address,
            "message": self.message,
            "evidence": self.evidence,
            "hint": self.hint,
        }
