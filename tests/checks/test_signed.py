"""The signed probe: AWS's access-denied messages read, and real signed calls to the stand-in AWS API on loopback
(JSON, query, EC2 and REST-XML protocols), pinned to the address, with SNI and Host set to the service's name."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.testbed import aws_api
from tests.testbed.aws_api import ApiSpec
from vpc_verify.checks import calls, signed
from vpc_verify.checks.calls import CALLS, Call
from vpc_verify.checks.signed import PolicyType, SignedSpec, SignedStatus, read_denial

pytestmark = pytest.mark.unit

REGION = "us-east-1"
NAMES = {short: f"{short}.{REGION}.amazonaws.com" for short in ("sqs", "sts", "s3", "ec2", "kms", "monitoring")}
USER = "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: "


# ------------------------------------------------------------------------------------------ reading denials

# AWS's own examples (IAM User Guide, "Troubleshoot access denied error messages"), and the ARN-suffixed form of
# same-account answers (AWS Security Blog, "Enhanced access denied error messages with policy ARNs").
MESSAGES = [
    (
        "codecommit:ListRepositories because no VPC endpoint policy allows the codecommit:ListRepositories action",
        PolicyType.VPC_ENDPOINT,
        False,
    ),
    (
        "codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an "
        "explicit deny in a VPC endpoint policy",
        PolicyType.VPC_ENDPOINT,
        True,
    ),
    ("codecommit:ListRepositories with an explicit deny in a service control policy", PolicyType.SERVICE_CONTROL, True),
    (
        "codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* because "
        "no permissions boundary allows the codedeploy:ListDeployments action",
        PolicyType.PERMISSIONS_BOUNDARY,
        False,
    ),
    ("sagemaker:ListModels with an explicit deny in a permissions boundary", PolicyType.PERMISSIONS_BOUNDARY, True),
    (
        "codecommit:ListRepositories because no session policy allows the codecommit:ListRepositories action",
        PolicyType.SESSION,
        False,
    ),
    ("codedeploy:ListDeployments on resource: x with an explicit deny in a sessions policy", PolicyType.SESSION, True),
    (
        "secretsmanager:GetSecretValue because no resource-based policy allows the "
        "secretsmanager:GetSecretValue action",
        PolicyType.RESOURCE_BASED,
        False,
    ),
    (
        "codecommit:ListRepositories because no identity-based policy allows the codecommit:ListRepositories action",
        PolicyType.IDENTITY_BASED,
        False,
    ),
    (
        "codedeploy:ListDeployments on resource: x with an explicit deny in an identity-based policy",
        PolicyType.IDENTITY_BASED,
        True,
    ),
    (
        "s3:GetObject on resource: x with an explicit deny in a resource control policy",
        PolicyType.RESOURCE_CONTROL,
        True,
    ),
]


@pytest.mark.parametrize(("tail", "policy", "explicit"), MESSAGES)
def test_the_denying_policy_type_is_read_from_awss_messages(tail: str, policy: PolicyType, explicit: bool) -> None:
    denial = read_denial(USER + tail)
    assert (denial.policy, denial.explicit) == (policy, explicit)
    assert denial.principal == "arn:aws:iam::123456789012:user/JohnDoe"
    assert denial.by_endpoint_policy is (policy is PolicyType.VPC_ENDPOINT)


def test_a_deny_through_an_endpoint_policy_from_an_scp_is_the_scps() -> None:
    # "Access denied when a VPC request fails due to another policy": AWS says to look in the SCPs.
    message = (
        "User: arn:aws:sts::111122223333:assumed-role/role-name/role-session-name is not authorized to perform: "
        "SNS:Publish on resource: arn:aws:sns:us-east-1:444455556666:role-name-2 with an explicit deny in a VPC "
        "endpoint policy transitively through a service control policy"
    )
    denial = read_denial(message)
    assert denial.policy is PolicyType.SERVICE_CONTROL and denial.via is PolicyType.VPC_ENDPOINT
    assert not denial.by_endpoint_policy


def test_the_policy_arn_of_the_enhanced_messages_is_kept() -> None:
    arn = "arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd"
    denial = read_denial(f"{USER}iam:ListRoles on resource: x with an explicit deny in a service control policy: {arn}")
    assert denial.policy is PolicyType.SERVICE_CONTROL and denial.policy_arn == arn


def test_a_message_that_names_no_policy_is_unknown() -> None:
    assert read_denial(f"{USER}sqs:ListQueues").policy is PolicyType.UNKNOWN
    assert read_denial("Access Denied").policy is PolicyType.UNKNOWN
    # EC2 writes its own sentence first.
    ec2 = read_denial(
        f"You are not authorized to perform this operation. {USER}ec2:X because no VPC endpoint policy allows the "
        "ec2:X action"
    )
    assert ec2.policy is PolicyType.VPC_ENDPOINT and ec2.principal.endswith("user/JohnDoe")


# --------------------------------------------------------------------------------------------- the table


def test_every_call_of_the_table_is_read_only_and_builds_with_botocore() -> None:
    for short, call in CALLS.items():
        assert call.operation.startswith(calls.READ_ONLY_PREFIXES), short
        spec = SignedSpec("10.0.0.1", 443, f"{short}.{REGION}.amazonaws.com", REGION, call)
        request = signed.sign(spec)  # parameters validated against the installed botocore's model
        headers = dict(request.headers)
        assert headers["Host"] == spec.server_name
        assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/"), short
    assert calls.for_service("com.amazonaws.eu-west-1.ecr.api") == Call("ecr", "DescribeRegistry")
    assert calls.for_service("com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0") is None
    assert CALLS["s3"].iam_action == "s3:ListAllMyBuckets" and CALLS["states"].iam_action == "states:ListStateMachines"
    assert CALLS["monitoring"].iam_action == "cloudwatch:ListDashboards"


def test_a_call_must_be_read_only() -> None:
    with pytest.raises(ValueError, match="read-only"):
        Call.parse("sqs:DeleteQueue")
    with pytest.raises(ValueError, match="such as"):
        Call.parse("ListQueues")
    assert Call.parse("sqs:GetQueueUrl", (("QueueName", "q"),)).iam_action == "sqs:GetQueueUrl"


# ------------------------------------------------------------------------------------------- real calls


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    """A CA bundle, and a certificate and key for every service name (and the one with a port)."""
    ca = trustme.CA()
    where = tmp_path_factory.mktemp("api")
    cert = ca.issue_cert(*NAMES.values())
    paths = (str(where / "ca.pem"), str(where / "cert.pem"), str(where / "key.pem"))
    ca.cert_pem.write_to_path(paths[0])
    cert.cert_chain_pems[0].write_to_path(paths[1])
    cert.private_key_pem.write_to_path(paths[2])
    return paths


@pytest.fixture(scope="module")
def api(certs: tuple[str, str, str]) -> Iterator[aws_api.Api]:
    """One loopback listener per answer."""
    _, cert, key = certs
    with aws_api.running([ApiSpec("127.0.0.1", 0, cert, key, answer) for answer in aws_api.ANSWERS]) as running:
        yield running


def port_of(api: aws_api.Api, answer: str) -> int:
    return api.bound[aws_api.ANSWERS.index(answer)][1]


def call(api: aws_api.Api, certs: tuple[str, str, str], short: str, answer: str) -> signed.SignedResult:
    spec = SignedSpec("127.0.0.1", port_of(api, answer), NAMES[short], REGION, CALLS[short], ca_bundle=certs[0])
    return asyncio.run(signed.call(spec))


@pytest.mark.parametrize("short", ["sqs", "sts", "s3", "ec2", "kms", "monitoring"])
def test_each_protocol_is_signed_and_its_answers_read(
    api: aws_api.Api, certs: tuple[str, str, str], short: str
) -> None:
    ok = call(api, certs, short, "allow")
    assert ok.status is SignedStatus.ALLOWED and ok.status_code == 200, ok
    seen = api.requests[-1]
    assert seen.signed and seen.signature_ok, seen  # the stand-in recomputed the SigV4 signature
    assert seen.sni == NAMES[short] and seen.host_header.startswith(NAMES[short] + ":")  # pinned, named
    assert seen.action == CALLS[short].iam_action
    denied = call(api, certs, short, "endpoint_deny")
    assert denied.status is SignedStatus.DENIED and denied.denial is not None
    assert denied.denial.by_endpoint_policy and denied.denial.explicit is True
    assert denied.request_id and denied.error_code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
    implicit = call(api, certs, short, "endpoint_implicit")
    assert implicit.denial is not None and implicit.denial.by_endpoint_policy and implicit.denial.explicit is False
    identity = call(api, certs, short, "identity_implicit")
    assert identity.denial is not None and identity.denial.policy is PolicyType.IDENTITY_BASED
    throttled = call(api, certs, short, "throttle")
    assert throttled.status is SignedStatus.THROTTLED, throttled
    broken = call(api, certs, short, "server_error")
    assert broken.status is SignedStatus.ERROR and broken.status_code == 500


def test_scp_rcp_session_and_transitive_denials(api: aws_api.Api, certs: tuple[str, str, str]) -> None:
    kinds = {
        "scp_deny": PolicyType.SERVICE_CONTROL,
        "rcp_deny": PolicyType.RESOURCE_CONTROL,
        "session_deny": PolicyType.SESSION,
        "boundary_implicit": PolicyType.PERMISSIONS_BOUNDARY,
        "transitive_scp": PolicyType.SERVICE_CONTROL,
        "unnamed_deny": PolicyType.UNKNOWN,
    }
    for answer, kind in kinds.items():
        result = call(api, certs, "sqs", answer)
        assert result.status is SignedStatus.DENIED and result.denial is not None, answer
        assert result.denial.policy is kind, answer
    assert call(api, certs, "sqs", "scp_deny").denial.policy_arn == aws_api.SCP_ARN  # type: ignore[union-attr]


def test_rejected_credentials_are_an_error_not_a_denial(certs: tuple[str, str, str]) -> None:
    _, cert, key = certs
    with aws_api.running([ApiSpec("127.0.0.1", 0, cert, key)], secrets={"testing": "another secret"}) as api:
        spec = SignedSpec("127.0.0.1", api.bound[0][1], NAMES["sts"], REGION, CALLS["sts"], ca_bundle=certs[0])
        result = asyncio.run(signed.call(spec))
    assert result.status is SignedStatus.ERROR and result.error_code == "SignatureDoesNotMatch"
    assert "credentials" in result.error


def test_without_credentials_nothing_is_sent(monkeypatch: pytest.MonkeyPatch, certs: tuple[str, str, str]) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    signed.forget_credentials()
    try:
        spec = SignedSpec("127.0.0.1", 9, NAMES["sqs"], REGION, CALLS["sqs"], timeout_s=0.5)
        result = asyncio.run(signed.call(spec))
    finally:
        signed.forget_credentials()
    assert result.status is SignedStatus.UNSIGNED and "no AWS credentials" in result.error


def test_a_bad_call_is_not_sent() -> None:
    spec = SignedSpec("127.0.0.1", 9, NAMES["sqs"], REGION, Call("sqs", "ListQueues", (("MaxResults", "many"),)))
    result = asyncio.run(signed.call(spec))
    assert result.status is SignedStatus.UNSIGNED and "cannot build the call sqs:ListQueues" in result.error


def test_no_answer_is_a_timeout_and_a_refusal_a_failure(tmp_path: Path, certs: tuple[str, str, str]) -> None:
    with socket.socket() as silent, socket.socket() as closed:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts (the kernel does), never speaks: the handshake waits
        closed.bind(("127.0.0.1", 0))  # bound, not listening: refused
        for sock, status in ((silent, SignedStatus.TIMEOUT), (closed, SignedStatus.FAILED)):
            port = sock.getsockname()[1]
            spec = SignedSpec("127.0.0.1", port, NAMES["sqs"], REGION, CALLS["sqs"], timeout_s=0.3, ca_bundle=certs[0])
            result = asyncio.run(signed.call(spec))
            assert result.status is status, result
            assert result.error
