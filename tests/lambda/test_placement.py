"""The member template's Placement lookup (lambda/template.yaml, VpcTag and SubnetTag): the inline function's code,
taken from the template as CloudFormation would run it, against the AWS emulator, answering a pre-signed URL that is
a server on 127.0.0.1. It finds exactly one tagged VPC, its CIDR and its tagged subnets (or one per AZ), fails with
a reason CloudFormation shows for no VPC, two VPCs or no subnet, and answers a Delete without asking EC2."""

from __future__ import annotations

import json
import threading
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml

from tests.testbed import emulator

from .test_template import TEMPLATE, _CfnLoader


class _Answers(BaseHTTPRequestHandler):
    """CloudFormation's side of the pre-signed URL: keeps every PUT body."""

    received: list[dict[str, Any]]

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        self.server.received.append(  # type: ignore[attr-defined]
            {
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "body": json.loads(self.rfile.read(length)),
            }
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def response_url() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/cfn-response?X-Amz-Signature=abc", server.received  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def placement_code() -> types.ModuleType:
    """The inline function of the template, as a module (CloudFormation writes it to index.py)."""
    template = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    function = template["Resources"]["PlacementFunction"]["Properties"]
    assert function["Handler"] == "index.handler"
    code = function["Code"]["ZipFile"]
    assert len(code) <= 4096, "CloudFormation's inline code is at most 4096 characters"
    module = types.ModuleType("index")
    exec(compile(code, "index.py", "exec"), module.__dict__)
    return module


class _Context:
    log_stream_name = "2026/11/26/[$LATEST]0123456789abcdef"


def invoke(url: str, request_type: str = "Create", **props: str) -> None:
    event = {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/vv/1",
        "RequestId": "req-1",
        "LogicalResourceId": "Placement",
        "ResourceType": "Custom::VpcPlacement",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:x", **props},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "vpc-0previous"
    placement_code().handler(event, _Context())


def _vpc(ec2: Any, cidr: str, tags: dict[str, str]) -> str:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    if tags:
        ec2.create_tags(Resources=[vpc], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return str(vpc)


def _subnet(ec2: Any, vpc: str, cidr: str, az: str, tags: dict[str, str] | None = None) -> str:
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
    if tags:
        ec2.create_tags(Resources=[subnet], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return str(subnet)


@pytest.fixture
def ec2(aws: emulator.Emulator) -> Any:
    import boto3

    return boto3.client("ec2", region_name="us-east-1")


def test_the_tagged_vpc_and_its_tagged_subnets(ec2: Any, response_url: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = response_url
    _vpc(ec2, "10.9.0.0/16", {"vpc-verify": "other"})
    vpc = _vpc(ec2, "10.20.0.0/16", {"vpc-verify": "workload", "Name": "prod"})
    private = {
        _subnet(ec2, vpc, f"10.20.{i}.0/24", f"us-east-1{az}", {"tier": "private"}) for i, az in enumerate("abc")
    }
    _subnet(ec2, vpc, "10.20.10.0/24", "us-east-1a", {"tier": "public"})
    invoke(url, VpcTag="vpc-verify=workload", SubnetTag="tier=private")
    (answer,) = received
    body = answer["body"]
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["Data"] == {"VpcId": vpc, "CidrBlock": "10.20.0.0/16", "SubnetIds": ",".join(sorted(private))}
    assert body["PhysicalResourceId"] == vpc
    assert (body["StackId"], body["RequestId"], body["LogicalResourceId"]) == (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/vv/1",
        "req-1",
        "Placement",
    )
    assert answer["path"].endswith("X-Amz-Signature=abc") and answer["content_type"] == ""  # as S3 signed it


def test_without_a_subnet_tag_one_subnet_per_az(ec2: Any, response_url: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = response_url
    vpc = _vpc(ec2, "10.30.0.0/16", {"team": "payments"})
    subnets = [_subnet(ec2, vpc, f"10.30.{i}.0/24", f"us-east-1{az}") for i, az in enumerate("aabbc")]
    invoke(url, VpcTag="team=payments", SubnetTag="")
    body = received[0]["body"]
    assert body["Status"] == "SUCCESS", body["Reason"]
    chosen = body["Data"]["SubnetIds"].split(",")
    azs = {s["SubnetId"]: s["AvailabilityZone"] for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]}
    assert len(chosen) == 3 and {azs[s] for s in chosen} == {"us-east-1a", "us-east-1b", "us-east-1c"}
    for az in ("us-east-1a", "us-east-1b"):  # the lowest subnet id of each AZ
        assert min(s for s in subnets if azs[s] == az) in chosen


@pytest.mark.parametrize(
    ("vpcs", "subnet_tag", "reason"),
    [
        (0, "", "0 VPCs carry the tag team=payments (none): tag exactly one"),
        (2, "", "2 VPCs carry the tag team=payments"),
        (1, "tier=private", "carries the tag tier=private"),
    ],
)
def test_what_cannot_be_found_fails_the_stack_with_the_reason(
    ec2: Any, response_url: tuple[str, list[dict[str, Any]]], vpcs: int, subnet_tag: str, reason: str
) -> None:
    url, received = response_url
    for i in range(vpcs):
        vpc = _vpc(ec2, f"10.4{i}.0.0/16", {"team": "payments"})
        _subnet(ec2, vpc, f"10.4{i}.1.0/24", "us-east-1a", {"tier": "public"})
    invoke(url, VpcTag="team=payments", SubnetTag=subnet_tag)
    body = received[0]["body"]
    assert body["Status"] == "FAILED" and reason in body["Reason"], body["Reason"]
    assert body["Data"] == {} and body["PhysicalResourceId"]


def test_a_malformed_tag_fails_and_a_delete_asks_nothing(response_url: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = response_url
    invoke(url, "Delete", VpcTag="no-equals-sign")  # no emulator: a Delete must not call EC2
    assert received[0]["body"]["Status"] == "SUCCESS"
    assert received[0]["body"]["PhysicalResourceId"] == "vpc-0previous"
    invoke(url, "Update", VpcTag="no-equals-sign")
    assert received[1]["body"]["Status"] == "FAILED"
    assert "expected Key=Value, got 'no-equals-sign'" in received[1]["body"]["Reason"]


def _refs_outside_the_lookup(node: Any, names: set[str]) -> list[str]:
    """Refs to `names` that are not the else branch of `!If [FindVpcByTag, <the lookup's output>, ...]`."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("If") and node["If"][0] == "FindVpcByTag":
            _, then, _otherwise = node["If"]
            assert "Placement." in json.dumps(then), then  # the tag branch reads the lookup
            return found
        if node.get("Ref") in names:
            found.append(node["Ref"])
        if "Sub" in node:
            text = node["Sub"] if isinstance(node["Sub"], str) else node["Sub"][0]
            found += [n for n in names if "${" + n + "}" in text]
        for value in node.values():
            found += _refs_outside_the_lookup(value, names)
    elif isinstance(node, list):
        for value in node:
            found += _refs_outside_the_lookup(value, names)
    return found


def test_every_use_of_the_vpc_parameters_has_the_lookup_as_its_alternative() -> None:
    template = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    assert _refs_outside_the_lookup(template["Resources"], {"VpcId", "VpcCidr", "SubnetIds"}) == []
    assert _refs_outside_the_lookup(template["Outputs"], {"VpcId", "VpcCidr", "SubnetIds"}) == []
    for name in ("PlacementRole", "PlacementFunction", "Placement"):
        assert template["Resources"][name]["Condition"] == "FindVpcByTag"  # nothing extra without VpcTag
    (statement,) = template["Resources"]["PlacementRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert set(statement["Action"]) == {"ec2:DescribeVpcs", "ec2:DescribeSubnets"}
    assert "VpcConfig" not in template["Resources"]["PlacementFunction"]["Properties"]  # it must reach EC2 and S3
