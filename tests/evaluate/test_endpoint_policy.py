"""An endpoint's policy read: the default (full access) told from a restrictive one, statements naming an action."""

from __future__ import annotations

import json

import pytest

from vpc_verify.evaluate import endpoint_policy

pytestmark = pytest.mark.unit

DEFAULT = json.dumps(
    {"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
)
ONLY_SEND = json.dumps(
    {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["sqs:SendMessage"], "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "sqs:List*", "Resource": "*"},
            {"Effect": "Allow", "Principal": "*", "NotAction": "sqs:Delete*", "Resource": "*"},
        ]
    }
)


def test_the_default_and_its_equivalents() -> None:
    assert endpoint_policy.is_default(DEFAULT) is True
    same = {"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["*"], "Resource": ["*"]}}
    assert endpoint_policy.is_default(json.dumps(same)) is True
    assert endpoint_policy.is_default(ONLY_SEND) is False
    conditioned = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
            }
        ]
    }
    assert endpoint_policy.is_default(json.dumps(conditioned)) is False
    assert endpoint_policy.is_default("") is None and endpoint_policy.is_default("not json") is None


def test_statements_that_name_the_action() -> None:
    named = endpoint_policy.naming(ONLY_SEND, "sqs:ListQueues")
    assert [s["Effect"] for s in named] == ["Deny", "Allow"]  # sqs:List* and the NotAction that spares it
    assert endpoint_policy.naming(ONLY_SEND, "sqs:DeleteQueue") == []
    assert endpoint_policy.naming(DEFAULT, "SQS:ListQueues") == json.loads(DEFAULT)["Statement"]
