"""The gate's topology sources and report store against the emulator: an SSM parameter, an S3 object, and the
full report put in S3 (ReportS3Url), or the log kept as the place when S3 refuses."""

from __future__ import annotations

import json
import ssl

import boto3
import yaml

from tests.gate.events import LOG_GROUP, LOG_STREAM, FakeContext, cfn_event
from tests.gate.standins import ResponseBucket
from tests.gate.test_cfn_resource import answer, dead_topology
from tests.testbed import emulator
from vpc_verify.shells import cfn_resource


def test_topology_from_an_ssm_parameter(aws: emulator.Emulator, bucket: ResponseBucket, tls: ssl.SSLContext) -> None:
    boto3.client("ssm").put_parameter(
        Name="/network/topology", Value=yaml.safe_dump(dead_topology(1, "ssm")), Type="String"
    )
    props = {"TopologySsmParameter": "/network/topology", "WaitSeconds": 0}
    cfn_resource.handle(cfn_event("Create", bucket.url(), props), FakeContext(30), tls=tls)
    assert "ssm0: DNS_TIMEOUT" in answer(bucket)["Reason"]


def test_topology_from_s3_replaces_the_functions_own(
    aws: emulator.Emulator, bucket: ResponseBucket, tls: ssl.SSLContext
) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="topologies")
    s3.put_object(Bucket="topologies", Key="prod/vpc.yaml", Body=yaml.safe_dump(dead_topology(1, "objs")).encode())
    props = {"TopologyS3Url": "s3://topologies/prod/vpc.yaml", "WaitSeconds": 0}
    # The function's own source (an SSM parameter that does not exist) is not read.
    env = {"VPC_VERIFY_TOPOLOGY_SSM": "/missing", **aws.env()}
    cfn_resource.handle(cfn_event("Create", bucket.url(), props), FakeContext(30), env, tls=tls)
    assert "objs0: DNS_TIMEOUT" in answer(bucket)["Reason"]


def test_a_missing_parameter_is_a_clear_failure(
    aws: emulator.Emulator, bucket: ResponseBucket, tls: ssl.SSLContext
) -> None:
    props = {"TopologySsmParameter": "/not/there", "WaitSeconds": 0}
    cfn_resource.handle(cfn_event("Create", bucket.url(), props), FakeContext(30), tls=tls)
    reason = answer(bucket)["Reason"]
    assert reason.startswith("vpc-verify could not check (AwsError): AWS ssm:GetParameter"), reason


def test_the_full_report_goes_to_s3(aws: emulator.Emulator, bucket: ResponseBucket, tls: ssl.SSLContext) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="gate-reports")
    props = {"Topology": dead_topology(2), "WaitSeconds": 0, "ReportS3Url": "s3://gate-reports/network/"}
    cfn_resource.handle(cfn_event("Create", bucket.url(), props), FakeContext(30, "req-s3"), tls=tls)
    doc = answer(bucket)
    location = f"s3://gate-reports/network/req-s3.json (and CloudWatch Logs {LOG_GROUP} stream {LOG_STREAM})"
    assert doc["Data"]["Report"] == location
    assert doc["Reason"].endswith(f"Full report: {location}")
    stored = json.loads(s3.get_object(Bucket="gate-reports", Key="network/req-s3.json")["Body"].read())
    assert stored["run_id"] == "req-s3" and stored["healthy"] is False
    assert [e["name"] for e in stored["endpoints"]] == ["svc0", "svc1"]


def test_a_report_s3_cannot_take_is_noted_and_the_log_stays_the_place(
    aws: emulator.Emulator, bucket: ResponseBucket, tls: ssl.SSLContext
) -> None:
    props = {"Topology": dead_topology(1), "WaitSeconds": 0, "ReportS3Url": "s3://no-such-bucket/x"}
    cfn_resource.handle(cfn_event("Create", bucket.url(), props), FakeContext(30), tls=tls)
    doc = answer(bucket)
    assert doc["Data"]["Report"] == f"CloudWatch Logs {LOG_GROUP} stream {LOG_STREAM}"
    assert "the report could not be stored in s3://no-such-bucket/x" in doc["Reason"]
