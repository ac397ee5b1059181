"""The scheduled function as the StackSet deploys it: VPC_VERIFY_POLICY (one S3 object for the organization),
the VPC found from the function's own subnets, metrics to CloudWatch, the JSON report kept in S3 under
<account>/<region>/<vpc-id>.json; then `vpc-verify fleet` in the monitoring account shows the VPC lacking a
required endpoint with the command that creates it. Against the emulator; DNS to a loopback port that refuses."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from tests.schemas import load_fleet, load_report
from tests.testbed.aws_seed import SeedFacts
from vpc_verify import cli, lambda_entry
from vpc_verify.fleet import resolve

ACCOUNT = "123456789012"
BUCKET = "org-vpc-verify"
POLICY = """\
version: 1
resolver: {{nameservers: [127.0.0.1], port: {port}, timeout_ms: 100}}
classes:
  - name: prod
    match: {{environment: prod}}
    interface: [sqs, kms, sts]
    gateway: [s3]
"""


class Ctx:
    aws_request_id = "req-fleet"
    invoked_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:vpc-verify-member-vpc-verify"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def test_the_function_checks_what_the_policy_requires_and_the_fleet_report_shows_it(
    ec2: Any, seeded: SeedFacts, closed_dns_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    ec2.create_tags(Resources=[seeded.vpc_id], Tags=[{"Key": "environment", "Value": "prod"}])
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="policy.yaml", Body=POLICY.format(port=closed_dns_port).encode())
    resolve._POLICIES.clear()  # a fresh function: no warm cache
    env = {
        **os.environ,
        "AWS_REGION": "us-east-1",
        "VPC_VERIFY_POLICY": f"s3://{BUCKET}/policy.yaml",
        "VPC_VERIFY_SUBNET_IDS": seeded.agent_subnet_id,  # as the template tells the function
        "VPC_VERIFY_PUBLISH": "cloudwatch",
        "VPC_VERIFY_REPORT_S3": f"s3://{BUCKET}/reports/",
    }
    result = lambda_entry.handle({}, Ctx(), env)
    assert result["ok"] and result["vpc_id"] == seeded.vpc_id and result["published"]
    sts = next(u for u in result["unhealthy"] if u["endpoint"] == "sts")
    assert "ENDPOINT_MISSING" in sts["codes"]
    key = f"reports/{ACCOUNT}/us-east-1/{seeded.vpc_id}.json"
    assert result["report_s3"] == f"s3://{BUCKET}/{key}"
    report = load_report(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert report["policy"]["class"]["name"] == "prod" and report["policy"]["source"] == env["VPC_VERIFY_POLICY"]

    capsys.readouterr()
    rc = cli.main(["fleet", "--region", "us-east-1", "--reports", f"s3://{BUCKET}/reports/", "--format", "json"])
    fleet = load_fleet(capsys.readouterr().out)
    assert rc == 1
    (vpc,) = fleet["vpcs"]
    assert (vpc["account"], vpc["vpc_id"], vpc["status"]) == (ACCOUNT, seeded.vpc_id, "unhealthy")
    assert set(vpc["sources"]) == {f"s3://{BUCKET}/{key}", "metrics"}
    (missing,) = vpc["missing"]
    assert missing["command"] == (
        f"aws ec2 create-vpc-endpoint --vpc-id {seeded.vpc_id} --vpc-endpoint-type Interface --service-name "
        "com.amazonaws.us-east-1.sts --subnet-ids <one subnet per AZ> --security-group-ids <sg admitting 443> "
        "--private-dns-enabled"
    )
    assert "sts" in vpc["unhealthy_endpoints"]

    capsys.readouterr()
    assert cli.main(["fleet", "--region", "us-east-1", "--reports", f"s3://{BUCKET}/reports/"]) == 1
    table = capsys.readouterr().out
    assert f"{seeded.vpc_id} lacks sts (interface com.amazonaws.us-east-1.sts): aws ec2 create-vpc-endpoint" in table


def test_a_report_prefix_that_is_not_s3_costs_nothing_but_the_copy(
    ec2: Any, seeded: SeedFacts, closed_dns_port: int, tmp_path: Any
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="policy.yaml", Body=POLICY.format(port=closed_dns_port).encode())
    resolve._POLICIES.clear()
    env = {
        **os.environ,
        "AWS_REGION": "us-east-1",
        "VPC_VERIFY_POLICY": f"s3://{BUCKET}/policy.yaml",
        "VPC_VERIFY_SUBNET_IDS": seeded.agent_subnet_id,
        "VPC_VERIFY_PUBLISH": "none",
        "VPC_VERIFY_REPORT_S3": "bucket/without/scheme",
    }
    result = lambda_entry.handle({}, Ctx(), env)
    assert result["ok"] and result["report_s3"] is None  # logged; the run's result stands
