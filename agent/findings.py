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
    GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST = "GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST"
    CHECK_ERROR = "CHECK_ERROR"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    AWS_API_ERROR = "AWS_API_ERROR"
    AWS_API_UNREACHABLE = "AWS_API_UNREACHABLE"
    AWS_READ_PARTIAL = "AWS_READ_PARTIAL"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What a finding code means, how bad it is, the fix to try first, and the evidence keys it carries."""

    severity: Severity
    meaning: str
    hint: str
    evidence: Mapping[str, str] = field(default_factory=dict)  # key -> what it holds


E, W = Severity.ERROR, Severity.WARNING

_SG_VERDICT = {
    "vpc_endpoint_id": "the interface endpoint",
    "security_group_ids": "the endpoint's security groups",
    "port": "the TCP port",
    "verdict": "admits | blocks | unknown",
    "agent_source": "the networks the agent's packets come from, in the address family judged",
    "agent_source_precision": "address | subnet (also a Lambda's subnets) | vpc",
    "agent_security_group_ids": "the agent's security groups (null: unknown)",
    "inbound_rules": "every inbound rule of the groups",
    "admitting_rules": "the rules that admit the agent",
    "possibly_admitting_rules": "the rules that may admit it (they cover part of where the agent may be)",
}

CATALOGUE: dict[Code, CodeInfo] = {
    Code.DNS_NXDOMAIN: CodeInfo(
        E,
        "the name does not exist",
        "Check the name for typos; for an interface endpoint, check that private DNS is enabled and that the "
        "VPC is associated with the private hosted zone.",
    ),
    Code.DNS_NO_ANSWER: CodeInfo(
        E,
        "the name exists but has no A/AAAA record",
        "The zone has the name but no address record: check the record type and the private hosted zone.",
    ),
    Code.DNS_SERVFAIL: CodeInfo(
        E,
        "the resolver failed (SERVFAIL/REFUSED)",
        "The resolver could not answer: check Route 53 Resolver rules, forwarders and DNSSEC for the zone.",
    ),
    Code.DNS_TIMEOUT: CodeInfo(
        E,
        "no answer within the resolver timeout",
        "The resolver did not answer: check that the VPC resolver (base+2 or 169.254.169.253) is reachable "
        "and that enableDnsSupport is on.",
    ),
    Code.DNS_PUBLIC_ADDRESS: CodeInfo(
        E,
        "an answer is a public address: private DNS is not in effect for this VPC",
        "Enable private DNS on the interface endpoint (and enableDnsHostnames/enableDnsSupport on the VPC); "
        "a custom resolver must forward the service's zone to the VPC resolver.",
    ),
    Code.DNS_OUTSIDE_VPC: CodeInfo(
        E,
        "a private answer lies outside the VPC's CIDRs",
        "The name points at another VPC's endpoint or a stale private hosted zone: check which zone answers "
        "and remove or re-associate it.",
    ),
    Code.DNS_UNEXPECTED_ADDRESS: CodeInfo(
        E,
        "an answer is not one of the expected ENI addresses",
        "The name resolves to an address that is not the endpoint's ENI: look for an overriding private "
        "hosted zone or a stale topology file (re-run `vpc-verify discover`).",
    ),
    Code.DNS_MISSING_ADDRESS: CodeInfo(
        W,
        "an expected ENI address is not in the answers",
        "An ENI of the endpoint is not served: check the endpoint's subnets and the topology file.",
    ),
    Code.TCP_TIMEOUT: CodeInfo(
        E,
        "connect timed out (security group / NACL drops)",
        "Packets are dropped: check that the endpoint's security group admits the port from this agent, "
        "then the subnets' network ACLs.",
    ),
    Code.TCP_REFUSED: CodeInfo(
        E,
        "connection refused",
        "Something answered with a reset: the address is up but nothing listens on the port; check the "
        "port in the topology and the service behind the address.",
    ),
    Code.TCP_UNREACHABLE: CodeInfo(
        E,
        "no route to the address",
        "There is no route from this agent to the address: check the route table of the agent's subnet.",
    ),
    Code.TLS_HANDSHAKE_FAILED: CodeInfo(
        E,
        "the TLS handshake failed or timed out",
        "The port accepts TCP but does not complete TLS: check that it is a TLS port and that SNI is accepted.",
    ),
    Code.TLS_CERT_UNTRUSTED: CodeInfo(
        E,
        "the chain does not verify against the trust store",
        "Check tls.ca_bundle (a private CA must be listed there) and the certificate's validity dates.",
    ),
    Code.TLS_CERT_NAME_MISMATCH: CodeInfo(
        E,
        "the certificate does not cover the name asked for",
        "The server presents a certificate for another name: check tls.server_name and which service "
        "answers on this address.",
    ),
    Code.TLS_CERT_EXPIRING: CodeInfo(
        W,
        "the certificate expires within 14 days",
        "Renew the certificate before it expires.",
    ),
    Code.HTTP_UNEXPECTED_STATUS: CodeInfo(
        E,
        "the status is not among those expected",
        "Check the service's health and the path; or widen http.status in the topology if this is normal.",
    ),
    Code.HTTP_FAILED: CodeInfo(
        E,
        "the request failed or timed out after the handshake",
        "The service accepted TLS but did not answer HTTP in time: check the service behind the endpoint.",
    ),
    Code.LATENCY_OVER_BUDGET: CodeInfo(
        W,
        "connect+TLS exceeded the endpoint's budget",
        "Latency is above budget: compare per-AZ figures (cross-AZ answers add latency) and the service's load.",
    ),
    Code.ENDPOINT_MISSING: CodeInfo(
        E,
        "no VPC endpoint for the service in the VPC",
        "Create the VPC endpoint for the service in this VPC.",
    ),
    Code.ENDPOINT_NOT_AVAILABLE: CodeInfo(
        E,
        "the endpoint's state is not `available`",
        "Wait for a pending endpoint; accept a pendingAcceptance one on the service side; recreate a failed one.",
    ),
    Code.ENDPOINT_UNEXPECTED: CodeInfo(
        W,
        "the VPC has an endpoint that the topology does not list",
        "Add the endpoint to the topology (`vpc-verify discover`) or delete it if nobody uses it.",
    ),
    Code.PRIVATE_DNS_DISABLED: CodeInfo(
        E,
        "the interface endpoint has private DNS off",
        "Enable private DNS: aws ec2 modify-vpc-endpoint --vpc-endpoint-id <id> --private-dns-enabled",
    ),
    Code.VPC_DNS_SUPPORT_DISABLED: CodeInfo(
        E,
        "enableDnsSupport is off",
        "aws ec2 modify-vpc-attribute --vpc-id <id> --enable-dns-support",
    ),
    Code.VPC_DNS_HOSTNAMES_DISABLED: CodeInfo(
        E,
        "enableDnsHostnames is off (private DNS cannot work)",
        "aws ec2 modify-vpc-attribute --vpc-id <id> --enable-dns-hostnames",
    ),
    Code.ENDPOINT_AZ_MISSING: CodeInfo(
        E,
        "an expected AZ has no endpoint network interface",
        "Add a subnet in that AZ to the endpoint: aws ec2 modify-vpc-endpoint --add-subnet-ids <subnet>",
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
        {**_SG_VERDICT, "timed_out": "the addresses whose connect timed out", "address_family": "4 or 6"},
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
            **_SG_VERDICT,
            "connected": "the addresses whose connect succeeded",
            "disagreements": "each piece of configuration that says the connection is blocked",
        },
    ),
    Code.GATEWAY_ROUTE_MISSING: CodeInfo(
        E,
        "the agent's route table has no route to the service's prefix list",
        "Associate the gateway endpoint with the agent subnet's route table.",
    ),
    Code.GATEWAY_ADDRESS_NOT_IN_PREFIX_LIST: CodeInfo(
        E,
        "a gateway service address is outside the service's prefix list",
        "The name resolves outside the service's prefix list: traffic will not use the gateway endpoint; "
        "check the resolver and the region of the name.",
    ),
    Code.CHECK_ERROR: CodeInfo(
        E,
        "the checker itself failed on this endpoint (a bug): the run went on",
        "This is a bug in vpc-verify: the evidence holds the error; please report it.",
    ),
    Code.DEADLINE_EXCEEDED: CodeInfo(
        E,
        "the run's deadline came before this check finished",
        "Raise the run's deadline (Lambda timeout, --deadline) or lower per-probe timeouts and concurrency waits.",
    ),
    Code.AWS_API_ERROR: CodeInfo(
        E,
        "an AWS API call needed for the control-plane comparison failed (denied, throttled, failed, or not "
        "answered by the run's deadline); `check` exits 4 when nothing else is wrong",
        "Check the agent's IAM permissions (the action the message names) and the region; the data-plane "
        "results stand.",
        {"vpc_id": "the VPC", "error": "the error's type", "detail": "what AWS said", "action": "the IAM action"},
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
