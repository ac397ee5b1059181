"""Topology file validation (docs/topology.md): every error names the file, the key path and the expectation."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import trustme

from tests.testbed.cli import run_cli
from vpc_verify.topology import TopologyError, default_dns_name, load, loads

GOOD = """
version: 1
region: us-east-1
vpc:
  id: vpc-0123456789abcdef0
  cidrs: [10.0.0.0/16]
resolver:
  nameservers: [10.0.0.2]
  timeout_ms: 500
defaults:
  port: 443
  timeout_ms: 1500
  latency_budget_ms: 50
  tls: {verify: true}
endpoints:
  - name: sqs
    type: interface
    service: com.amazonaws.us-east-1.sqs
    addresses: [10.0.1.23, 10.0.2.45]
    azs: [us-east-1a, us-east-1b]
  - name: s3
    type: gateway
    service: com.amazonaws.us-east-1.s3
  - name: billing
    type: service
    dns_names: [billing.internal.example.com]
    tls: {server_name: api.billing.example.com}
    http: {path: /health, status: [200, 204]}
"""


def test_good_file_expands_defaults() -> None:
    topo = loads(GOOD, source="t.yaml")
    assert topo.region == "us-east-1"
    assert topo.vpc.id == "vpc-0123456789abcdef0"
    assert topo.vpc.cidrs == (ipaddress.ip_network("10.0.0.0/16"),)
    assert topo.resolver.nameservers == ("10.0.0.2",) and topo.resolver.timeout_ms == 500
    sqs, s3, billing = topo.endpoints
    assert sqs.dns_names == ("sqs.us-east-1.amazonaws.com",)
    assert sqs.addresses == ("10.0.1.23", "10.0.2.45")
    assert sqs.timeout_ms == 1500 and sqs.latency_budget_ms == 50
    assert sqs.tls is not None and sqs.server_name == "sqs.us-east-1.amazonaws.com"
    # a gateway endpoint expects reachability only, unless it asks for TLS itself
    assert s3.tls is None and s3.dns_names == ("s3.us-east-1.amazonaws.com",)
    assert billing.server_name == "api.billing.example.com"
    assert billing.http is not None and billing.http.status == (200, 204) and billing.http.path == "/health"


ONE = "version: 1\nendpoints: [{name: a, type: service, dns_names: [x.example]"


def test_json_is_accepted() -> None:
    topo = loads('{"version": 1, "endpoints": [{"name": "x", "type": "service", "dns_names": ["a.example"]}]}')
    assert topo.endpoints[0].dns_names == ("a.example",)


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        ("version: 1\nendpoints: []\nsurprise: 1\n", "surprise", "this key is unknown"),
        ("version: 2\nendpoints: []\n", "version", "1 (the only version"),
        ("endpoints: []\n", "version", "version: 1"),
        ("version: 1\n", "endpoints", "a list of endpoints"),
        (
            "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [x.example], prot: 1}\n",
            "endpoints[0].prot",
            "did you mean port?",
        ),
        (
            "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [x.example], port: abc}\n",
            "endpoints[0].port",
            "an integer from 1 to 65535",
        ),
        (
            "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [x.example], port: 70000}\n",
            "endpoints[0].port",
            "an integer from 1 to 65535",
        ),
        ("version: 1\nvpc: {cidrs: [10.0.0.0/33]}\nendpoints: []\n", "vpc.cidrs[0]", "a CIDR"),
        ("version: 1\nvpc: {cidrs: [10.0.0.1/16]}\nendpoints: []\n", "vpc.cidrs[0]", "a CIDR"),
        ("version: 1\nvpc: {cidrs: [10.0.0.0/16, 10.0.128.0/17]}\nendpoints: []\n", "vpc.cidrs[1]", "does not overlap"),
        ("version: 1\nvpc: {id: vpc-nope}\nendpoints: []\n", "vpc.id", "a VPC id"),
        (
            "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [x.example]}\n"
            "  - {name: a, type: service, dns_names: [y.example]}\n",
            "endpoints[1].name",
            "unique name",
        ),
        ("version: 1\nendpoints:\n  - {name: a, type: interface}\n", "endpoints[0].service", "AWS service name"),
        (
            "version: 1\nendpoints:\n  - {name: a, type: bogus, dns_names: [x.example]}\n",
            "endpoints[0].type",
            "one of interface",
        ),
        (
            "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [x.example], addresses: [10.0.0.300]}\n",
            "endpoints[0].addresses[0]",
            "an IP address",
        ),
        (
            "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: ['" + "a" * 64 + ".example']}\n",
            "endpoints[0].dns_names[0]",
            "a DNS name",
        ),
        (
            "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: ['bad name.example']}\n",
            "endpoints[0].dns_names[0]",
            "a DNS name",
        ),
        (
            "version: 1\ndefaults: {tls: {verify: maybe}}\nendpoints:\n  - {name: a, type: service, "
            "dns_names: [x.example]}\n",
            "defaults.tls.verify",
            "true or false",
        ),
        (
            "version: 1\nendpoints:\n  - {name: a, type: interface, service: com.amazonaws.vpce.us-east-1."
            "vpce-svc-0123456789abcdef0}\n",
            "endpoints[0].dns_names",
            "none can be derived",
        ),
        (
            "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [x.example], http: {method: POST}}\n",
            "endpoints[0].http.method",
            "never changes anything",
        ),
        (
            "version: 1\nresolver: {nameservers: [not-an-ip]}\nendpoints: []\n",
            "resolver.nameservers[0]",
            "an IP address",
        ),
        ("version: 1\nendpoints: {a: 1}\n", "endpoints", "a list"),
        ("", "", "a topology mapping"),
        ("version: 1\nendpoints: [\n", "", "valid YAML"),
    ],
)
def test_errors_name_key_path_and_expectation(text: str, path: str, expected: str) -> None:
    with pytest.raises(TopologyError) as info:
        loads(text, source="broken.yaml")
    err = info.value
    assert err.source == "broken.yaml"
    assert err.path == path
    assert expected in str(err)
    assert str(err).startswith("broken.yaml")


def test_yaml_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 30):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    with pytest.raises(TopologyError, match="valid YAML"):
        loads("\n".join(lines) + "\n")


def test_idn_name_becomes_a_label() -> None:
    topo = loads("version: 1\nendpoints:\n  - {name: a, type: service, dns_names: ['bücher.example']}\n")
    assert topo.endpoints[0].dns_names == ("xn--bcher-kva.example",)


def test_only_narrows_and_rejects_unknown_names() -> None:
    topo = loads(GOOD)
    assert [e.name for e in topo.only(["s3"]).endpoints] == ["s3"]
    with pytest.raises(TopologyError, match="only"):
        topo.only(["nope"])


def test_relative_ca_bundle_resolves_against_the_file(tmp_path: Path) -> None:
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    f = tmp_path / "topo.yaml"
    f.write_text(
        "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [x.example], tls: {ca_bundle: ca.pem}}\n"
    )
    topo = load(f)
    assert topo.endpoints[0].tls is not None
    assert topo.endpoints[0].tls.ca_bundle == str(tmp_path / "ca.pem")
    f.write_text(
        "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [x.example], tls: {ca_bundle: missing.pem}}\n"
    )
    with pytest.raises(TopologyError, match=r"endpoints\[0\]\.tls\.ca_bundle"):
        load(f)


def test_unreadable_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="a readable file"):
        load(tmp_path / "absent.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TopologyError, match="UTF-8"):
        load(binary)


def test_default_dns_names() -> None:
    assert default_dns_name("com.amazonaws.eu-west-1.kms", None) == "kms.eu-west-1.amazonaws.com"
    assert default_dns_name("com.amazonaws.us-east-1.ecr.api", None) == "api.ecr.us-east-1.amazonaws.com"
    assert default_dns_name("com.amazonaws.vpce.us-east-1.vpce-svc-0123", None) is None
    assert default_dns_name("com.example.partner", "us-east-1") is None


@pytest.mark.e2e
def test_cli_validate_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [x.example], colour: red}\n")
    ok = run_cli("validate", str(good))
    assert ok.returncode == 0, ok.stderr
    assert "valid, 3 endpoints" in ok.stdout
    broken = run_cli("validate", str(bad))
    assert broken.returncode == 2
    assert f"{bad}: endpoints[0].colour: expected one of the keys name, type" in broken.stderr
    assert "Traceback" not in broken.stderr


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        (
            "version: 1\nendpoints:\n  - {name: a, type: service, dns_names: [x.example]}\nendpoints: []\n",
            "endpoints",
            "line 2 and again at line 4",
        ),
        (
            "version: 1\nendpoints:\n  - {name: a, name: b, type: service, dns_names: [x.example]}\n",
            "endpoints[0].name",
            "each key once",
        ),
        ("version: 1\nendpoints: []\n", "endpoints", "allow_empty: true"),
        ("version: 1\nallow_empty: maybe\nendpoints: []\n", "allow_empty", "true or false"),
        (
            "version: 1\nendpoints: [&a {name: a, type: service, dns_names: [*a]}]\n",
            "endpoints[0].dns_names[0]",
            "an alias to an anchor defined before it, outside it: *a at line 2",
        ),
        ("version: 1\nendpoints: !!set {a: null}\n", "endpoints", "plain YAML mappings and lists"),
        (
            "version: 1\nendpoints: [{name: a, type: service, dns_names: [x.example], port: " + "9" * 5000 + "}]\n",
            "endpoints[0].port",
            "valid YAML",
        ),
        (
            ONE + ", port: !!python/name:os.system }]\n",
            "",
            "valid YAML",
        ),
        ("version: 1\n---\nversion: 1\n", "", "a single YAML document"),
        ("version: 1\nendpoints:\n  - ? [a]\n    : b\n", "endpoints[0]", "plain keys"),
        (
            "version: 1\nendpoints: [{name: a, type: service, dns_names: [x.example], port: .nan}]\n",
            "endpoints[0].port",
            "an integer from 1 to 65535",
        ),
        (
            "version: 1\nendpoints: [{name: a, type: service, dns_names: [x.example], latency_budget_ms: .inf}]\n",
            "endpoints[0].latency_budget_ms",
            "a number above 0",
        ),
        (
            ONE + ', tls: {ca_bundle: "/tmp/ca\\0.pem"}}]\n',
            "endpoints[0].tls.ca_bundle",
            "printable, on one line",
        ),
        (
            ONE + ", tls: {ca_bundle: /nonexistent/ca.pem}}]\n",
            "endpoints[0].tls.ca_bundle",
            "is not readable",
        ),
        (
            "version: 1\nendpoints: [{name: a, type: service, dns_names: [x.example]}]\n" + "x" * 50 + ": 1\n",
            "'" + "x" * 37 + "...'",
            "this key is unknown",
        ),
        ("? |\n  a\n: 1\nversion: 1\n", "'a\\n'", "this key is unknown"),
        ("version: 1\nendpoints: [\x07]\n", "", "control characters are not allowed (#x0007) at line 2, column 13"),
        ("version: 1\nendpoints: [{<<: 5, name: a}]\n", "endpoints[0]", "mappings to merge with <<: 5 at line 2"),
        (
            'version: 1\nendpoints: [{name: "a\\nb", type: service, dns_names: [x.example]}]\n',
            "endpoints[0].name",
            "a name",
        ),
        ("version: 1\nendpoints: !!omap [a: 1]\n", "endpoints", "(no tags): the tag !!omap at line 2, column 12"),
    ],
)
def test_hostile_documents_are_configuration_errors(text: str, path: str, expected: str) -> None:
    with pytest.raises(TopologyError) as info:
        loads(text, source="hostile.yaml")
    assert info.value.path == path
    assert expected in str(info.value)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


@pytest.mark.parametrize("problem", ["directory", "empty", "not-pem", "damaged", "device"])
def test_a_trust_store_openssl_cannot_load_is_refused_at_load_time(tmp_path: Path, problem: str) -> None:
    bundle = tmp_path / "ca.pem"
    if problem == "directory":
        bundle.mkdir()
    elif problem == "empty":
        bundle.write_bytes(b"")
    elif problem == "not-pem":
        bundle.write_text("just some text\n")
    elif problem == "damaged":
        bundle.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    else:
        bundle = Path("/dev/zero")
    f = tmp_path / "t.yaml"
    f.write_text(f"{ONE}, tls: {{ca_bundle: {bundle}}}}}]\n")
    with pytest.raises(TopologyError) as info:
        load(f)
    assert info.value.path == "endpoints[0].tls.ca_bundle"
    words = {
        "directory": "a directory",
        "empty": "is empty",
        "not-pem": "without a PEM certificate",
        "damaged": "damaged certificate",
        "device": "not a regular file",
    }
    assert words[problem] in str(info.value)


def test_merge_keys_still_work() -> None:
    text = (
        "version: 1\n"
        "endpoints:\n"
        "  - {<<: [{type: service, port: 9}, {port: 1}], name: a, dns_names: [x.example]}\n"
        "  - {<<: {type: service, port: 9}, name: b, dns_names: [y.example], port: 7}\n"
    )
    a, b = loads(text).endpoints
    assert (a.type, a.port) == ("service", 9)  # the first merged mapping wins over the second
    assert (b.type, b.port) == ("service", 7)  # an explicit key wins over a merged one


def test_allow_empty_accepts_a_topology_with_nothing_to_check() -> None:
    topo = loads("version: 1\nallow_empty: true\nendpoints: []\n")
    assert topo.endpoints == () and topo.allow_empty


def test_discover_of_a_vpc_without_endpoints_writes_allow_empty() -> None:
    from vpc_verify.aws.discover import render
    from vpc_verify.aws.model import VpcState

    state = VpcState("us-east-1", "vpc-0123456789abcdef0", (ipaddress.ip_network("10.0.0.0/16"),), True, True, ())
    topo = loads(render(state))
    assert topo.allow_empty and topo.vpc.id == "vpc-0123456789abcdef0"


def test_every_default_is_written_once() -> None:
    from vpc_verify.topology import SETTINGS, Endpoint, HttpSettings, Resolver, TlsSettings

    endpoint = Endpoint(name="a", type="service", service=None, dns_names=("a.example",))
    parsed = loads("version: 1\nendpoints: [{name: a, type: service, dns_names: [a.example], http: true}]\n")
    assert parsed.endpoints[0].port == endpoint.port == SETTINGS["endpoints[].port"].default
    assert parsed.endpoints[0].timeout_ms == endpoint.timeout_ms == SETTINGS["endpoints[].timeout_ms"].default
    assert parsed.endpoints[0].latency_budget_ms == SETTINGS["endpoints[].latency_budget_ms"].default
    assert parsed.resolver == Resolver()
    assert Resolver().port == SETTINGS["resolver.port"].default
    assert (
        parsed.endpoints[0].http == HttpSettings()
        and HttpSettings().status == SETTINGS["endpoints[].http.status"].default
    )
    assert TlsSettings().verify == SETTINGS["endpoints[].tls.verify"].default
    for key, setting in SETTINGS.items():
        assert setting.meaning, key
        if (
            setting.range is not None
            and isinstance(setting.default, int | float)
            and not isinstance(setting.default, bool)
        ):
            assert setting.range.check(setting.default) == setting.default, key
