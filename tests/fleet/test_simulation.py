"""The fleet simulated at scale: 200 VPCs in 10 accounts of the emulator, each checked by the policy-driven check
as the StackSet's function would run it (the VPC discovered, its topology derived from one shared policy), each
run's metrics published to CloudWatch and its JSON report kept in S3 under <account>/<region>/<vpc-id>.json, then
`vpc-verify fleet` over the metrics and the reports, as the monitoring account runs it.

Accounts: the emulator serves a role's account to whoever assumed it (STS AssumeRole), as the StackSet's
execution role in each member account. The emulator has no CloudWatch cross-account observability, so every run
publishes into the monitoring account's CloudWatch (what the OAM sink shows there); the account comes from the
report's key. The data plane is out of scope here: every name is asked of a loopback port that refuses, so no
packet leaves the machine and every VPC's run is unhealthy on DNS; what is simulated is the control plane, the
derivation, the findings and the fleet report at fleet scale, in bounded time.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.schemas import load_fleet
from tests.testbed import emulator
from vpc_verify import cli
from vpc_verify import plan as plan_mod

ACCOUNTS = tuple(f"1000000000{n:02d}" for n in range(10))
VPCS_PER_ACCOUNT = 20
REGION = "us-east-1"
BUCKET = "org-vpc-verify"
POLICY = """\
version: 1
resolver: {{nameservers: [127.0.0.1], port: {port}, timeout_ms: 100}}
classes:
  - name: prod
    match: {{environment: prod}}
    interface: [sqs, sts]
    gateway: [s3]
    azs: 2
"""
NO_METADATA = {"AWS_EC2_METADATA_DISABLED": "true"}  # the function's place comes from --vpc-id here
THREADS = 4
# The whole simulation (seeding included) on a shared 2-core CI machine: about 40-55 s there, most of it the
# emulator answering some 4,000 EC2, CloudWatch and S3 calls.
BUDGET_S = 120.0


def _account_clients(account: str) -> tuple[Any, Any]:
    """EC2 clients of `account`, as the StackSet's execution role there sees it."""
    import boto3

    sts = boto3.client("sts", region_name=REGION)
    role = f"arn:aws:iam::{account}:role/vpc-verify-fleet"
    creds = sts.assume_role(RoleArn=role, RoleSessionName="fleet-simulation")["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )
    return session.client("ec2"), session.client("sts")


def _seed_vpc(ec2: Any, index: int, *, with_sts: bool) -> str:
    """A VPC with two subnets, interface endpoints for sqs (and sts) and a gateway endpoint for s3."""
    vpc = ec2.create_vpc(
        CidrBlock=f"10.{index}.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "environment", "Value": "prod"}]}],
    )["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{index}.{n}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
        for n, az in ((1, "us-east-1a"), (2, "us-east-1b"))
    ]
    for service in ("sqs", "sts") if with_sts else ("sqs",):
        ec2.create_vpc_endpoint(
            VpcId=vpc,
            VpcEndpointType="Interface",
            ServiceName=f"com.amazonaws.{REGION}.{service}",
            SubnetIds=subnets,
            PrivateDnsEnabled=True,
        )
    ec2.create_vpc_endpoint(VpcId=vpc, VpcEndpointType="Gateway", ServiceName=f"com.amazonaws.{REGION}.s3")
    return vpc


@pytest.mark.slow
def test_two_hundred_vpcs_in_ten_accounts_and_the_fleet_report(
    aws: emulator.Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], closed_dns_port: int
) -> None:
    import boto3

    from vpc_verify.fleet import resolve
    from vpc_verify.publish import sink as sinks
    from vpc_verify.render import jsonreport

    started = time.monotonic()
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="policy.yaml", Body=POLICY.format(port=closed_dns_port).encode())
    # One policy for the organization, read once per warm function (resolve.cached_policy).
    policy = resolve.cached_policy(f"s3://{BUCKET}/policy.yaml", region=REGION, ttl_s=0)
    fleet: dict[str, tuple[str, bool]] = {}  # vpc -> (account, has every required endpoint)
    accounts = {account: _account_clients(account) for account in ACCOUNTS}

    def seed_account(account: str) -> None:
        ec2, sts = accounts[account]
        assert sts.get_caller_identity()["Account"] == account
        for i in range(VPCS_PER_ACCOUNT):
            complete = i % 10 != 3  # one VPC in ten lacks sts
            fleet[_seed_vpc(ec2, i, with_sts=complete)] = (account, complete)

    # Accounts are seeded side by side, and the functions run side by side, as a fleet's do.
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(seed_account, ACCOUNTS))
    seeded_s = time.monotonic() - started

    cloudwatch = sinks.make(sinks.SinkConfig("cloudwatch"), region=REGION)
    silent = set(list(fleet)[:5])  # five functions stopped two hours ago: their last report is old, no metric since
    run_started = time.monotonic()

    def check(vpc: str) -> None:
        account = fleet[vpc][0]
        derived = resolve.derived(policy, vpc_id=vpc, ec2=accounts[account][0], env=NO_METADATA)
        plan = plan_mod.build(
            derived.topology, mode="lambda", control_plane=derived.control_plane, workers=1, deadline_s=20
        )
        report = derived.annotate(plan.run())
        if vpc in silent:
            report = replace(report, started_at=report.started_at - timedelta(hours=2))
        else:
            assert sinks.publish(report, cloudwatch).ok
        s3.put_object(Bucket=BUCKET, Key=f"reports/{account}/{REGION}/{vpc}.json", Body=jsonreport.render(report))

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(check, list(fleet)))
    runs_s = time.monotonic() - run_started

    capsys.readouterr()
    fleet_started = time.monotonic()
    rc = cli.main(["fleet", "--region", REGION, "--reports", f"s3://{BUCKET}/reports/", "--format", "json"])
    fleet_s = time.monotonic() - fleet_started
    out = load_fleet(capsys.readouterr().out)
    total_s = time.monotonic() - started
    print(f"seeded {len(fleet)} VPCs in {seeded_s:.1f} s, checked in {runs_s:.1f} s, fleet report in {fleet_s:.1f} s")

    assert rc == 1
    assert len(out["vpcs"]) == len(fleet) == len(ACCOUNTS) * VPCS_PER_ACCOUNT
    assert out["counts"] == {"unhealthy": len(fleet) - len(silent), "silent": len(silent), "healthy": 0}
    statuses = [v["status"] for v in out["vpcs"]]
    assert statuses == sorted(statuses, key=("unhealthy", "silent", "healthy").index)  # unhealthy first
    for v in out["vpcs"]:
        account, complete = fleet[v["vpc_id"]]
        assert (v["account"], v["region"], v["policy_class"]) == (account, REGION, "prod")
        if v["status"] == "silent":
            assert v["vpc_id"] in silent
            continue
        assert "metrics" in v["sources"] and any(s.startswith("s3://") for s in v["sources"])
        assert v["endpoints"] == 3  # sqs, sts and s3: the missing sts is expected all the same
        missing = {m["endpoint"]: m for m in v["missing"]}
        if complete:
            assert not missing and "ENDPOINT_MISSING" not in v["codes"]
        else:
            assert set(missing) == {"sts"}
            assert missing["sts"]["command"].startswith(
                f"aws ec2 create-vpc-endpoint --vpc-id {v['vpc_id']} --vpc-endpoint-type Interface "
                f"--service-name com.amazonaws.{REGION}.sts"
            )
    assert total_s < BUDGET_S, f"the simulation took {total_s:.1f} s"
