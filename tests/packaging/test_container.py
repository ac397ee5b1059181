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
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.aws.conftest import closed_dns_port, ec2, seeded
from tests.packaging.conftest import ONE_SERVICE, ROOT, Dist, built_once, wheelhouse
from tests.schemas import load_report
from tests.testbed import emulator, task_metadata
from tests.testbed.aws_seed import SeedFacts
from tests.testbed.box import Box
from tests.testbed.emulator import FAKE_ENV

__all__ = ["closed_dns_port", "ec2", "seeded"]  # the seeded VPC of the emulator, for the examples' own commands

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="chroot and mount need root (the CI runs the tests as root)"),
]
Factory = Callable[[dict[str, Any]], Box]
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
        tmp: Path | None = None,
        timeout: float = 90,
    ) -> subprocess.CompletedProcess[str]:
        """ENTRYPOINT + ARGS, to completion (see `argv`)."""
        argv, environment = self.argv(*args, files=files, env=env, entrypoint=entrypoint, tmp=tmp)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=environment)

    def argv(
        self,
        *args: str,
        files: Path,
        env: Mapping[str, str] | None = None,
        entrypoint: list[str] | None = None,
        tmp: Path | None = None,
    ) -> tuple[list[str], dict[str, str]]:
        """The command and environment that run ENTRYPOINT + ARGS (or `entrypoint` + ARGS, as `docker run
        --entrypoint`) as the image's user, in its
        working directory, in a private mount namespace: the root filesystem read-only, a tmpfs on /tmp (or `tmp`,
        like an emptyDir the test reads afterwards), `files` read-only on /mnt. The environment is the image's,
        plus `env`: nothing of this process's."""
        root = shlex.quote(str(self.rootfs))
        workdir = shlex.quote(self.config["WorkingDir"])
        argv = [*(entrypoint or self.config["Entrypoint"]), *args]
        chroot = ["/usr/sbin/chroot", f"--userspec={self.config['User']}", str(self.rootfs)]
        command = shlex.join([*chroot, "/bin/sh", "-c", 'cd "$0" && exec "$@"', self.config["WorkingDir"], *argv])
        if tmp is not None:
            tmp.chmod(0o1777)
            scratch = f"mount --bind {shlex.quote(str(tmp))} {root}/tmp"
        else:
            scratch = f"mount -t tmpfs -o mode=1777,size=64m tmpfs {root}/tmp"
        script = (
            f"mount --bind {root} {root} && mount -o remount,bind,ro {root} {root}"
            f" && {scratch}"
            f" && mount --bind {shlex.quote(str(files))} {root}{FILES} && mount -o remount,bind,ro {root}{FILES}"
            f" && test -d {root}{workdir} && exec {command}"
        )
        environment = {**self.config["Env"], "HOME": "/nonexistent", "LANG": "C.UTF-8", **(env or {})}
        # Each step execs the next (unshare, sh, chroot, sh, the entry point): the process started is the entry
        # point itself, as PID 1 of a container would be, and a signal sent to it reaches vpc-verify.
        return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script], environment


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


# ------------------------------------------------ the examples' own commands (deploy/kubernetes, deploy/ecs)

POLICY = """\
version: 1
resolver: {{nameservers: [127.0.0.1], port: {port}, timeout_ms: 200}}
classes:
  - name: workload
    interface: [sqs, sts]
"""
POLICY_LOCATION = "ssm:/org/vpc-verify/policy"  # what the examples read


def _policy_in_ssm(port: int) -> None:
    import boto3

    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name=POLICY_LOCATION.removeprefix("ssm:"), Type="String", Value=POLICY.format(port=port))


def _pod(name: str) -> tuple[list[str], dict[str, Any]]:
    """The args and env of the example's container, its securityContext's uid checked against the image's."""
    docs = [d for d in yaml.safe_load_all((ROOT / "deploy" / "kubernetes" / f"{name}.yaml").read_text()) if d]
    (workload,) = [d for d in docs if d["kind"] in ("CronJob", "DaemonSet")]
    spec = workload["spec"]
    pod = (spec["jobTemplate"]["spec"] if "jobTemplate" in spec else spec)["template"]["spec"]
    (container,) = pod["containers"]
    return list(container["args"]), {e["name"]: e for e in container["env"]}


def _derived_report(report: dict[str, Any], seeded: SeedFacts) -> None:
    assert report["policy"]["source"] == POLICY_LOCATION
    assert report["policy"]["topology"]["vpc"]["id"] == seeded.vpc_id  # found from the pod's or task's address
    missing = {f["endpoint"] for f in report["findings"] if f["code"] == "ENDPOINT_MISSING"}
    assert missing == {"sts"}


def _published(namespace: str = "VpcVerify") -> set[str]:
    import boto3

    listed = boto3.client("cloudwatch", region_name="us-east-1").list_metrics(Namespace=namespace)["Metrics"]
    return {m["MetricName"] for m in listed}


def test_the_cronjobs_command_runs_in_the_image(
    image: Image, aws: emulator.Emulator, seeded: SeedFacts, closed_dns_port: int, tmp_path: Path
) -> None:
    """deploy/kubernetes/cronjob.yaml's args and env, the pod's address an address of the seeded VPC."""
    _policy_in_ssm(closed_dns_port)
    args, env = _pod("cronjob")
    pod_ip = next(iter(seeded.interfaces["sqs"].addresses))
    environment = {
        **aws.env(),
        "VPC_VERIFY_ADDRESS": pod_ip,
        **{k: e["value"] for k, e in env.items() if "value" in e},
    }
    done = image.run(*args, files=tmp_path, env=environment)
    assert done.returncode == 1, done.stderr  # unhealthy: sts is missing and the DNS refuses
    _derived_report(load_report(done.stdout), seeded)
    assert {"RunHealthy", "Healthy", "Heartbeat"} <= _published()


def test_the_daemonsets_command_runs_in_the_image(
    image: Image, aws: emulator.Emulator, seeded: SeedFacts, closed_dns_port: int, tmp_path: Path
) -> None:
    """deploy/kubernetes/daemonset.yaml's `agent --policy`, one run, its state file in the pod's /tmp."""
    _policy_in_ssm(closed_dns_port)
    args, env = _pod("daemonset")
    pod_ip = next(iter(seeded.interfaces["sqs"].addresses))
    environment = {**aws.env(), "VPC_VERIFY_ADDRESS": pod_ip, **{k: e["value"] for k, e in env.items() if "value" in e}}
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = image.run(*args, "--max-runs", "1", "--jitter", "0", files=tmp_path, env=environment, tmp=scratch)
    assert done.returncode == 0, done.stderr
    state = args[args.index("--state-file") + 1]
    _derived_report(load_report((scratch / Path(state).relative_to("/tmp")).read_text()), seeded)
    assert {"RunHealthy", "Healthy", "Heartbeat"} <= _published()


def test_the_ecs_tasks_command_runs_in_the_image(
    image: Image, aws: emulator.Emulator, seeded: SeedFacts, closed_dns_port: int, tmp_path: Path
) -> None:
    """deploy/ecs/task-definition.json's command and environment, the task's address from a task metadata endpoint
    v4 on 127.0.0.1 (as ECS sets ECS_CONTAINER_METADATA_URI_V4)."""
    _policy_in_ssm(closed_dns_port)
    task = json.loads((ROOT / "deploy" / "ecs" / "task-definition.json").read_text())
    (container,) = task["containerDefinitions"]
    address = next(iter(seeded.interfaces["sqs"].addresses))
    metadata = {"Containers": [{"Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": [address]}]}]}
    with task_metadata.serve(metadata) as base:
        environment = {
            **aws.env(),
            **{e["name"]: e["value"] for e in container["environment"]},
            "ECS_CONTAINER_METADATA_URI_V4": base,
        }
        done = image.run(*container["command"], files=tmp_path, env=environment)
    assert done.returncode == 1, done.stderr
    _derived_report(load_report(done.stdout), seeded)
    assert {"RunHealthy", "Healthy"} <= _published()


def test_the_daemonsets_probe_asks_the_agent_and_sigterm_stops_it(
    image: Image, testbed_factory: Factory, tmp_path: Path
) -> None:
    """The DaemonSet's liveness probe (its exec command, in the container) passes against the agent it starts, and
    fails once the agent is gone; SIGTERM to the entry point stops the agent within 5 s (the exec-form ENTRYPOINT
    makes vpc-verify the process that gets it)."""
    box = testbed_factory(ONE_SERVICE)
    files = box_files(box, tmp_path / "files")
    docs = [d for d in yaml.safe_load_all((ROOT / "deploy" / "kubernetes" / "daemonset.yaml").read_text()) if d]
    (container,) = docs[0]["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    listen = args[args.index("--http") + 1]
    probe = container["livenessProbe"]["exec"]["command"]
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    agent_args = ["agent", "-t", f"{FILES}/topology.yaml", "--interval", "2", "--jitter", "0", "--http", listen]
    argv, environment = image.argv(*agent_args, "--state-file", "/tmp/report.json", files=files, tmp=scratch)
    agent = subprocess.Popen(argv, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (scratch / "report.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (scratch / "report.json").exists(), "the agent wrote no report"
        alive = image.run(*probe[1:], files=files, entrypoint=probe[:1])
        assert alive.returncode == 0, alive.stderr
        started = time.monotonic()
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=10)
        assert time.monotonic() - started < 5 and agent.returncode == 0, agent.stderr.read() if agent.stderr else ""
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    dead = image.run(*probe[1:], files=files, entrypoint=probe[:1])
    assert dead.returncode != 0  # the probe fails when nothing answers: the kubelet would restart the pod
