"""`vpc-verify agent --policy`: the long-running agent with a fleet policy instead of a topology. Each run derives
the topology from the policy and what the emulator reports about the VPC, so an endpoint created between two runs
is in the next one; the policy is read again on SIGHUP (`reload`); a bad policy or a policy with a topology is
exit 2 at start. DNS goes to a loopback port that refuses, so no packet leaves the machine."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.schemas import load_report
from tests.testbed.aws_seed import SeedFacts
from vpc_verify import cli
from vpc_verify.loop import AgentLoop, LoopConfig

POLICY = """\
version: 1
resolver: {{nameservers: [127.0.0.1], port: {port}, timeout_ms: 200}}
classes:
  - name: prod
    interface: [{services}]
"""


def _policy(path: Path, port: int, services: str) -> Path:
    path.write_text(POLICY.format(port=port, services=services))
    return path


def _required(report: dict[str, Any]) -> dict[str, bool]:
    return {r["service"].rsplit(".", 1)[-1]: r["present"] for r in report["policy"]["required"]}


def test_the_agent_derives_its_topology_from_the_policy_every_run(
    ec2: Any, seeded: SeedFacts, tmp_path: Path, closed_dns_port: int
) -> None:
    policy = _policy(tmp_path / "policy.yaml", closed_dns_port, "sqs, sts")
    state = tmp_path / "state.json"
    rc = cli.main(
        [
            "agent",
            "--policy",
            str(policy),
            "--vpc-id",
            seeded.vpc_id,
            "--max-runs",
            "1",
            "--jitter",
            "0",
            "--deadline",
            "10",
            "--state-file",
            str(state),
            "--log-level",
            "error",
        ]
    )
    assert rc == 0
    report = load_report(state.read_text())
    assert report["policy"]["source"] == str(policy) and report["policy"]["class"]["name"] == "prod"
    assert _required(report) == {"sqs": True, "sts": False}
    missing = {f["endpoint"]: f for f in report["findings"] if f["code"] == "ENDPOINT_MISSING"}
    assert set(missing) == {"sts"}
    assert f"aws ec2 create-vpc-endpoint --vpc-id {seeded.vpc_id}" in missing["sts"]["hint"]
    assert report["loop"]["run"] == 1


def test_the_next_run_sees_a_new_endpoint_and_reload_reads_the_policy_again(
    ec2: Any, seeded: SeedFacts, tmp_path: Path, closed_dns_port: int
) -> None:
    policy = _policy(tmp_path / "policy.yaml", closed_dns_port, "sqs, sts")
    state = tmp_path / "state.json"
    loop = AgentLoop(
        LoopConfig(policy=str(policy), vpc_id=seeded.vpc_id, state_file=str(state), deadline_s=10, max_runs=1)
    )

    def one_run() -> dict[str, Any]:
        asyncio.run(loop.run_forever())
        return json.loads(state.read_text())  # type: ignore[no-any-return]

    assert _required(one_run()) == {"sqs": True, "sts": False}
    ec2.create_vpc_endpoint(
        VpcId=seeded.vpc_id,
        ServiceName="com.amazonaws.us-east-1.sts",
        VpcEndpointType="Interface",
        SubnetIds=[seeded.agent_subnet_id],
    )
    loop.config = LoopConfig(**{**_fields(loop.config), "max_runs": 2})
    assert _required(one_run()) == {"sqs": True, "sts": True}  # derived again: no restart needed
    _policy(policy, closed_dns_port, "sqs, sts, kms")
    loop.config = LoopConfig(**{**_fields(loop.config), "max_runs": 3})
    assert "kms" not in _required(one_run())  # the policy is kept for five minutes ...
    loop.reload()  # ... unless SIGHUP says otherwise
    loop.config = LoopConfig(**{**_fields(loop.config), "max_runs": 4})
    assert set(_required(one_run())) == {"sqs", "sts", "kms"}


def _fields(config: LoopConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in LoopConfig.__dataclass_fields__}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["-t", "topology.yaml"], "--topology is a whole topology"),
        (["--no-aws"], "--no-aws leaves nothing to check"),
    ],
)
def test_policy_usage_errors_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], expected: str, closed_dns_port: int
) -> None:
    policy = _policy(tmp_path / "policy.yaml", closed_dns_port, "sqs")
    rc = cli.main(["agent", "--policy", str(policy), *extra, "--max-runs", "1"])
    assert rc == 2
    assert expected in capsys.readouterr().err


def test_a_bad_policy_is_exit_2_at_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\nclasses:\n  - name: prod\n    interface: 7\n")
    rc = cli.main(["agent", "--policy", str(bad), "--max-runs", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and str(bad) in err and "Traceback" not in err


def test_neither_topology_nor_policy_names_both(capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    monkeypatch.delenv("VPC_VERIFY_TOPOLOGY", raising=False)
    monkeypatch.delenv("VPC_VERIFY_POLICY", raising=False)
    rc = cli.main(["agent", "--max-runs", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "--topology FILE" in err and "--policy" in err
