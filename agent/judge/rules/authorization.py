"""What the signed call through each address showed (`authorize`): allowed, or denied by whom.

AWS's access-denied messages name the kind of policy that said no, so the endpoint is blamed only when the
message names a VPC endpoint policy; an identity-based policy, an SCP, an RCP, a session policy or a permissions
boundary is a warning about the agent's own permissions, not the endpoint. A deny "in a VPC endpoint policy
transitively through a service control policy" is the SCP's. Next to an endpoint-policy denial the endpoint's
policy document (control plane) is shown with the statements that name the action; when AWS reports the default
policy, the answering endpoint is not the one the control plane matched, and the message says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from vpc_verify.checks.signed import PolicyType, SignedResult, SignedStatus
from vpc_verify.evaluate import endpoint_policy
from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import EndpointFacts
from vpc_verify.judge.rule import endpoint_rule
from vpc_verify.report import AddressReport, signed_dict

_VPCE_ID = re.compile(r"\b(vpce-[0-9a-f]{8,17})\b")

IDENTITY_HINTS = {
    PolicyType.IDENTITY_BASED: "Grant the agent's role {action} (the Lambda template's SignedCalls parameter does), "
    "or turn authorize off for this endpoint.",
    PolicyType.SERVICE_CONTROL: "A service control policy of the organization denies {action}{arn}: its "
    "administrators own it. The endpoint itself let the call through.",
    PolicyType.RESOURCE_CONTROL: "A resource control policy of the organization denies {action}{arn}: its "
    "administrators own it. The endpoint itself let the call through.",
    PolicyType.SESSION: "The session policy passed when the agent's role was assumed denies {action}: widen it, or "
    "assume the role without it.",
    PolicyType.PERMISSIONS_BOUNDARY: "The permissions boundary of the agent's role does not allow {action}{arn}: add "
    "it to the boundary.",
    PolicyType.RESOURCE_BASED: "The resource's own policy denies {action}: call another resource (authorize.call), "
    "or allow the agent there.",
    PolicyType.ROLE_TRUST: "A role trust policy denies {action}: check the role's trust policy.",
}


@endpoint_rule(
    Code.ENDPOINT_POLICY_DENIES,
    Code.IDENTITY_POLICY_DENIES,
    Code.SIGNED_CALL_THROTTLED,
    Code.SIGNED_CALL_INCONCLUSIVE,
    Code.SIGNED_CALL_FAILED,
)
def signed_call(facts: EndpointFacts) -> Iterator[Finding]:
    """Every signed call that was not allowed, sorted by what its answer says."""
    for a in facts.probed():
        assert a.probe is not None
        result = a.probe.signed
        if result is None or result.status is SignedStatus.ALLOWED:
            continue
        target = f"{a.address}:{a.probe.tcp.port}"
        evidence = _evidence(facts, result)
        if result.status is SignedStatus.DENIED and result.denial is not None:
            yield _denied(facts, a, result, target, evidence)
        elif result.status is SignedStatus.THROTTLED:
            message = f"AWS throttled {result.call} through {target} ({result.error_code or result.status_code})"
            yield Finding.make(Code.SIGNED_CALL_THROTTLED, facts.name, message, address=a.address, evidence=evidence)
        elif result.status in (SignedStatus.TIMEOUT, SignedStatus.FAILED):
            verb = "timed out" if result.status is SignedStatus.TIMEOUT else "failed"
            message = f"the signed {result.call} through {target} {verb}: {result.error}"
            yield Finding.make(Code.SIGNED_CALL_FAILED, facts.name, message, address=a.address, evidence=evidence)
        else:
            why = result.error or "the call could not be made"
            if result.error_code:
                why = f"{why}: {result.error_code}: {result.message}".rstrip(": ")
            message = f"the signed {result.call} through {target} says nothing about the endpoint's policy: {why}"
            yield Finding.make(Code.SIGNED_CALL_INCONCLUSIVE, facts.name, message, address=a.address, evidence=evidence)


def _denied(
    facts: EndpointFacts, a: AddressReport, result: SignedResult, target: str, evidence: dict[str, Any]
) -> Finding:
    assert result.denial is not None
    denial = result.denial
    vpce_id = _vpce_id(facts, a)
    evidence["vpc_endpoint_id"] = vpce_id
    who = f" for {denial.principal}" if denial.principal else ""
    how = "an explicit Deny" if denial.explicit else "no statement allows it" if denial.explicit is False else ""
    how = f" ({how})" if how else ""
    rid = f", request id {result.request_id}" if result.request_id else ""
    if denial.by_endpoint_policy:
        evidence |= _policy_evidence(facts, result.action)
        name = vpce_id or "the VPC endpoint"
        message = f"the endpoint policy of {name} denies {result.action}{who} through {target}{how}{rid}"
        if evidence.get("policy_default") is True:
            message += (
                f"; yet AWS reports {name}'s policy as the default (full access): the address answering may be "
                "another endpoint's (a shared VPC, a stale record) or the policy changed since it was read"
            )
        hint = None
        if vpce_id:
            hint = (
                f"Allow {result.action} for the agent's principal in the policy of {vpce_id} (it is in the evidence): "
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce_id} --policy-document file://policy.json"
            )
        return Finding.make(
            Code.ENDPOINT_POLICY_DENIES, facts.name, message, address=a.address, evidence=evidence, hint=hint
        )
    if denial.policy is PolicyType.UNKNOWN:
        evidence |= _policy_evidence(facts, result.action)
        message = (
            f"AWS denied {result.action}{who} through {target} without naming the policy ({result.error_code}){rid}: "
            "it may be the endpoint's policy or the agent's own permissions"
        )
        return Finding.make(Code.SIGNED_CALL_INCONCLUSIVE, facts.name, message, address=a.address, evidence=evidence)
    via = f" (through {denial.via.value})" if denial.via is not None else ""
    article = "an" if denial.policy.value[0] in "aeiou" else "a"
    message = (
        f"{article} {denial.policy.value}{via} denies {result.action}{who} through {target}{how}{rid}: not the "
        "endpoint, which let the signed call through"
    )
    arn = f" ({denial.policy_arn})" if denial.policy_arn else ""
    template = IDENTITY_HINTS.get(denial.policy)
    hint = template.format(action=result.action, arn=arn) if template else None
    return Finding.make(
        Code.IDENTITY_POLICY_DENIES, facts.name, message, address=a.address, evidence=evidence, hint=hint
    )


def _evidence(facts: EndpointFacts, result: SignedResult) -> dict[str, Any]:
    out = signed_dict(result)
    keep = {"call", "action", "status", "status_code", "error_code", "message", "request_id", "ms", "error"}
    evidence = {k: v for k, v in out.items() if k in keep}
    evidence["server_name"] = facts.endpoint.server_name
    if result.denial is not None:
        evidence |= {k: out[k] for k in ("denied_by", "explicit", "via", "policy_arn", "principal")}
    return evidence


def _vpce_id(facts: EndpointFacts, a: AddressReport) -> str | None:
    """The endpoint that answered: the control plane's match, else a vpce-... name in the answer's DNS chain."""
    side = facts.aws
    if side is not None and side.vpce is not None:
        return side.vpce.id
    for d in facts.observation.dns:
        if a.address in d.answers:
            for name in (d.name, *d.cname_chain):
                found = _VPCE_ID.search(name)
                if found:
                    return found.group(1)
    return None


def _policy_evidence(facts: EndpointFacts, action: str) -> dict[str, Any]:
    side = facts.aws
    if side is None or side.vpce is None:
        return {}
    document = side.vpce.policy_document
    return {
        "policy_default": endpoint_policy.is_default(document),
        "policy": endpoint_policy.parse(document),
        "policy_statements": endpoint_policy.naming(document, action),
    }
