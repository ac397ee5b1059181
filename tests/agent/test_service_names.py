"""The names clients really use (issue 12, item 1): the catalogue of services' private DNS names shipped in the
package, the topology's defaults from it, and the services it refuses to guess for."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest

from vpc_verify import service_names
from vpc_verify.topology import TopologyError, parse


def endpoint(**fields: Any) -> Any:
    doc = {"version": 1, "endpoints": [{"name": "e", **fields}]}
    return parse(doc).endpoints[0]


@pytest.mark.parametrize(
    ("service", "name"),
    [
        ("com.amazonaws.eu-west-1.kms", "kms.eu-west-1.amazonaws.com"),
        ("com.amazonaws.us-east-1.ecr.api", "api.ecr.us-east-1.amazonaws.com"),
        ("com.amazonaws.us-east-1.ecr.dkr", "vpc-verify.dkr.ecr.us-east-1.amazonaws.com"),  # *.dkr.ecr, a label
        ("com.amazonaws.us-east-1.kinesis-streams", "kinesis.us-east-1.amazonaws.com"),
        ("com.amazonaws.us-east-1.kinesis-firehose", "firehose.us-east-1.amazonaws.com"),
        ("com.amazonaws.us-east-1.sagemaker.runtime", "runtime.sagemaker.us-east-1.amazonaws.com"),
        ("com.amazonaws.us-east-1.sagemaker.api", "api.sagemaker.us-east-1.amazonaws.com"),
        ("com.amazonaws.us-east-1.codeartifact.api", "codeartifact.us-east-1.amazonaws.com"),
        ("com.amazonaws.us-east-1.codeartifact.repositories", "vpc-verify.d.codeartifact.us-east-1.amazonaws.com"),
        ("com.amazonaws.us-east-1.eks-auth", "eks-auth.us-east-1.api.aws"),
        ("com.amazonaws.us-east-1.kms-fips", "kms-fips.us-east-1.amazonaws.com"),
        ("com.amazonaws.cn-north-1.sqs", "sqs.cn-north-1.amazonaws.com.cn"),
        ("cn.com.amazonaws.cn-northwest-1.ecr.api", "api.ecr.cn-northwest-1.amazonaws.com.cn"),
        ("cn.com.amazonaws.cn-north-1.eks-auth", "eks-auth.cn-north-1.api.amazonwebservices.com.cn"),
        ("com.amazonaws.us-gov-west-1.sts", "sts.us-gov-west-1.amazonaws.com"),
        ("com.amazonaws.us-east-1.s3", "s3.us-east-1.amazonaws.com"),  # not its wildcard *.s3
    ],
)
def test_a_service_defaults_to_the_name_its_clients_use(service: str, name: str) -> None:
    e = endpoint(service=service)
    assert e.dns_names == (name,)
    assert e.server_name == name  # a wildcard's label is covered by the wildcard certificate


def test_email_smtp_is_probed_on_an_smtp_port_not_443() -> None:
    e = endpoint(service="com.amazonaws.us-east-1.email-smtp")
    assert e.dns_names == ("email-smtp.us-east-1.amazonaws.com",) and e.port == 465
    assert endpoint(service="com.amazonaws.us-east-1.email-smtp", port=587, tls=False).port == 587
    known = service_names.lookup("com.amazonaws.us-east-1.email-smtp")
    assert known is not None and {25, 465, 587} <= set(known.ports) and "STARTTLS" in known.note


def test_execute_api_is_never_defaulted() -> None:
    with pytest.raises(TopologyError, match=r"endpoints\[0\]\.dns_names: .*<api-id>\.execute-api"):
        endpoint(service="com.amazonaws.us-east-1.execute-api")
    api = endpoint(
        service="com.amazonaws.us-east-1.execute-api", dns_names=["a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"]
    )
    assert api.dns_names == ("a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",)


def test_an_unknown_service_is_an_error_not_a_guess() -> None:
    with pytest.raises(TopologyError) as caught:
        endpoint(service="com.amazonaws.us-east-1.brand-new-service")
    text = str(caught.value)
    assert "endpoints[0].dns_names" in text and "not in vpc-verify's catalogue" in text
    assert service_names.catalogue().version in text and "discover" in text
    assert "brand-new-service.us-east-1.amazonaws.com" not in text  # no guess offered either
    # Named explicitly, it is checked as written.
    assert endpoint(service="com.amazonaws.us-east-1.brand-new-service", dns_names=["x.example"]).dns_names == (
        "x.example",
    )


def test_a_wildcard_name_is_refused_with_a_name_under_it() -> None:
    with pytest.raises(TopologyError, match=r"not a wildcard: list one under it, such as vpc-verify\.dkr\.ecr"):
        endpoint(service="com.amazonaws.us-east-1.ecr.dkr", dns_names=["*.dkr.ecr.us-east-1.amazonaws.com"])


def test_the_catalogue_ships_with_its_version_and_sources() -> None:
    raw = json.loads(resources.files("vpc_verify").joinpath("service_names.json").read_text())
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw["version"])
    sources = raw["sources"]
    assert all(url.startswith("https://") for url in sources.values())
    for short, entry in raw["services"].items():
        assert entry.get("source", "privatelink") in sources, short
        for name in entry.get("names", []):
            assert name.endswith((".{dns}", ".{api}")) and "{region}" in name, (short, name)
    assert {p["id"] for p in raw["partitions"]} >= {"aws", "aws-cn", "aws-us-gov"}


def test_wildcards_cover_names_below_their_zone_only() -> None:
    assert service_names.covers("*.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com")
    assert not service_names.covers("*.dkr.ecr.us-east-1.amazonaws.com", "dkr.ecr.us-east-1.amazonaws.com")
    assert service_names.covers("sqs.us-east-1.amazonaws.com", "SQS.us-east-1.amazonaws.com.")
    assert service_names.lookup("com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0") is None
    assert service_names.lookup("arn:aws:vpc-lattice:us-east-1:123456789012:servicenetwork/sn-0123") is None


def test_a_hub_is_declared_for_the_file_and_opted_out_of_per_endpoint() -> None:
    hub = {"cidrs": ["10.2.0.0/16"], "vpc_id": "vpc-0123456789abcdef0"}
    doc = {
        "version": 1,
        "vpc": {"cidrs": ["10.0.0.0/16"]},
        "hub": hub,
        "endpoints": [
            {"name": "sqs", "service": "com.amazonaws.us-east-1.sqs"},
            {"name": "kms", "service": "com.amazonaws.us-east-1.kms", "hub": False},
            {"name": "s3", "type": "gateway", "service": "com.amazonaws.us-east-1.s3"},
        ],
    }
    topology = parse(doc)
    sqs, kms, s3 = topology.endpoints
    assert sqs.hub is not None and [str(c) for c in sqs.hub.cidrs] == ["10.2.0.0/16"]
    assert kms.hub is None and s3.hub is None
    assert [str(n) for n in topology.networks(sqs)] == ["10.0.0.0/16", "10.2.0.0/16"]
    assert [str(n) for n in topology.networks(kms)] == ["10.0.0.0/16"]


@pytest.mark.parametrize(
    ("hub", "where", "expected"),
    [
        ({"vpc_id": "vpc-0123456789abcdef0"}, "hub.cidrs", "the hub VPC's CIDRs"),
        ({"cidrs": ["10.2.0.1/16"]}, "hub.cidrs[0]", "a CIDR"),
        ({"cidrs": ["10.2.0.0/16"], "vpc_id": "vpc-x"}, "hub.vpc_id", "a VPC id"),
        ({"cidrs": ["10.2.0.0/16"], "peers": 1}, "hub.peers", ""),
    ],
)
def test_a_bad_hub_names_its_key_path(hub: dict[str, Any], where: str, expected: str) -> None:
    with pytest.raises(TopologyError) as caught:
        parse({"version": 1, "hub": hub, "endpoints": [{"name": "sqs", "service": "com.amazonaws.us-east-1.sqs"}]})
    assert where in str(caught.value) and expected in str(caught.value)
