"""One plan for every shell: the same defaults for each mode, --only narrows and marks the run partial, a
missing extra is a usage error before anything is sent."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from tests.judge.builders import topology
from vpc_verify import plan
from vpc_verify.aws.control_plane import AwsControlPlane
from vpc_verify.errors import UsageError
from vpc_verify.publish.config import SinkConfig
from vpc_verify.topology import TopologyError, parse


def two() -> Any:
    return parse(
        {
            "version": 1,
            "region": "eu-west-1",
            "vpc": {"id": "vpc-0123456789abcdef0"},
            "endpoints": [
                {"name": "sqs", "service": "com.amazonaws.eu-west-1.sqs"},
                {"name": "kms", "service": "com.amazonaws.eu-west-1.kms"},
            ],
        }
    )


@pytest.mark.parametrize("mode", ["cli", "diagnose", "agent", "lambda"])
def test_each_mode_gets_its_default_deadline_and_origin(mode: Any) -> None:
    p = plan.build(two(), mode=mode)
    assert p.options.deadline_s == plan.DEFAULT_DEADLINE_S[mode]
    assert p.options.origin.mode == mode
    assert isinstance(p.options.control_plane, plan.AwsControlPlaneOnRead)
    made = p.options.control_plane.made()  # made when the run reads it: after the first packet
    assert isinstance(made, AwsControlPlane) and made.region == "eu-west-1"


def test_only_narrows_and_makes_the_run_partial() -> None:
    p = plan.build(two(), mode="cli", only=["kms"])
    assert [e.name for e in p.topology.endpoints] == ["kms"] and p.options.partial
    with pytest.raises(TopologyError, match="one of the endpoint names"):
        plan.build(two(), mode="cli", only=["nope"])


def test_no_control_plane_without_a_vpc_id_or_with_no_aws() -> None:
    assert plan.build(topology(vpc_id=None), mode="cli").options.control_plane is None
    assert plan.build(two(), mode="cli", aws=False).options.control_plane is None


def test_a_deadline_given_wins_and_with_deadline_copies() -> None:
    p = plan.build(two(), mode="cli", deadline_s=5.0)
    assert p.options.deadline_s == 5.0 and p.with_deadline(2.0).options.deadline_s == 2.0


def test_bad_concurrency_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--concurrency"):
        plan.build(two(), mode="cli", concurrency=0)


def test_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else real(name, *a))
    with pytest.raises(plan.MissingExtra, match=r"pip install 'vpc-verify\[aws\]', or pass --no-aws"):
        plan.build(two(), mode="cli")
    with pytest.raises(plan.MissingExtra, match="--publish cloudwatch"):
        plan.build(topology(vpc_id=None), mode="cli", sink=SinkConfig(name="cloudwatch"))
    assert plan.build(two(), mode="cli", aws=False).options.control_plane is None  # the data plane needs nothing
