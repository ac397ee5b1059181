"""Three-way end to end, the on-call way: the topology is discovered while the VPC is healthy, then AWS drifts
(a rule revoked, an endpoint deleted or added, a route removed) and the box's packets drift with it. `check`
must name each misconfiguration with its docs/findings.md code, join the planes (a timeout explained by the security
group that causes it, or pointed at NACLs and routes when the rules admit it), and `diagnose` must show the
evidence per AZ and per address with the next step.

Everything runs in the pytest process's private network namespace (tests/conftest.py): the box's DNS, TLS
listeners and nft drops, and the moto emulator on 127.0.0.1, which the CLI's children reach with fake
credentials and instance metadata disabled. Emulator gaps: ModifyVpcEndpoint ignores PrivateDnsEnabled, so
private DNS off is seeded that way; and it leaves a gateway endpoint's route in place when a route table is
removed, so a missing route is made with DeleteRoute.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.schemas import load_report
from tests.testbed import aws_seed, emulator
from tests.testbed.aws_box import box_spec, site_topology
from tests.testbed.box import PUBLIC_ANSWER, Box
from tests.testbed.cli import run_cli

pytestmark = pytest.mark.netns
Factory = Callable[[dict[str, Any]], Box]


@dataclass(frozen=True, slots=True)
class Site:
    """A seeded VPC, the box serving it, and the topology `discover` wrote for it (plus resolver and CA)."""

    facts: aws_seed.SeedFacts
    box: Box
    topology: Path
    env: dict[str, str]
    ec2: Any

    def cli(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """The real CLI in a child process, pointed at the emulator only."""
        return run_cli(*args, env={**self.env, **(extra_env or {})})

    def check(self, *, extra_env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        """`vpc-verify check --format json` from the seeded agent subnet: exit code and report."""
        done = self.cli(
            "check",
            "-t",
            str(self.topology),
            "--format",
            "json",
            "--subnet-id",
            self.facts.agent_subnet_id,
            "--deadline",
            "20",
            extra_env=extra_env,
        )
        assert done.returncode in (0, 1), done.stderr
        return done.returncode, load_report(done.stdout)


@pytest.fixture
def site(aws: emulator.Emulator, testbed_factory: Factory, tmp_path: Path) -> Callable[..., Site]:
    """Seed the emulator, build the box with `faults`, run `vpc-verify discover`, complete the topology."""
    from vpc_verify.aws import clients

    def make(faults: dict[str, str] | None = None, **seed: Any) -> Site:
        ec2 = clients.ec2("us-east-1")
        facts = aws_seed.seed(ec2, **seed)
        box = testbed_factory(box_spec(facts, faults))
        partial = Site(facts, box, tmp_path / "discovered.yaml", aws.env(), ec2)
        done = partial.cli("discover", "--vpc-id", facts.vpc_id, "--region", "us-east-1", "-o", str(partial.topology))
        assert done.returncode == 0, done.stderr
        return Site(facts, box, site_topology(partial.topology, box, tmp_path / "topology.yaml"), aws.env(), ec2)

    return make


def by_code(report: dict[str, Any], endpoint: str) -> dict[str, list[dict[str, Any]]]:
    """The endpoint's findings grouped by code."""
    (e,) = [e for e in report["endpoints"] if e["name"] == endpoint]
    out: dict[str, list[dict[str, Any]]] = {}
    for f in e["findings"]:
        out.setdefault(f["code"], []).append(f)
    return out


def codes(report: dict[str, Any]) -> dict[str, set[str]]:
    """Endpoint name -> its finding codes."""
    return {e["name"]: {f["code"] for f in e["findings"]} for e in report["endpoints"]}


def dump(report: dict[str, Any]) -> str:
    """The findings, for an assertion message."""
    return json.dumps(report["findings"], indent=1)[:4000]


def test_healthy_vpc_discover_then_check(site: Callable[..., Site]) -> None:
    s = site()
    facts = s.facts
    discovered = yaml.safe_load((s.topology.parent / "discovered.yaml").read_text())
    assert discovered["vpc"]["id"] == facts.vpc_id
    entries = {e["name"]: e for e in discovered["endpoints"]}
    assert set(entries) == {"sqs", "kms", "s3"}
    for name, interface in facts.interfaces.items():
        assert entries[name]["type"] == "interface"
        assert entries[name]["dns_names"] == [interface.dns_name]
        assert sorted(entries[name]["addresses"]) == sorted(interface.addresses)
        # AZ ids (the same zones in every account), this account's names as comments.
        zone_ids = {z["ZoneName"]: z["ZoneId"] for z in s.ec2.describe_availability_zones()["AvailabilityZones"]}
        assert entries[name]["azs"] == sorted(zone_ids[az] for az in ("us-east-1a", "us-east-1b"))
    assert entries["s3"]["type"] == "gateway" and "addresses" not in entries["s3"]

    code, report = s.check()
    assert code == 0, dump(report)
    assert report["healthy"] is True and report["findings"] == []
    assert codes(report) == {"sqs": set(), "kms": set(), "s3": set()}
    assert report["agent"]["subnet_id"] == facts.agent_subnet_id
    for e in report["endpoints"]:
        assert e["addresses"] and all(a["tcp"]["status"] == "ok" for a in e["addresses"]), e
    sqs = next(e for e in report["endpoints"] if e["name"] == "sqs")
    assert {a["address"]: a["az"] for a in sqs["addresses"]} == facts.interfaces["sqs"].addresses
    assert all(a["private"] and a["in_vpc"] for a in sqs["addresses"])
    # The agent's AZ comes from its subnet; each ENI is told AZ-local or cross-AZ against it.
    assert sqs["aws"]["agent_az"] == "us-east-1a"
    assert {n["address"]: n["zone"] for n in sqs["aws"]["network_interfaces"]} == {
        address: "az-local" if az == "us-east-1a" else "cross-az"
        for address, az in facts.interfaces["sqs"].addresses.items()
    }
    s3 = next(e for e in report["endpoints"] if e["name"] == "s3")
    # A prefix-list address, served inside the box: reachable, no TLS expectation (docs/topology.md).
    (s3_address,) = s3["addresses"]
    assert s3_address["private"] is False and s3_address["tls_ms"] is None
    assert any(
        ipaddress.ip_address(s3_address["address"]) in ipaddress.ip_network(c) for c in facts.gateway.prefix_list_cidrs
    )
    assert all(
        a["tls"]["status"] == "ok" for e in report["endpoints"] if e["type"] == "interface" for a in e["addresses"]
    )


def test_private_dns_off_names_the_endpoint_and_the_fix(site: Callable[..., Site]) -> None:
    s = site({"sqs": "public_address"}, private_dns={"sqs": False})
    vpce = s.facts.interfaces["sqs"].vpce_id
    code, report = s.check()
    assert code == 1
    assert codes(report) == {"sqs": {"DNS_PUBLIC_ADDRESS", "PRIVATE_DNS_DISABLED"}, "kms": set(), "s3": set()}, dump(
        report
    )
    sqs = by_code(report, "sqs")
    (public,) = sqs["DNS_PUBLIC_ADDRESS"]
    assert public["address"] == PUBLIC_ANSWER
    assert f"private DNS is off on {vpce}" in public["message"]
    assert f"modify-vpc-endpoint --vpc-endpoint-id {vpce} --private-dns-enabled" in public["hint"]
    assert public["evidence"]["vpc_endpoint_id"] == vpce and public["evidence"]["PrivateDnsEnabled"] is False
    (off,) = sqs["PRIVATE_DNS_DISABLED"]
    assert vpce in off["message"] and s.facts.interfaces["sqs"].dns_name in off["message"]
    assert off["hint"] == f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce} --private-dns-enabled"
    # The public answer is never probed; nothing else was answered.
    (address,) = next(e for e in report["endpoints"] if e["name"] == "sqs")["addresses"]
    assert address["address"] == PUBLIC_ANSWER and address["private"] is False and address["tcp_ms"] is None


def test_revoked_security_group_rule_explains_the_timeout(site: Callable[..., Site]) -> None:
    s = site({"sqs": "drop", "kms": "drop"})
    sg = s.facts.interfaces["kms"].security_group_id
    s.ec2.revoke_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": aws_seed.VPC_CIDR}]}
        ],
    )
    # Only the other subnet may connect now: the agent's subnet is left out.
    s.ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.2.0/24"}]}],
    )
    code, report = s.check()
    assert code == 1
    assert codes(report) == {
        "sqs": {"TCP_TIMEOUT", "SECURITY_GROUP_BLOCKS"},
        "kms": {"TCP_TIMEOUT", "SECURITY_GROUP_BLOCKS"},
        "s3": set(),
    }, dump(report)
    for name in ("sqs", "kms"):
        found = by_code(report, name)
        timeouts = found["TCP_TIMEOUT"]
        assert {f["address"] for f in timeouts} == set(s.facts.interfaces[name].addresses)
        for f in timeouts:
            assert f"no inbound rule of {sg} admits tcp/443 from the agent's subnet (10.0.1.0/24)" in f["message"]
            assert f"--group-id {sg} --protocol tcp --port 443 --cidr 10.0.1.0/24" in f["hint"]
            assert f["evidence"]["verdict"] == "blocks"
        (blocks,) = found["SECURITY_GROUP_BLOCKS"]
        assert blocks["address"] is None
        assert s.facts.interfaces[name].vpce_id in blocks["message"] and sg in blocks["message"]
        assert f"authorize-security-group-ingress --group-id {sg} --protocol tcp --port 443" in blocks["hint"]
        assert [r["source"] for r in blocks["evidence"]["inbound_rules"]] == ["10.0.2.0/24"]


def test_timeout_where_the_group_admits_points_at_nacls_and_routes(site: Callable[..., Site]) -> None:
    s = site({"kms": "drop"})
    facts = s.facts
    sg = facts.interfaces["kms"].security_group_id
    # The rule now names the agent's security group rather than a CIDR; the agent says which groups it has.
    s.ec2.revoke_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": aws_seed.VPC_CIDR}]}
        ],
    )
    s.ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "UserIdGroupPairs": [{"GroupId": facts.agent_security_group_id}],
            }
        ],
    )
    code, report = s.check(extra_env={"VPC_VERIFY_SECURITY_GROUP_IDS": facts.agent_security_group_id})
    assert code == 1
    assert codes(report) == {"sqs": set(), "kms": {"TCP_TIMEOUT"}, "s3": set()}, dump(report)
    eni_subnet = {address: facts.subnets[az] for address, az in facts.interfaces["kms"].addresses.items()}
    route_table = next(
        t["RouteTableId"]
        for t in s.ec2.describe_route_tables(
            Filters=[{"Name": "association.subnet-id", "Values": [facts.agent_subnet_id]}]
        )["RouteTables"]
    )
    timeouts = by_code(report, "kms")["TCP_TIMEOUT"]
    assert {f["address"] for f in timeouts} == set(eni_subnet)
    for f in timeouts:
        assert f"security group {sg} admits tcp/443 from {facts.agent_security_group_id}" in f["message"]
        # The network ACLs are read too: the default ACL admits both ways (or the agent and the ENI share a
        # subnet), so the drop is past what the configuration shows: the route, an appliance, the service.
        same = eni_subnet[f["address"]] == facts.agent_subnet_id
        assert ("no network ACL is on the way" if same else "admit it both ways too") in f["message"]
        assert f"route table {route_table}" in f["hint"]
        assert f["evidence"]["verdict"] == "admits"
        assert f["evidence"]["agent_security_group_ids"] == [facts.agent_security_group_id]


def test_deleted_endpoint_is_missing_and_a_new_one_unexpected(site: Callable[..., Site]) -> None:
    s = site({"kms": "public_address"})  # without its endpoint, the name answers the public service
    facts = s.facts
    kms_vpce = facts.interfaces["kms"].vpce_id
    s.ec2.delete_vpc_endpoints(VpcEndpointIds=[kms_vpce])
    ssm = s.ec2.create_vpc_endpoint(
        VpcId=facts.vpc_id,
        ServiceName="com.amazonaws.us-east-1.ssm",
        VpcEndpointType="Interface",
        SubnetIds=list(facts.subnets.values()),
        SecurityGroupIds=[facts.interfaces["sqs"].security_group_id],
    )["VpcEndpoint"]["VpcEndpointId"]
    code, report = s.check()
    assert code == 1
    assert codes(report) == {"sqs": set(), "kms": {"ENDPOINT_MISSING", "DNS_PUBLIC_ADDRESS"}, "s3": set()}, dump(report)
    kms = by_code(report, "kms")
    (missing,) = kms["ENDPOINT_MISSING"]
    assert f"{facts.vpc_id} has no interface endpoint for com.amazonaws.us-east-1.kms" in missing["message"]
    assert f"create-vpc-endpoint --vpc-id {facts.vpc_id} --vpc-endpoint-type Interface" in missing["hint"]
    assert kms_vpce not in {e["id"] for e in missing["evidence"]["vpc_endpoints"]}
    (public,) = kms["DNS_PUBLIC_ADDRESS"]
    assert "has no endpoint for com.amazonaws.us-east-1.kms" in public["message"]

    (unexpected,) = [f for f in report["findings"] if f["endpoint"] == "*"]
    assert unexpected["code"] == "ENDPOINT_UNEXPECTED" and unexpected["severity"] == "warning"
    assert unexpected["endpoint"] == "*"
    assert ssm in unexpected["message"] and "com.amazonaws.us-east-1.ssm" in unexpected["message"]
    assert f"delete-vpc-endpoints --vpc-endpoint-ids {ssm}" in unexpected["hint"]


def test_an_unexpected_endpoint_alone_is_a_warning(site: Callable[..., Site]) -> None:
    s = site()
    ssm = s.ec2.create_vpc_endpoint(
        VpcId=s.facts.vpc_id,
        ServiceName="com.amazonaws.us-east-1.ssm",
        VpcEndpointType="Interface",
        SubnetIds=[s.facts.agent_subnet_id],
    )["VpcEndpoint"]["VpcEndpointId"]
    code, report = s.check()
    assert code == 0, dump(report)
    assert report["healthy"] is True
    assert [(f["code"], f["severity"], f["evidence"]["vpc_endpoint_id"]) for f in report["findings"]] == [
        ("ENDPOINT_UNEXPECTED", "warning", ssm)
    ]


def test_removed_gateway_route(site: Callable[..., Site]) -> None:
    s = site({"s3": "drop"})
    gw = s.facts.gateway
    s.ec2.delete_route(RouteTableId=gw.route_table_id, DestinationPrefixListId=gw.prefix_list_id)
    code, report = s.check()
    assert code == 1
    assert codes(report) == {"sqs": set(), "kms": set(), "s3": {"TCP_TIMEOUT", "GATEWAY_ROUTE_MISSING"}}, dump(report)
    s3 = by_code(report, "s3")
    (timeout,) = s3["TCP_TIMEOUT"]
    assert (
        f"route table {gw.route_table_id} of the agent's subnet has no route to {gw.prefix_list_id}"
        in timeout["message"]
    )
    assert "security group" not in timeout["hint"] and gw.route_table_id in timeout["hint"]
    (route,) = s3["GATEWAY_ROUTE_MISSING"]
    assert gw.route_table_id in route["message"] and gw.prefix_list_id in route["message"]
    assert route["hint"] == (
        f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {gw.vpce_id} --add-route-table-ids {gw.route_table_id}"
    )


def test_diagnose_private_dns_off_per_az_and_next_step(site: Callable[..., Site]) -> None:
    s = site({"sqs": "public_address"}, private_dns={"sqs": False})
    sqs = s.facts.interfaces["sqs"]
    done = s.cli("diagnose", "-t", str(s.topology), "sqs", "--subnet-id", s.facts.agent_subnet_id)
    assert done.returncode == 1, done.stderr
    text = done.stdout
    assert text.startswith("sqs: interface endpoint for com.amazonaws.us-east-1.sqs, port 443 — UNHEALTHY")
    assert f"endpoint  {sqs.vpce_id}  interface  state available  private DNS OFF" in text
    assert f"{sqs.dns_name} => {PUBLIC_ANSWER}" in text
    assert f"{sqs.regional_name} => " in text
    eni_by_address = dict(
        zip(
            [
                n["PrivateIpAddress"]
                for n in s.ec2.describe_network_interfaces(NetworkInterfaceIds=list(sqs.eni_ids))["NetworkInterfaces"]
            ],
            sqs.eni_ids,
            strict=True,
        )
    )
    for address, az in sqs.addresses.items():
        relation = "az-local" if az == "us-east-1a" else "cross-az"
        assert f"{az} ({relation})  {eni_by_address[address]}  {s.facts.subnets[az]}  {address}" in text
        assert f"zonal name  {sqs.zonal_names[az]} => {address}  ok" in text
    assert text.count("probe       ok tcp") == 2  # both ENIs work: only the name is wrong
    assert f"{PUBLIC_ANSWER}  az -  private NO  not probed" in text
    assert "ERROR DNS_PUBLIC_ADDRESS" in text and "ERROR PRIVATE_DNS_DISABLED" in text
    steps = text.split("\nNext step", 1)[1]
    assert f"modify-vpc-endpoint --vpc-endpoint-id {sqs.vpce_id} --private-dns-enabled" in steps.splitlines()[1]
