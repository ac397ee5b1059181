"""`authorize` in the topology: the signed call per endpoint (the table's, or the file's), and --authorize."""

from __future__ import annotations

from typing import Any

import pytest

from vpc_verify.checks.calls import CALLS, Call
from vpc_verify.topology import TopologyError, parse

pytestmark = pytest.mark.unit

SQS = {"name": "sqs", "service": "com.amazonaws.eu-west-1.sqs"}
KMS = {"name": "kms", "service": "com.amazonaws.eu-west-1.kms"}
BILLING = {"name": "billing", "type": "service", "dns_names": ["billing.internal"]}


def load(*endpoints: dict[str, Any], **top: Any) -> Any:
    return parse({"version": 1, **top, "endpoints": list(endpoints)}, source="t.yaml")


def test_off_by_default_with_the_tables_call_ready_for_the_flag() -> None:
    sqs, billing = load(SQS, BILLING).endpoints
    assert not sqs.signs and sqs.authorize is not None and sqs.authorize.call == CALLS["sqs"]
    assert sqs.authorize.region == "eu-west-1"  # from the service name, not the environment
    assert billing.authorize is None  # no AWS service: nothing to call
    flagged = load(SQS, BILLING).authorizing()
    assert [e.signs for e in flagged.endpoints] == [True, False]


def test_the_file_turns_it_on_or_off_and_the_flag_respects_off() -> None:
    topology = load({**SQS, "authorize": True}, {**KMS, "authorize": False})
    assert [e.signs for e in topology.endpoints] == [True, False]
    assert [e.signs for e in topology.authorizing().endpoints] == [True, False]


def test_defaults_apply_where_a_call_is_known() -> None:
    topology = load(
        SQS,
        BILLING,
        {"name": "x", "service": "com.amazonaws.eu-west-1.foo", "dns_names": ["foo.example"]},
        defaults={"authorize": True},
    )
    assert [e.signs for e in topology.endpoints] == [True, False, False]


def test_another_call_with_parameters_and_action() -> None:
    raw = {"call": "sqs:GetQueueUrl", "params": {"QueueName": "orders"}, "action": "sqs:GetQueueUrl"}
    (sqs,) = load({**SQS, "authorize": raw}).endpoints
    assert sqs.signs and sqs.authorize is not None
    assert sqs.authorize.call == Call("sqs", "GetQueueUrl", (("QueueName", "orders"),), "sqs:GetQueueUrl")
    (billing,) = load({**BILLING, "authorize": {"call": "sts:GetCallerIdentity"}}, region="us-west-2").endpoints
    assert billing.signs and billing.authorize is not None and billing.authorize.region == "us-west-2"


@pytest.mark.parametrize(
    ("endpoint", "where", "says"),
    [
        ({**SQS, "authorize": "yes"}, "endpoints[0].authorize", "a mapping"),
        ({**SQS, "authorize": {"call": "sqs:PurgeQueue"}}, "endpoints[0].authorize.call", "read-only"),
        ({**SQS, "authorize": {"params": {}}}, "endpoints[0].authorize.call", "the call to make"),
        ({**SQS, "authorize": {"call": "sqs:ListQueues", "params": {"N": 1.5}}}, "authorize.params.N", "an integer"),
        ({**SQS, "authorize": {"call": "sqs:ListQueues", "params": {"n-1": 1}}}, "authorize.params.n-1", "parameter"),
        ({**SQS, "authorize": {"call": "sqs:ListQueues", "action": "x"}}, "authorize.action", "an IAM action"),
        (
            {"name": "x", "service": "com.amazonaws.eu-west-1.foo", "dns_names": ["foo.example"], "authorize": True},
            "endpoints[0].authorize",
            "none is known for com.amazonaws.eu-west-1.foo",
        ),
    ],
)
def test_bad_authorize_is_a_topology_error(endpoint: dict[str, Any], where: str, says: str) -> None:
    with pytest.raises(TopologyError) as caught:
        load(endpoint)
    assert where in str(caught.value) and says in str(caught.value)


def test_a_call_needs_a_region_to_sign_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(TopologyError, match="a region to sign for"):
        load({**BILLING, "authorize": {"call": "sts:GetCallerIdentity"}})
