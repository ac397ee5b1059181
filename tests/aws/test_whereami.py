"""Where the agent runs: flags and environment first; the metadata services asked as AWS serves them (stand-ins on
loopback, tests/aws/standins.py); a Lambda never takes its link-local address as its source."""

from __future__ import annotations

import socket
import time

import pytest

from tests.aws import standins
from vpc_verify.aws import whereami

ANSWERS = {
    "mac": "02:00:00:00:00:01",
    "local-ipv4": "10.0.1.7",
    "placement/availability-zone": "us-east-1a",
    "placement/availability-zone-id": "use1-az6",
    "instance-id": "i-0123",
    "network/interfaces/macs/02:00:00:00:00:01/subnet-id": "subnet-1",
    "network/interfaces/macs/02:00:00:00:00:01/security-group-ids": "sg-a\nsg-b",
}


def _forbid_imds(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the instance metadata service must not be asked")

    monkeypatch.setattr(whereami, "_imds", forbidden)


def _closed_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


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
    flagged = whereami.locate(None, "use1-az2", security_group_ids=("sg-9",), env=env)
    assert (flagged.az_id, flagged.az, flagged.security_group_ids) == ("use1-az2", "us-east-1b", ("sg-9",))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "TRUE")
    assert whereami.from_imds() == whereami.Place()


def test_lambda_environment_never_asks_the_instance_metadata_service(monkeypatch: pytest.MonkeyPatch) -> None:
    _forbid_imds(monkeypatch)
    place = whereami.locate(env={"AWS_LAMBDA_FUNCTION_NAME": "vpc-verify"})
    assert place.function_name == "vpc-verify" and place.source == "lambda"
    assert place.return_ports() == (1024, 65535)  # AWS: Lambda functions use ephemeral ports 1024-65535


def test_lambda_az_id_comes_from_the_lambda_metadata_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    _forbid_imds(monkeypatch)
    with standins.serving(standins.lambda_metadata("use1-az4")) as url:
        api = url.removeprefix("http://")
        env = {"AWS_LAMBDA_FUNCTION_NAME": "f", "AWS_LAMBDA_METADATA_API": api}
        good = whereami.locate(env={**env, "AWS_LAMBDA_METADATA_TOKEN": standins.TOKEN})
        bad = whereami.locate(env={**env, "AWS_LAMBDA_METADATA_TOKEN": "wrong"})
    assert good.az_id == "use1-az4" and good.notes == ()
    assert bad.az_id is None and "HTTP 401" in bad.notes[0]


def test_imdsv2_answers_are_used_with_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = standins.imds(ANSWERS)
    with standins.serving(handler) as url:
        place = whereami.locate(env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": url})
    assert (place.address, place.subnet_id, place.az, place.az_id) == ("10.0.1.7", "subnet-1", "us-east-1a", "use1-az6")
    assert place.security_group_ids == ("sg-a", "sg-b") and place.source == "imds"
    gets = [token for method, _, token in handler.asked if method == "GET"]  # type: ignore[attr-defined]
    assert gets and all(token == standins.TOKEN for token in gets)  # IMDSv2: every GET carries the token


def test_a_lost_token_answer_says_hop_limit_and_how_to_fix_it() -> None:
    with standins.serving(standins.imds(ANSWERS, drop_token=True)) as url:
        start = time.monotonic()
        place = whereami.from_imds(timeout_s=0.3, env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": url})
        spent = time.monotonic() - start
    assert place.subnet_id is None and spent < 2
    assert "hop limit of 2" in place.notes[0] and "--http-put-response-hop-limit 2" in place.notes[0]
    assert "--subnet-id" in place.describe_missing() and "hop limit" in place.describe_missing()


def test_an_ipv6_only_instance_is_answered_on_the_ipv6_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """No IPv4 metadata service answers (IPv6-only subnet): [fd00:ec2::254] does, and `ipv6` is the address."""
    answers = {k: v for k, v in ANSWERS.items() if k != "local-ipv4"} | {"ipv6": "2600:1f18:1:5601::7"}
    monkeypatch.setattr(whereami, "IMDS_URL", f"http://127.0.0.1:{_closed_port()}")
    with standins.serving(standins.imds(answers), host="::1") as url:
        monkeypatch.setattr(whereami, "IMDS_IPV6_URL", url)
        place = whereami.from_imds(env={})
        only_v6 = whereami._imds_bases({"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"})
    assert (place.address, place.ipv6_address, place.subnet_id) == (None, "2600:1f18:1:5601::7", "subnet-1")
    assert only_v6 == (url,)


def test_no_metadata_service_says_so() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    place = whereami.from_imds(env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": url})
    assert place.subnet_id is None and "not on EC2" in place.notes[0]
