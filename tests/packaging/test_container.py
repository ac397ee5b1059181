"""The container image, run as an engine would run it, without an engine.

scripts/build-rootfs executes deploy/container/Dockerfile into a directory: the cached base layers (debootstrap
and apt, built by scripts/setup while it has a network) and then, here, offline, the COPY of this run's wheel and
its pip install from the wheelhouse. The image's entry point then runs in that root filesystem the way the
Kubernetes examples run it: as the image's user (uid 10001, not root), the root filesystem read-only, a tmpfs on
/tmp, the test's files mounted read-only, in this test's network namespace, with the image's environment and
nothing of this process's. Against a VPC in a box, it reports healthy; as the agent, it publishes to the
emulator.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.packaging.conftest import ROOT, Dist, built_once, wheelhouse
from tests.schemas import load_report
from tests.testbed import emulator
from tests.testbed.box import Box
from tests.testbed.emulator import FAKE_ENV

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="chroot and mount need root (the CI runs the tests as root)"),
]
Factory = Callable[[dict[str, Any]], Box]
ONE_SERVICE = {
    "endpoints": [
        {
            "name": "billing",
            "type": "service",
            "dns_name": "billing.internal.example.com",
            "addresses": ["10.0.1.10"],
        }
    ]
}
FILES = "/mnt"  # where the test's files appear in the container (an empty folder of the base image)


@dataclass(frozen=True, slots=True)
class Image:
    """A built root filesystem and its config (OCI names: Env, User, WorkingDir, Entrypoint, Cmd)."""

    rootfs: Path
    config: dict[str, Any]

    def run(
        self,
        *args: str,
        files: Path,
        env: Mapping[str, str] | None = None,
        entrypoint: list[str] | None = None,
        timeout: float = 90,
    ) -> subprocess.CompletedProcess[str]:
        """ENTRYPOINT + ARGS (or `entrypoint` + ARGS, as `docker run --entrypoint`) as the image's user, in its
        working directory, in a private mount namespace: the root filesystem read-only, a tmpfs on /tmp, `files`
        read-only on /mnt. The environment is the image's, plus `env`: nothing of this process's."""
        root = shlex.quote(str(self.rootfs))
        workdir = shlex.quote(self.config["WorkingDir"])
        argv = [*(entrypoint or self.config["Entrypoint"]), *args]
        chroot = ["/usr/sbin/chroot", f"--userspec={self.config['User']}", str(self.rootfs)]
        command = shlex.join([*chroot, "/bin/sh", "-c", 'cd "$0" && exec "$@"', self.config["WorkingDir"], *argv])
        script = (
            f"mount --bind {root} {root} && mount -o remount,bind,ro {root} {root}"
            f" && mount -t tmpfs -o mode=1777,size=64m tmpfs {root}/tmp"
            f" && mount --bind {shlex.quote(str(files))} {root}{FILES} && mount -o remount,bind,ro {root}{FILES}"
            f" && test -d {root}{workdir} && exec {command}"
        )
        environment = {**self.config["Env"], "HOME": "/nonexistent", "LANG": "C.UTF-8", **(env or {})}
        return subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=environment,
        )


@pytest.fixture(scope="session")
def image(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The Dockerfile built offline over the cached base, with this run's wheel: once per test run."""

    def build(out: Path) -> None:
        context = out / "context"
        (context / "dist").mkdir(parents=True)
        shutil.copy2(dist.wheel, context / "dist" / dist.wheel.name)
        shutil.copy2(ROOT / ".dockerignore", context / ".dockerignore")
        (context / "secret.env").write_text("AWS_SECRET_ACCESS_KEY=must-not-reach-the-image\n")
        script = ROOT / "scripts" / "build-rootfs"
        argv = [sys.executable, str(script), "--context", str(context), "--wheelhouse", str(wheelhouse())]
        done = subprocess.run(
            [*argv, str(out / "image")],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    out = built_once(tmp_path_factory, "container-image", build) / "image"
    return Image(rootfs=out / "rootfs", config=json.loads((out / "config.json").read_text()))


def box_files(box: Box, files: Path) -> Path:
    """The box's topology and CA bundle in `files`, the topology naming the bundle where the container sees it."""
    files.mkdir(exist_ok=True)
    shutil.copy2(box.ca_bundle, files / "ca.pem")
    doc = box.topology()
    doc["defaults"]["tls"]["ca_bundle"] = f"{FILES}/ca.pem"
    (files / "topology.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return files


def test_the_image_is_what_the_dockerfile_says(image: Image) -> None:
    """Non-root with a fixed uid, the console script as the entry point, the venv owned by root, no build
    leftovers, nothing but the wheel from the context."""
    assert image.config["User"] == "10001:10001"
    assert image.config["Entrypoint"] == ["vpc-verify"]
    passwd = (image.rootfs / "etc" / "passwd").read_text()
    assert "vpc-verify:x:10001:10001:" in passwd
    venv = image.rootfs / "opt" / "vpc-verify"
    assert (venv / "bin" / "vpc-verify").is_file()
    assert venv.stat().st_uid == 0 and not venv.stat().st_mode & 0o022  # its user cannot change the code
    assert not (image.rootfs / "tmp" / "wheels").exists()
    assert not (image.rootfs / ".build-wheelhouse").exists()
    assert not list((image.rootfs / "var" / "lib" / "apt" / "lists").glob("*_Packages*"))
    assert not list(image.rootfs.rglob("secret.env"))
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert (site / "boto3").is_dir() and (site / "prometheus_client").is_dir()


def test_the_entrypoint_checks_a_vpc_in_a_box_as_its_user(
    image: Image, testbed_factory: Factory, tmp_path: Path
) -> None:
    box = testbed_factory(ONE_SERVICE)
    files = box_files(box, tmp_path / "files")
    who = image.run("--version", files=files)
    assert who.returncode == 0 and who.stdout.startswith("vpc-verify "), who.stderr
    done = image.run("check", "-t", f"{FILES}/topology.yaml", "--format", "json", files=files, env=FAKE_ENV)
    assert done.returncode == 0, done.stderr
    report = load_report(done.stdout)
    assert report["healthy"] is True
    (billing,) = report["endpoints"]
    assert billing["findings"] == [] and billing["addresses"][0]["tls_ms"] is not None


def test_the_container_runs_as_its_user_on_a_read_only_root(image: Image, tmp_path: Path) -> None:
    """What `run` gives the entry point: uid 10001, a root filesystem it cannot write, a writable /tmp."""
    script = "id -u; touch /opt/vpc-verify/x 2>/dev/null || echo ro; touch /tmp/x && echo tmp; pwd"
    done = image.run("-c", script, files=tmp_path, entrypoint=["/bin/sh"])
    assert done.stdout.split() == ["10001", "ro", "tmp", image.config["WorkingDir"]], done.stderr


def test_the_agent_runs_in_the_image_and_publishes(
    image: Image, aws: emulator.Emulator, testbed_factory: Factory, tmp_path: Path
) -> None:
    """The DaemonSet's command: the agent loop with its state on the tmpfs, publishing to CloudWatch."""
    box = testbed_factory(ONE_SERVICE)
    files = box_files(box, tmp_path / "files")
    state = "/tmp/report.json"
    args = ["agent", "-t", f"{FILES}/topology.yaml", "--max-runs", "1", "--jitter", "0", "--state-file", state]
    done = image.run(*args, "--publish", "cloudwatch", "--namespace", "Container", files=files, env=aws.env())
    assert done.returncode == 0, done.stderr
    import boto3

    listed = boto3.client("cloudwatch", region_name="us-east-1").list_metrics(Namespace="Container")["Metrics"]
    assert {"Healthy", "RunHealthy"} <= {m["MetricName"] for m in listed}
