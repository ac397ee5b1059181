"""The signed call's judgment: an endpoint policy's denial blamed on the endpoint (named, its policy shown), every
other policy's denial not, and throttling, failures and unknown outcomes told apart."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.judge.builders import EP, NAME, REGION, aws, dns, facts, observation, probe, report, state, vpce
from vpc_verify.checks.dns import DnsResult, DnsStatus
from vpc_verify.checks.signed import Denial, PolicyType, SignedResult, SignedStatus
from vpc_verify.findings import Code, Severity
from vpc_verify.report import AddressProbe, EndpointReport

pytestmark = pytest.mark.unit

BOTH = ("10.1.1.10", "10.1.2.10")
PRINCIPAL = "arn:aws:sts::123456789012:assumed-role/vpc-verify/i-0abc"
RESTRICTIVE = json.dumps(
    {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "sqs:List*", "Resource": "*"},
        ]
    }
)
DEFAULT = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})


def result(status: SignedStatus, denial: Denial | None = None, **more: object) -> SignedResult:
    base: dict[str, object] = {
        "status_code": 400 if status is not SignedStatus.ALLOWED else 200,
        "request_id": "req-1",
        "ms": 12.5,
    }
    if denial is not None:
        base |= {"error_code": "AccessDeniedException", "message": f"User: {PRINCIPAL} is not authorized ..."}
    return SignedResult(status, "sqs:ListQueues", "sqs:ListQueues", denial=denial, **(base | more))  # type: ignore[arg-type]


def signed(*results: SignedResult) -> list[AddressProbe]:
    return [replace(probe(a), signed=r) for a, r in zip(BOTH, results, strict=True)]


def judge(*results: SignedResult, policy: str | None = None, results_dns: DnsResult | None = None) -> EndpointReport:
    o = observation(EP, [results_dns or dns(*BOTH)], signed(*results))
    control = None
    if policy is not None:
        control = aws(state(endpoints=(replace(vpce(), policy_document=policy),)))
    return report(facts(o, aws=control))


def denied(kind: PolicyType, explicit: bool | None = True, **more: str) -> SignedResult:
    return result(SignedStatus.DENIED, Denial(kind, explicit, principal=PRINCIPAL, **more))  # type: ignore[arg-type]


def test_an_allowed_call_says_nothing() -> None:
    ok = result(SignedStatus.ALLOWED)
    assert judge(ok, ok).findings == ()


def test_an_endpoint_policy_denial_names_the_endpoint_and_shows_its_policy() -> None:
    out = judge(denied(PolicyType.VPC_ENDPOINT), denied(PolicyType.VPC_ENDPOINT, False), policy=RESTRICTIVE)
    assert [f.code for f in out.findings] == [Code.ENDPOINT_POLICY_DENIES] * 2
    assert not out.healthy
    first, second = out.findings
    assert first.severity is Severity.ERROR and first.address == "10.1.1.10"
    assert "the endpoint policy of vpce-0aaa denies sqs:ListQueues" in first.message
    assert "an explicit Deny" in first.message and "no statement allows it" in second.message
    assert first.evidence["vpc_endpoint_id"] == "vpce-0aaa" and first.evidence["policy_default"] is False
    assert first.evidence["policy_statements"] == [json.loads(RESTRICTIVE)["Statement"][1]]  # the Deny of sqs:List*
    assert first.evidence["request_id"] == "req-1" and first.evidence["principal"] == PRINCIPAL
    assert "modify-vpc-endpoint --vpc-endpoint-id vpce-0aaa" in first.hint
    assert out.aws is not None and out.aws.policy_default is False and out.aws.policy is not None
    assert out.to_dict()["aws"]["policy"] == json.loads(RESTRICTIVE)  # a non-default policy is shown


def test_without_the_control_plane_the_endpoint_is_named_from_its_dns_chain() -> None:
    chain = DnsResult(
        name=NAME,
        status=DnsStatus.OK,
        rcode="NOERROR",
        answers=BOTH,
        cname_chain=(f"vpce-0a1b2c3d4e5f60718-abcd1234.sqs.{REGION}.vpce.amazonaws.com",),
        ms=1.0,
    )
    out = judge(denied(PolicyType.VPC_ENDPOINT), result(SignedStatus.ALLOWED), results_dns=chain)
    (finding,) = out.findings
    assert finding.code is Code.ENDPOINT_POLICY_DENIES and "vpce-0a1b2c3d4e5f60718" in finding.message
    assert finding.evidence["vpc_endpoint_id"] == "vpce-0a1b2c3d4e5f60718" and "policy" not in finding.evidence


def test_a_denial_the_control_plane_cannot_explain_says_so() -> None:
    out = judge(denied(PolicyType.VPC_ENDPOINT), result(SignedStatus.ALLOWED), policy=DEFAULT)
    (finding,) = out.findings
    assert finding.evidence["policy_default"] is True and "reports vpce-0aaa's policy as the default" in finding.message
    assert out.aws is not None and out.aws.policy_default is True and "policy" not in out.to_dict()["aws"]


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        (PolicyType.IDENTITY_BASED, "Grant the agent's role sqs:ListQueues"),
        (PolicyType.SERVICE_CONTROL, "A service control policy of the organization denies sqs:ListQueues"),
        (PolicyType.RESOURCE_CONTROL, "A resource control policy"),
        (PolicyType.SESSION, "session policy"),
        (PolicyType.PERMISSIONS_BOUNDARY, "permissions boundary"),
    ],
)
def test_other_policies_are_not_blamed_on_the_endpoint(kind: PolicyType, hint: str) -> None:
    out = judge(denied(kind, False), denied(kind, True), policy=RESTRICTIVE)
    assert [f.code for f in out.findings] == [Code.IDENTITY_POLICY_DENIES] * 2
    assert out.healthy  # a warning: the endpoint let the signed call through
    finding = out.findings[0]
    assert f" {kind.value}" in finding.message and "not the endpoint" in finding.message
    assert finding.message.startswith("an identity-based" if kind is PolicyType.IDENTITY_BASED else "a ")
    assert hint in finding.hint and "policy" not in finding.evidence  # the endpoint's policy is beside the point
    assert finding.evidence["denied_by"] == kind.value


def test_a_deny_through_the_endpoint_policy_from_an_scp_is_the_scps() -> None:
    arn = "arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-1"
    scp = denied(PolicyType.SERVICE_CONTROL, via=PolicyType.VPC_ENDPOINT, policy_arn=arn)  # type: ignore[arg-type]
    out = judge(scp, result(SignedStatus.ALLOWED))
    (finding,) = out.findings
    assert finding.code is Code.IDENTITY_POLICY_DENIES and "(through VPC endpoint policy)" in finding.message
    assert arn in finding.hint and finding.evidence["via"] == "VPC endpoint policy"


def test_throttled_failed_and_unknown_outcomes() -> None:
    throttled = result(SignedStatus.THROTTLED, error_code="ThrottlingException")
    timeout = result(SignedStatus.TIMEOUT, status_code=None, request_id="", error="no answer within 4000 ms")
    out = judge(throttled, timeout)
    assert [(f.code, f.severity) for f in out.findings] == [
        (Code.SIGNED_CALL_THROTTLED, Severity.WARNING),
        (Code.SIGNED_CALL_FAILED, Severity.ERROR),
    ]
    unsigned = result(SignedStatus.UNSIGNED, status_code=None, request_id="", error="no AWS credentials found")
    rejected = result(
        SignedStatus.ERROR, status_code=403, error_code="InvalidClientTokenId", error="AWS rejected the credentials"
    )
    out = judge(unsigned, rejected)
    assert [f.code for f in out.findings] == [Code.SIGNED_CALL_INCONCLUSIVE] * 2 and out.healthy
    assert "no AWS credentials" in out.findings[0].message and "InvalidClientTokenId" in out.findings[1].message


def test_a_denial_that_names_no_policy_is_inconclusive_with_the_policy_beside_it() -> None:
    out = judge(denied(PolicyType.UNKNOWN, None), result(SignedStatus.ALLOWED), policy=RESTRICTIVE)
    (finding,) = out.findings
    assert finding.code is Code.SIGNED_CALL_INCONCLUSIVE and "without naming the policy" in finding.message
    assert finding.evidence["policy_default"] is False and finding.evidence["denied_by"] == "unknown"


def test_the_table_shows_the_signed_phase_and_a_non_default_policy() -> None:
    import datetime as dt

    from vpc_verify.render import table
    from vpc_verify.report import Report

    out = judge(denied(PolicyType.VPC_ENDPOINT), result(SignedStatus.ALLOWED), policy=RESTRICTIVE)
    text = table.render(Report(started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), duration_ms=1.0, endpoints=(out,)))
    assert "policy  vpce-0aaa's endpoint policy is not the default" in text
    header = next(line for line in text.splitlines() if "address" in line and "signed" in line)
    assert header.split().index("signed") == header.split().index("http") + 1
    assert "denied (VPC endpoint policy)" in text and "allowed" in text
