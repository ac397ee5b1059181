"""The Lambda zip: reproducible, boto3-free, and working when unpacked beside a clean venv with only boto3.

The handler runs in a subprocess with the clean venv's python (`-s -E`: nothing of this project's venv leaks
in), against a VPC in a box (dnsmasq, a TLS endpoint on an ENI address) and the AWS emulator.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.testbed import emulator

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lambda"))
import build  # noqa: E402  (lambda/ is not a package: lambda is a keyword)

BOTO3_CLOSURE = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
LOCAL = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def zips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("zips")
    try:
        return _build_all(out)
    except subprocess.CalledProcessError:
        pytest.skip(
            "the Lambda's wheels are not in the wheelhouse and PyPI is not reachable from the test's "
            "namespace: run `.venv/bin/python lambda/build.py --fetch` once (scripts/setup does)"
        )


def _build_all(out: Path) -> dict[str, Path]:
    return {
        "a": build.build("x86_64", out / "a.zip"),
        "b": build.build("x86_64", out / "b.zip"),
        "arm": build.build("arm64", out / "arm.zip"),
        # for this machine's Python, to run it here in a clean venv
        "local": build.build("x86_64", out / "local.zip", python_version=LOCAL),
    }


def test_two_builds_are_identical(zips: dict[str, Path]) -> None:
    assert build.sha256(zips["a"]) == build.sha256(zips["b"])
    assert zips["a"].read_bytes() == zips["b"].read_bytes()


def test_layout(zips: dict[str, Path]) -> None:
    for key in ("a", "arm"):
        with zipfile.ZipFile(zips[key]) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
        assert names == sorted(names)
        assert "handler.py" in names and "vpc_verify/lambda_entry.py" in names and "vpc_verify/checks/tls.py" in names
        for top in ("dns/", "httpx/", "httpcore/", "h11/", "anyio/", "structlog/", "yaml/", "certifi/", "idna/"):
            assert any(n.startswith(top) for n in names), top
        assert not any(n.startswith(("boto3/", "botocore/")) or n.endswith(".pyc") or "__pycache__" in n for n in names)
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
        assert {(i.external_attr >> 16) & 0o777 for i in infos} <= {0o644, 0o755}
    with zipfile.ZipFile(zips["arm"]) as zf:
        assert any("aarch64" in n for n in zf.namelist() if n.startswith("yaml/_yaml"))
    with zipfile.ZipFile(zips["a"]) as zf:
        assert any("x86_64" in n and "cpython-313" in n for n in zf.namelist() if n.startswith("yaml/_yaml"))


@pytest.fixture(scope="module")
def clean_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh venv with boto3 (and what boto3 needs) and nothing else: what the Lambda runtime provides.

    The tests run in a network namespace without PyPI, so boto3's installed files are copied from this
    project's venv (the same files pip would install) instead of downloaded.
    """
    env_dir = tmp_path_factory.mktemp("cleanvenv")
    venv.EnvBuilder(with_pip=False, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    for name in BOTO3_CLOSURE:
        dist = importlib.metadata.distribution(name)
        for f in dist.files or ():
            src = Path(str(dist.locate_file(f)))
            if src.is_file() and "__pycache__" not in f.parts and not str(f).startswith(".."):
                dst = site / f
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
    return str(python)


INVOKE = """
import json, sys, handler
class Ctx:
    aws_request_id = "r1"
    def get_remaining_time_in_millis(self): return 30000
print("RESULT " + json.dumps(handler.handler(json.loads(sys.argv[1]), Ctx())))
"""


def _invoke(python: str, package: Path, env: dict[str, str], event: dict[str, Any]) -> dict[str, Any]:
    """The handler of the unpacked zip, in the clean venv's python (`-s -E`: nothing of this venv leaks in)."""
    proc = subprocess.run(
        [python, "-s", "-E", "-c", INVOKE, json.dumps(event)],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = proc.stdout.splitlines()
    result = [json.loads(x[7:]) for x in lines if x.startswith("RESULT ")]
    return {
        "rc": proc.returncode,
        "result": result[0] if result else None,
        "stderr": proc.stderr[-2000:],
        "emf": [json.loads(x) for x in lines if x.startswith('{"_aws"')],
        "properties": [json.loads(x) for x in lines if x.startswith('{"Endpoint"')],
    }


@pytest.mark.netns
def test_the_unpacked_zip_runs_in_a_clean_venv(
    zips: dict[str, Path],
    clean_python: str,
    tmp_path: Path,
    testbed_factory: Callable[[dict[str, Any]], Any],
    aws: emulator.Emulator,
) -> None:
    package = tmp_path / "package"
    with zipfile.ZipFile(zips["local"]) as zf:
        zf.extractall(package)
    box = testbed_factory(
        {
            "endpoints": [
                {
                    "name": "billing",
                    "type": "service",
                    "dns_name": "billing.internal.example.com",
                    "addresses": ["10.0.1.10"],
                }
            ]
        }
    )
    env = {
        "PATH": "/usr/bin:/bin",
        **aws.env(),
        "VPC_VERIFY_TOPOLOGY_FILE": str(box.write_topology()),
        "AWS_LAMBDA_FUNCTION_NAME": "vpc-verify",
        "LAMBDA_TASK_ROOT": str(package),
    }
    out = {
        "cloudwatch": _invoke(
            clean_python, package, {**env, "VPC_VERIFY_PUBLISH": "cloudwatch", "VPC_VERIFY_METRICS": "full"}, {}
        ),
        "fallback": _invoke(
            clean_python,
            package,
            {**env, "VPC_VERIFY_PUBLISH": "cloudwatch", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
            {},
        ),
        "emf": _invoke(clean_python, package, env, {"only": ["billing"], "publish": "emf"}),
        "bad_event": _invoke(clean_python, package, env, {"targets": ["10.9.9.9"]}),
        "event_topology_refused": _invoke(clean_python, package, env, {"topology": {"version": 1}}),
    }
    probe = subprocess.run(
        [clean_python, "-s", "-E", "-c", "import handler, sys; print('boto3' in sys.modules)"],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out["boto3_at_import"] = probe.stdout.strip()
    import boto3

    cw_client = boto3.client("cloudwatch", region_name="us-east-1")
    out["metrics"] = [
        [m["MetricName"], {d["Name"]: d["Value"] for d in m["Dimensions"]}]
        for m in cw_client.list_metrics(Namespace="VpcVerify")["Metrics"]
    ]

    cw = out["cloudwatch"]
    assert cw["rc"] == 0 and cw["result"] is not None, cw["stderr"]
    result = cw["result"]
    assert result["ok"] and result["healthy"], result
    assert result["endpoints"] == 1 and result["unhealthy"] == []
    assert result["publish"]["mode"] == "cloudwatch" and result["publish"]["ok"]
    assert result["publish"]["cloudwatch"]["calls"] == 1
    metrics = {(name, tuple(sorted(dims.items()))) for name, dims in out["metrics"]}
    assert ("Healthy", (("Endpoint", "billing"),)) in metrics
    assert ("TlsLatency", (("Endpoint", "billing"),)) in metrics
    assert ("RunHealthy", ()) in metrics

    fb = out["fallback"]["result"]
    assert fb["ok"] and fb["healthy"] and fb["publish"]["fallback"] and not fb["publish"]["ok"]
    emf_names = {m["Name"] for o in out["fallback"]["emf"] for m in o["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert emf_names == {"Healthy", "RunHealthy", "EndpointsUnhealthy", "Heartbeat"}  # the budget set, the default
    assert [o["TlsLatency"] > 0 for o in out["fallback"]["properties"] if o["Endpoint"] == "billing"] == [True]

    assert out["emf"]["result"]["publish"]["mode"] == "emf" and out["emf"]["emf"]

    bad = out["bad_event"]
    assert bad["rc"] == 0 and bad["result"]["ok"] is False
    assert bad["result"]["error"]["type"] == "InvalidEvent" and "targets" in bad["result"]["error"]["message"]
    assert "Traceback" not in bad["stderr"]
    refused = out["event_topology_refused"]["result"]
    assert refused["error"]["type"] == "InvalidEvent"
    assert "VPC_VERIFY_ALLOW_EVENT_TOPOLOGY" in refused["error"]["message"]
    assert out["boto3_at_import"] == "False"


GATE_INVOKE = """
import json, sys, time, handler
class Ctx:
    aws_request_id = "r-gate"
    log_group_name = "/aws/lambda/gate"
    log_stream_name = "2026/11/26/[$LATEST]abc"
    def __init__(self): self.end = time.monotonic() + 30
    def get_remaining_time_in_millis(self): return int((self.end - time.monotonic()) * 1000)
entry = getattr(handler, sys.argv[1])
print("RESULT " + json.dumps(entry(json.loads(sys.argv[2]), Ctx())))
"""


def test_the_zip_serves_the_gate_handlers(zips: dict[str, Path], clean_python: str, tmp_path: Path) -> None:
    """cfn_handler, pipeline_handler and gate_handler of the unpacked zip, in the clean venv, against the stand-ins
    for the pre-signed response URL and CodePipeline (tests/gate/standins.py)."""
    import trustme

    from tests.gate.events import cfn_event, pipeline_event
    from tests.gate.standins import CodePipelineApi, ResponseBucket

    package = tmp_path / "package"
    with zipfile.ZipFile(zips["local"]) as zf:
        zf.extractall(package)
        names = set(zf.namelist())
    assert {"vpc_verify/shells/cfn_resource.py", "vpc_verify/shells/pipeline_action.py"} <= names
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    bucket, pipeline = ResponseBucket(ca), CodePipelineApi()
    bucket.start()
    pipeline.start()
    env = {
        "PATH": "/usr/bin:/bin",
        **emulator.FAKE_ENV,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ENDPOINT_URL_CODEPIPELINE": pipeline.url,
        "SSL_CERT_FILE": str(ca_file),  # the runtime's store trusts S3; here the stand-in's CA
        "LAMBDA_TASK_ROOT": str(package),
    }
    dead = "version: 1\nresolver: {nameservers: [127.0.0.1], port: 9, timeout_ms: 200}\nendpoints:\n" + (
        "  - {name: api, type: service, dns_names: [api.internal.example.com]}\n"
    )

    def invoke(entry: str, event: dict[str, Any]) -> dict[str, Any]:
        proc = subprocess.run(
            [clean_python, "-s", "-E", "-c", GATE_INVOKE, entry, json.dumps(event)],
            cwd=package,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        results = [json.loads(x[7:]) for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        assert proc.returncode == 0 and results, proc.stderr[-2000:]
        return results[0]  # type: ignore[no-any-return]

    try:
        created = invoke("cfn_handler", cfn_event("Create", bucket.url(), {"Topology": dead, "WaitSeconds": 0}))
        assert created["answered"] and created["status"] == "FAILED" and "api: DNS_TIMEOUT" in created["reason"]
        (put,) = bucket.answers()
        assert put.json()["Status"] == "FAILED" and put.json()["Data"]["RunId"] == "r-gate"
        reported = invoke("pipeline_handler", pipeline_event('{"Wait": 1}'))
        assert reported["reported"] and reported["verdict"] == "FAILED"
        ((operation, request),) = pipeline.results()
        assert operation == "PutJobFailureResult" and request["failureDetails"]["type"] == "ConfigurationError"
        direct = invoke("gate_handler", {"Topology": dead, "WaitSeconds": 0})
        assert direct["healthy"] is False and direct["unhealthy"] == [{"endpoint": "api", "codes": ["DNS_TIMEOUT"]}]
        assert direct["reason"].startswith("vpc-verify: 1 of 1 endpoints unhealthy after 1 run in ")
    finally:
        bucket.stop()
        pipeline.stop()
