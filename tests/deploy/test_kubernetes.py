"""deploy/kubernetes: the CronJob and DaemonSet examples are valid objects of the Kubernetes API (its OpenAPI
schemas, strict: no unknown field, bundled by kubernetes-validate, offline) for the versions EKS runs, and they
run the image as its non-root user on a read-only root filesystem, in the pod's own network, with their AWS
credentials from IRSA rather than the node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = {name: ROOT / "deploy" / "kubernetes" / f"{name}.yaml" for name in ("cronjob", "daemonset")}
DOCKERFILE = ROOT / "deploy" / "container" / "Dockerfile"
# The oldest Kubernetes version in EKS standard support when written, and the newest schema bundled.
VERSIONS = ("1.32.0", kubernetes_validate.latest_version())


def documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(MANIFESTS[name].read_text()) if doc]


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return doc["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def workload(name: str) -> dict[str, Any]:
    (doc,) = [d for d in documents(name) if d["kind"] in ("CronJob", "DaemonSet")]
    return doc


def image_uid() -> int:
    (line,) = [line for line in DOCKERFILE.read_text().splitlines() if line.startswith("USER ")]
    return int(line.split()[1].split(":")[0])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_the_manifests_are_valid_kubernetes_objects(name: str, version: str) -> None:
    for doc in documents(name):
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_rejects_what_kubernetes_would() -> None:
    """The oracle bites: a misspelt field and a wrong type are errors."""
    doc = workload("cronjob")
    pod_spec(doc)["hostNetwrok"] = False
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, VERSIONS[0], strict=True)
    doc = workload("daemonset")
    pod_spec(doc)["containers"][0]["resources"]["limits"]["memory"] = ["256Mi"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, VERSIONS[0], strict=True)


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_the_pods_are_locked_down(name: str) -> None:
    spec = pod_spec(workload(name))
    assert spec["hostNetwork"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == image_uid()
    assert spec["serviceAccountName"] == "vpc-verify"
    (container,) = spec["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) & set(container["resources"]["limits"])
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"/tmp"}  # the one writable place (the agent's state file, Python's temporary files)
    env = {e["name"]: e for e in container["env"]}
    assert env["VPC_VERIFY_ADDRESS"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert env["AWS_EC2_METADATA_DISABLED"]["value"] == "true"  # credentials from IRSA, never the node's role


def test_the_service_account_uses_irsa() -> None:
    (account,) = [d for d in documents("cronjob") if d["kind"] == "ServiceAccount"]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    assert account["metadata"]["name"] == "vpc-verify"


def test_the_daemonset_probe_reaches_the_agent_it_starts() -> None:
    (container,) = pod_spec(workload("daemonset"))["containers"]
    args = container["args"]
    listen = args[args.index("--http") + 1]
    assert listen.startswith("127.0.0.1:")
    probe = " ".join(container["livenessProbe"]["exec"]["command"])
    assert f"http://{listen}/healthz" in probe
    assert args[args.index("--state-file") + 1].startswith("/tmp/")
