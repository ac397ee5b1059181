"""The Lambda zip: reproducible, boto3-free, and working when unpacked beside a clean venv with only boto3.

The handler runs in a subprocess with the clean venv's python (`-s -E`: nothing of this project's venv leaks
in), inside `unshare -rn` with a TLS endpoint on an ENI address and the AWS emulator on loopback.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.publish.minibox import unshare_available

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
        pytest.skip("the Lambda's wheels are not in the wheelhouse and PyPI is not reachable from the test's "
                    "namespace: run `.venv/bin/python lambda/build.py --fetch` once (scripts/setup does)")


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
        assert "handler.py" in names and "agent/lambda_entry.py" in names and "checks/tls.py" in names
        for top in ("dns/", "httpx/", "httpcore/", "h11/", "anyio/", "structlog/", "yaml/", "certifi/", "idna/"):
            assert any(n.startswith(top) for n in names), top
        assert not any(n.startswith(("boto3/", "botocore/")) or n.endswith(".pyc") or "__pycache__" in n
                       for n in names)
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
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    for name in BOTO3_CLOSURE:
        dist = importlib.metadata.distribution(name)
        for f in dist.files or ():
            src = Path(str(dist.locate_file(f)))
            if src.is_file() and "__pycache__" not in f.parts and not str(f).startswith(".."):
                dst = site / f
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
    return str(python)


@pytest.mark.skipif(not unshare_available(), reason="needs `unshare -rn` (user namespaces)")
def test_the_unpacked_zip_runs_in_a_clean_venv(zips: dict[str, Path], clean_python: str, tmp_path: Path) -> None:
    package = tmp_path / "package"
    with zipfile.ZipFile(zips["local"]) as zf:
        zf.extractall(package)
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(["unshare", "-rn", sys.executable, "-m", "tests.publish.minibox", "lambda",
                           "--workdir", str(work), "--python", clean_python, "--package", str(package)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("DRIVER ")]
    assert lines, proc.stderr[-3000:]
    out = json.loads(lines[-1][7:])

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
    assert {"Healthy", "RunHealthy", "TlsLatency"} <= emf_names

    assert out["emf"]["result"]["publish"]["mode"] == "emf" and out["emf"]["emf"]

    bad = out["bad_event"]
    assert bad["rc"] == 0 and bad["result"]["ok"] is False
    assert bad["result"]["error"]["type"] == "InvalidEvent" and "targets" in bad["result"]["error"]["message"]
    assert "Traceback" not in bad["stderr"]
    refused = out["event_topology_refused"]["result"]
    assert refused["error"]["type"] == "InvalidEvent"
    assert "VPC_VERIFY_ALLOW_EVENT_TOPOLOGY" in refused["error"]["message"]
    assert out["boto3_at_import"] == "False"
