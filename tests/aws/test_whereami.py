"""Where the agent runs: flags and environment first; the metadata service never asked when disabled."""

from __future__ import annotations

import pytest

from vpc_verify.aws import whereami


def _forbid_imds(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the instance metadata service must not be asked")

    monkeypatch.setattr(whereami, "_imds", forbidden)


def test_flags_win_and_metadata_is_not_asked_when_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    _forbid_imds(monkeypatch)
    env = {
        "AWS_EC2_METADATA_DISABLED": "true",
        "VPC_VERIFY_AZ": "us-east-1b",
        "VPC_VERIFY_SECURITY_GROUP_IDS": "sg-1, sg-2",
    }
    place = whereami.locate("subnet-0abc", None, env=env)
    assert (place.subnet_id, place.az, place.security_group_ids) == ("subnet-0abc", "us-east-1b", ("sg-1", "sg-2"))
    assert place.source == "flags+env"
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "TRUE")
    assert whereami.from_imds() == whereami.Place()


def test_lambda_environment_never_asks_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    _forbid_imds(monkeypatch)
    place = whereami.locate(env={"AWS_LAMBDA_FUNCTION_NAME": "vpc-verify"})
    assert place.function_name == "vpc-verify" and place.source == "lambda"


def test_imds_answers_are_used_when_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {
        "/latest/api/token": "tok",
        "/latest/meta-data/mac": "02:00:00:00:00:01",
        "/latest/meta-data/local-ipv4": "10.0.1.7",
        "/latest/meta-data/placement/availability-zone": "us-east-1a",
        "/latest/meta-data/instance-id": "i-0123",
        "/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/subnet-id": "subnet-1",
        "/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/security-group-ids": "sg-a\nsg-b",
    }
    asked: list[tuple[str, str | None]] = []

    def fake(method: str, path: str, token: str | None, timeout_s: float, headers: object = None) -> str | None:
        asked.append((path, token))
        return answers.get(path)

    monkeypatch.setattr(whereami, "_imds", fake)
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED", raising=False)
    place = whereami.locate(env={})
    assert (place.address, place.subnet_id, place.az) == ("10.0.1.7", "subnet-1", "us-east-1a")
    assert place.security_group_ids == ("sg-a", "sg-b") and place.source == "imds"
    assert all(token == "tok" for path, token in asked if path != "/latest/api/token")  # IMDSv2
