"""Through the endpoint, signed, on the box: every ENI of every endpoint answers the real CLI's signed call the way
AWS would (tests/testbed/aws_api.py), and each class of answer becomes its finding. Then with the control plane
(the emulator): the denying endpoint is named by AWS's id with its policy beside the denial, an IAM denial is not
blamed on the endpoint, and a Lambda run whose PutMetricData path is cut still returns its report and says it
could not publish.

Everything listens inside the pytest process's network namespace (tests/conftest.py); credentials are fake, and
the stand-in checks their SigV4 signatures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.schemas import load_report
from tests.testbed import aws_api, aws_seed, emulator
from tests.testbed.aws_box import box_spec, site_topology
from tests.testbed.box import Box

pytestmark = pytest.mark.netns
Factory = Callable[[dict[str, Any]], Box]

# endpoint -> how the stand-in answers on its ENIs
ANSWERS = {
    "sqs": "endpoint_deny",
    "kms": "identity_implicit",
    "sts": "allow",
    "ssm": "scp_deny",
    "logs": "throttle",
    "secretsmanager": "endpoint_implicit",
    "ecr": "transitive_scp",
}
SERVICES = {"ecr": "ecr.api"}


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vpc_verify", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, **(env or {})},
    )


def by_endpoint(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in report["endpoints"]}


def codes(endpoint: dict[str, Any]) -> set[str]:
    return {f["code"] for f in endpoint["findings"]}


def test_every_answer_class_through_the_cli(testbed_factory: Factory) -> None:
    endpoints = [
        {
            "name": name,
            "service": f"com.amazonaws.us-east-1.{SERVICES.get(name, name)}",
            "dns_name": f"{'api.ecr' if name == 'ecr' else name}.us-east-1.amazonaws.com",
            "addresses": [f"10.0.{i + 1}.10", f"10.0.{i + 1}.20"],
            "fault": "closed",  # the box serves DNS and the addresses; the stand-in listens there
        }
        for i, name in enumerate(ANSWERS)
    ]
    box = testbed_factory({"vpc_cidrs": ["10.0.0.0/16"], "timeout_ms": 3000, "endpoints": endpoints})
    topology = box.write_topology()
    with aws_api.running(aws_api.for_box(box, ANSWERS)) as api:
        done = cli("check", "-t", str(topology), "--authorize", "--format", "json", "--deadline", "30")
        plain = cli("check", "-t", str(topology), "--format", "json", "--deadline", "30")
    assert done.returncode == 1, done.stderr
    report = by_endpoint(load_report(done.stdout))

    # Every ENI got its own signed call, and each signature verified.
    seen = {(r.host, r.action) for r in api.requests}
    assert len(seen) == 2 * len(ANSWERS) and all(r.signed and r.signature_ok for r in api.requests)
    assert {r.sni for r in api.requests} == {e["dns_name"] for e in endpoints}

    sqs = report["sqs"]
    assert codes(sqs) == {"ENDPOINT_POLICY_DENIES"} and not sqs["healthy"]
    vpce_id = box.spec.endpoints[0].vpce_name.split("-")[0] + "-" + box.spec.endpoints[0].vpce_name.split("-")[1]
    for finding in sqs["findings"]:  # named without the control plane: from the vpce-... name in the DNS chain
        assert finding["evidence"]["vpc_endpoint_id"] == vpce_id and vpce_id in finding["message"]
        assert finding["evidence"]["explicit"] is True and finding["evidence"]["request_id"]
    assert codes(report["secretsmanager"]) == {"ENDPOINT_POLICY_DENIES"}
    assert {f["evidence"]["explicit"] for f in report["secretsmanager"]["findings"]} == {False}

    kms = report["kms"]  # the agent's own IAM policy: a warning, the endpoint stays healthy
    assert codes(kms) == {"IDENTITY_POLICY_DENIES"} and kms["healthy"]
    assert kms["findings"][0]["evidence"]["denied_by"] == "identity-based policy"
    ssm = report["ssm"]
    assert codes(ssm) == {"IDENTITY_POLICY_DENIES"} and ssm["healthy"]
    assert ssm["findings"][0]["evidence"]["policy_arn"] == aws_api.SCP_ARN
    ecr = report["ecr"]  # "... in a VPC endpoint policy transitively through a service control policy": the SCP's
    assert codes(ecr) == {"IDENTITY_POLICY_DENIES"} and ecr["findings"][0]["evidence"]["via"] == "VPC endpoint policy"
    assert codes(report["logs"]) == {"SIGNED_CALL_THROTTLED"} and report["logs"]["healthy"]
    assert codes(report["sts"]) == set() and report["sts"]["healthy"]
    address = report["sts"]["addresses"][0]
    assert address["signed"]["status"] == "allowed" and address["signed"]["call"] == "sts:GetCallerIdentity"

    # Without --authorize nothing is signed: the same box is healthy (TLS answers), no signed phase.
    assert plain.returncode == 0, plain.stderr
    assert all("signed" not in a for e in load_report(plain.stdout)["endpoints"] for a in e["addresses"])


DENY_LIST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "sqs:List*", "Resource": "*"},
    ],
}


@pytest.fixture
def site(aws: emulator.Emulator, testbed_factory: Factory, tmp_path: Path) -> Callable[[str], dict[str, Any]]:
    """A seeded VPC (sqs and monitoring interface endpoints, an s3 gateway), the box serving it with the given
    fault on monitoring, and the topology `discover` wrote (plus resolver and CA bundle). The stand-in API is to
    serve sqs, s3 (and monitoring, when its fault is `closed`)."""
    from vpc_verify.aws import clients

    def make(monitoring: str) -> dict[str, Any]:
        ec2 = clients.ec2("us-east-1")
        facts = aws_seed.seed(ec2, services=("sqs", "monitoring"))
        box = testbed_factory(box_spec(facts, {"sqs": "closed", "s3": "closed", "monitoring": monitoring}))
        # The sqs endpoint's policy lets the workload send, and denies listing: what the signed call does.
        ec2.modify_vpc_endpoint(VpcEndpointId=facts.interfaces["sqs"].vpce_id, PolicyDocument=json.dumps(DENY_LIST))
        discovered = tmp_path / "discovered.yaml"
        done = cli("discover", "--vpc-id", facts.vpc_id, "--region", "us-east-1", "-o", str(discovered), env=aws.env())
        assert done.returncode == 0, done.stderr
        topology = site_topology(discovered, box, tmp_path / "topology.yaml")
        doc = yaml.safe_load(topology.read_text())
        for e in doc["endpoints"]:
            if e["name"] == "s3":  # a gateway has no TLS phase by default; the signed call trusts the box's CA
                e["tls"] = doc["defaults"]["tls"]
        topology.write_text(yaml.safe_dump(doc, sort_keys=False))
        return {"facts": facts, "box": box, "topology": topology, "env": aws.env()}

    return make


def test_with_the_control_plane_the_denying_endpoint_is_named_and_its_policy_shown(
    site: Callable[[str], dict[str, Any]],
) -> None:
    made = site("closed")
    facts, topology = made["facts"], made["topology"]
    answers = {"sqs": "endpoint_deny", "monitoring": "identity_implicit", "s3": "allow"}
    with aws_api.running(aws_api.for_box(made["box"], answers)):
        args = ["check", "-t", str(topology), "--authorize", "--format", "json", "--deadline", "30"]
        done = cli(*args, "--subnet-id", facts.agent_subnet_id, env=made["env"])
    assert done.returncode == 1, done.stderr
    report = by_endpoint(load_report(done.stdout))
    sqs = report["sqs"]
    vpce_id = facts.interfaces["sqs"].vpce_id
    assert codes(sqs) == {"ENDPOINT_POLICY_DENIES"}, sqs["findings"]
    finding = sqs["findings"][0]
    assert finding["evidence"]["vpc_endpoint_id"] == vpce_id and vpce_id in finding["message"]
    assert finding["evidence"]["policy"] == DENY_LIST and finding["evidence"]["policy_default"] is False
    assert finding["evidence"]["policy_statements"] == [DENY_LIST["Statement"][1]]
    assert f"--vpc-endpoint-id {vpce_id}" in finding["hint"]
    assert sqs["aws"]["policy_default"] is False and sqs["aws"]["policy"] == DENY_LIST  # noted in the report
    monitoring = report["monitoring"]  # the IAM denial is not blamed on the endpoint, whose policy is the default
    assert codes(monitoring) == {"IDENTITY_POLICY_DENIES"} and monitoring["healthy"]
    assert monitoring["findings"][0]["evidence"]["call"] == "cloudwatch:ListDashboards"
    assert monitoring["aws"]["policy_default"] is True and "policy" not in monitoring["aws"]
    s3 = report["s3"]  # s3:ListAllMyBuckets through the gateway
    assert codes(s3) == set() and s3["addresses"][0]["signed"]["status"] == "allowed"


def test_a_lambda_whose_putmetricdata_path_is_cut_returns_its_report(site: Callable[[str], dict[str, Any]]) -> None:
    made = site("drop")
    facts, box = made["facts"], made["box"]
    cut = next(iter(facts.interfaces["monitoring"].addresses))  # the monitoring endpoint's ENI: nft drops it
    answers = {"sqs": "endpoint_deny", "s3": "identity_implicit"}
    env = {
        **os.environ,
        **made["env"],
        "VPC_VERIFY_TOPOLOGY_FILE": str(made["topology"]),
        "VPC_VERIFY_PUBLISH": "cloudwatch",
        "VPC_VERIFY_AUTHORIZE": "true",
        "VPC_VERIFY_SUBNET_ID": facts.agent_subnet_id,
        # PutMetricData goes to the monitoring endpoint's ENI, whose packets are dropped.
        "AWS_ENDPOINT_URL_CLOUDWATCH": f"https://{cut}",
    }
    code = "import json; from vpc_verify.lambda_entry import handle; print(json.dumps(handle({})))"
    with aws_api.running(aws_api.for_box(box, answers)):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["ok"] is True, result
    assert result["published"] is False and result["publish"]["ok"] is False
    assert result["publish"]["fallback"] is True and result["publish"]["emf_lines"] > 0  # EMF lines carried them
    assert any('"_aws"' in line and "Heartbeat" in line for line in lines[:-1])  # the heartbeat among them
    assert {"PUBLISH_FAILED", "TELEMETRY_PATH_BROKEN"} <= set(result["run_findings"])
    unhealthy = {u["endpoint"]: u["codes"] for u in result["unhealthy"]}
    assert unhealthy["sqs"] == ["ENDPOINT_POLICY_DENIES"]
    assert "s3" not in unhealthy  # an IAM denial is a warning about the agent, not the endpoint
    assert "TCP_TIMEOUT" in unhealthy["monitoring"]  # and the cut path itself, seen as every endpoint is
