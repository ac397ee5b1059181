"""The curated table of signed calls: one cheap, read-only AWS API call per common service, with its IAM action.

Keyed by the PrivateLink service's short name (`com.amazonaws.<region>.<short>`), so an endpoint of the topology
finds its call from its `service`. Each call asks for as little as the API allows (a limit of 1 where there is
one) and changes nothing. The topology can name another call per endpoint (`authorize.call`); the Lambda
template grants exactly the actions of this table when signed calls are on (tests/lambda/test_template.py).

`sts:GetCallerIdentity` needs no IAM permission (no identity policy can deny it), so through an STS endpoint a
denial can only come from the endpoint's policy; it says nothing about other services' endpoint policies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

Param = tuple[str, str | int | bool]

READ_ONLY_PREFIXES = ("Get", "List", "Describe")  # vpc-verify never changes anything
# botocore service names whose IAM prefix differs (everything else uses the botocore name).
_IAM_PREFIX = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing", "stepfunctions": "states"}
_CALL = re.compile(r"^(?P<service>[a-z0-9][a-z0-9-]{0,62}):(?P<operation>[A-Z][A-Za-z0-9]{0,127})$")


@dataclass(frozen=True, slots=True)
class Call:
    """One read-only API call: the botocore service and operation, its parameters, the IAM action it needs."""

    service: str  # the botocore service name: sqs, cloudwatch, elbv2, ...
    operation: str  # the API operation: ListQueues
    params: tuple[Param, ...] = ()
    action: str = ""  # the IAM action it needs (default: <service>:<operation>)

    @property
    def name(self) -> str:
        """`service:Operation`, as the topology writes it."""
        return f"{self.service}:{self.operation}"

    @property
    def iam_action(self) -> str:
        """The IAM action the call needs."""
        return self.action or f"{_IAM_PREFIX.get(self.service, self.service)}:{self.operation}"

    @classmethod
    def parse(cls, text: str, params: tuple[Param, ...] = (), action: str = "") -> Call:
        """A call from `service:Operation` (ValueError when it is not one, or not a read-only operation)."""
        match = _CALL.match(text)
        if not match:
            raise ValueError("a call such as sqs:ListQueues (the botocore service name, then the API operation)")
        if not match["operation"].startswith(READ_ONLY_PREFIXES):
            raise ValueError(f"a read-only operation (its name starts with {', '.join(READ_ONLY_PREFIXES)})")
        return cls(match["service"], match["operation"], params, action)


CALLS: Mapping[str, Call] = {
    "sts": Call("sts", "GetCallerIdentity"),  # needs no permission: only an endpoint policy can deny it
    "sqs": Call("sqs", "ListQueues", (("MaxResults", 1),)),
    "kms": Call("kms", "ListAliases", (("Limit", 1),)),
    "ssm": Call("ssm", "DescribeParameters", (("MaxResults", 1),)),
    "secretsmanager": Call("secretsmanager", "ListSecrets", (("MaxResults", 1),)),
    "logs": Call("logs", "DescribeLogGroups", (("limit", 1),)),
    "ecr.api": Call("ecr", "DescribeRegistry"),
    "monitoring": Call("cloudwatch", "ListDashboards"),
    "s3": Call("s3", "ListBuckets", action="s3:ListAllMyBuckets"),
    "dynamodb": Call("dynamodb", "ListTables", (("Limit", 1),)),
    "sns": Call("sns", "ListTopics"),
    "ec2": Call("ec2", "DescribeAvailabilityZones"),
    "lambda": Call("lambda", "ListFunctions", (("MaxItems", 1),)),
    "events": Call("events", "ListEventBuses", (("Limit", 1),)),
    "kinesis-streams": Call("kinesis", "ListStreams", (("Limit", 1),)),
    "ecs": Call("ecs", "ListClusters", (("maxResults", 1),)),
    "states": Call("stepfunctions", "ListStateMachines", (("maxResults", 1),)),
    "elasticloadbalancing": Call("elbv2", "DescribeLoadBalancers", (("PageSize", 1),)),
}

_SERVICE = re.compile(r"^com\.amazonaws\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.(?P<short>[a-z0-9.-]+)$")


def short_name(service: str | None) -> str | None:
    """`sqs` of `com.amazonaws.us-east-1.sqs` (None for another kind of service name)."""
    match = _SERVICE.match(service or "")
    return match["short"] if match else None


def region_of(service: str | None) -> str | None:
    """`us-east-1` of `com.amazonaws.us-east-1.sqs` (None for another kind of service name)."""
    match = _SERVICE.match(service or "")
    return match["region"] if match else None


def for_service(service: str | None) -> Call | None:
    """The table's call for an AWS service name (`com.amazonaws.<region>.<short>`), or None."""
    short = short_name(service)
    return CALLS.get(short) if short else None


def actions() -> tuple[str, ...]:
    """Every IAM action of the table, sorted (what the Lambda template grants when signed calls are on)."""
    return tuple(sorted({c.iam_action for c in CALLS.values()}))
