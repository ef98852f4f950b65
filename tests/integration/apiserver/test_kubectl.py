"""The real kubectl (two versions) against the embedded API server.

One server per module; each kubectl version gets its own logical cluster (so the runs never see
each other's objects), its own kubeconfig written by the server, and its own discovery cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.kubectl_runner import KUBECTL_VERSIONS, Kubectl, kubectl_or_skip
from tests.support.tokens import token_of

DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"


def _deployment(name: str, image: str = "nginx:1.25", replicas: int = 1) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "containers": [
                            {"name": "web", "image": image, "ports": [{"containerPort": 80}]}
                        ]
                    },
                },
            },
        }
    )


def _config_map(name: str, **data: str) -> str:
    return yaml.safe_dump(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}
    )


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    directory = tmp_path_factory.mktemp("kubectl-apiserver")
    with BackgroundAPIServer(["upstream"], directory / "kubeconfigs") as server:
        yield server


@pytest.fixture(scope="module", params=KUBECTL_VERSIONS, ids=lambda v: f"kubectl-{v}")
def kubectl(
    request: pytest.FixtureRequest,
    apiserver: BackgroundAPIServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Kubectl:
    version: str = request.param
    kubeconfig = apiserver.add_cluster("kubectl-" + version.replace(".", "-"))
    return kubectl_or_skip(version, kubeconfig, tmp_path_factory.mktemp(f"kubectl-cache-{version}"))


@pytest.fixture(scope="module")
def http(apiserver: BackgroundAPIServer, kubectl: Kubectl) -> ClusterClient:
    """Raw HTTP to the same cluster kubectl uses, for what a test writes behind kubectl's back."""
    cluster = kubectl.kubeconfig.stem
    return ClusterClient(
        f"{apiserver.url}/clusters/{cluster}",
        token_of(kubectl.kubeconfig),
        str(apiserver.ca_file),
    )


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_create_get_and_yaml(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = _write(tmp_path, "deploy.yaml", _deployment("created"))
    assert kubectl.run("create", "-f", manifest).stdout.strip() == (
        "deployment.apps/created created"
    )
    table = kubectl.run("get", "deployments").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    row = next(line.split() for line in table[1:] if line.startswith("created "))
    assert row[:4] == ["created", "0/1", "0", "0"]
    wide = kubectl.run("get", "deployment", "created", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[5:8] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1].split()[5:8] == ["web", "nginx:1.25", "app=created"]
    document = yaml.safe_load(kubectl.run("get", "deployment", "created", "-o", "yaml").stdout)
    assert document["kind"] == "Deployment"
    assert document["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert document["metadata"]["uid"]
    again = kubectl.run("create", "-f", manifest, check=False)
    assert again.returncode != 0
    assert "AlreadyExists" in again.stderr or "already exists" in again.stderr


def test_apply_twice_says_unchanged(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = _write(tmp_path, "deploy.yaml", _deployment("applied"))
    assert kubectl.run("apply", "-f", manifest).stdout.strip() == "deployment.apps/applied created"
    assert kubectl.run("apply", "-f", manifest).stdout.strip() == (
        "deployment.apps/applied unchanged"
    )
    changed = _write(tmp_path, "changed.yaml", _deployment("applied", image="nginx:1.27"))
    assert kubectl.run("apply", "-f", changed).stdout.strip() == (
        "deployment.apps/applied configured"
    )
    live = yaml.safe_load(kubectl.run("get", "deployment", "applied", "-o", "yaml").stdout)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert "kubectl.kubernetes.io/last-applied-configuration" in live["metadata"]["annotations"]


def test_apply_server_side_records_owners_and_conflicts(kubectl: Kubectl, tmp_path: Path) -> None:
    first = _write(tmp_path, "first.yaml", _config_map("ssa", a="1", b="2"))
    assert kubectl.run("apply", "--server-side", "-f", first).stdout.strip() == (
        "configmap/ssa serverside-applied"
    )
    assert kubectl.run("apply", "--server-side", "-f", first).stdout.strip() == (
        "configmap/ssa serverside-applied"
    )
    live = yaml.safe_load(
        kubectl.run("get", "configmap", "ssa", "-o", "yaml", "--show-managed-fields").stdout
    )
    (entry,) = live["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"]) == ("kubectl", "Apply")
    assert entry["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    other = _write(tmp_path, "other.yaml", _config_map("ssa", a="changed"))
    conflict = kubectl.run(
        "apply", "--server-side", "--field-manager=other", "-f", other, check=False
    )
    assert conflict.returncode != 0
    assert 'conflict with "kubectl"' in conflict.stderr
    assert ".data.a" in conflict.stderr
    kubectl.run("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", other)
    live = yaml.safe_load(
        kubectl.run("get", "configmap", "ssa", "-o", "yaml", "--show-managed-fields").stdout
    )
    assert live["data"] == {"a": "changed", "b": "2"}
    owners = {e["manager"]: e["fieldsV1"] for e in live["metadata"]["managedFields"]}
    assert owners == {"kubectl": {"f:data": {"f:b": {}}}, "other": {"f:data": {"f:a": {}}}}


def test_get_watch_sees_a_change(kubectl: Kubectl, http: ClusterClient, tmp_path: Path) -> None:
    kubectl.run("create", "-f", _write(tmp_path, "cm.yaml", _config_map("watched", k="v")))
    watch = kubectl.start("--namespace=default", "get", "configmap", "watched", "-w")
    try:
        wait_until(
            watch.snapshot,
            lambda lines: any(line.startswith("watched ") for line in lines),
            what="kubectl get -w to print the config map",
        )
        response = http.patch(
            "/api/v1/namespaces/default/configmaps/watched",
            {"data": {"k": "v", "added": "x"}},
            "application/merge-patch+json",
        )
        assert response.status_code == 200, response.text
        lines = wait_until(
            watch.snapshot,
            lambda lines: sum(line.startswith("watched ") for line in lines) >= 2,
            what="kubectl get -w to print the change",
        )
    finally:
        watch.stop()
    assert lines[0].split() == ["NAME", "DATA", "AGE"]
    rows = [line.split() for line in lines if line.startswith("watched ")]
    assert [row[1] for row in rows[:2]] == ["1", "2"]


def test_patch_with_all_three_types(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.run("create", "-f", _write(tmp_path, "deploy.yaml", _deployment("patched")))
    kubectl.run(
        "patch",
        "deployment",
        "patched",
        "--type=strategic",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}',
    )
    kubectl.run("patch", "deployment", "patched", "--type=merge", "-p", '{"spec":{"replicas":3}}')
    kubectl.run(
        "patch",
        "deployment",
        "patched",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/template/spec/containers/1/image","value":"nginx:2"}]',
    )
    live = yaml.safe_load(kubectl.run("get", "deployment", "patched", "-o", "yaml").stdout)
    containers = live["spec"]["template"]["spec"]["containers"]
    # A strategic merge puts the items the patch adds before the ones it does not name.
    assert [(c["name"], c["image"]) for c in containers] == [
        ("sidecar", "busybox"),
        ("web", "nginx:2"),
    ]
    assert live["spec"]["replicas"] == 3
    assert live["metadata"]["generation"] == 4


def test_wait_for_available(kubectl: Kubectl, http: ClusterClient, tmp_path: Path) -> None:
    kubectl.run("create", "-f", _write(tmp_path, "deploy.yaml", _deployment("waited")))
    waiting = kubectl.start(
        "wait", "--for=condition=Available", "deployment/waited", "--timeout=30s"
    )
    try:
        live = http.get(f"{DEPLOYMENTS}/waited").json()
        live["status"] = {
            "replicas": 1,
            "availableReplicas": 1,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                }
            ],
        }
        response = http.put(f"{DEPLOYMENTS}/waited/status", live)
        assert response.status_code == 200, response.text
        wait_until(
            waiting.process.poll,
            lambda code: code is not None,
            what="kubectl wait to finish",
        )
    finally:
        stderr = waiting.stop()
    assert waiting.process.returncode == 0, stderr
    assert waiting.snapshot() == ["deployment.apps/waited condition met"]


def test_delete(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = _write(tmp_path, "cm.yaml", _config_map("deleted", k="v"))
    kubectl.run("create", "-f", manifest)
    assert kubectl.run("delete", "configmap", "deleted").stdout.strip() == (
        'configmap "deleted" deleted'
    )
    gone = kubectl.run("get", "configmap", "deleted", check=False)
    assert gone.returncode != 0
    assert 'configmaps "deleted" not found' in gone.stderr
    kubectl.run("create", "-f", manifest)
    assert kubectl.run("delete", "-f", manifest, "--wait=true").stdout.strip() == (
        'configmap "deleted" deleted'
    )


def test_dry_run_server_stores_nothing(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = _write(tmp_path, "cm.yaml", _config_map("dry", k="v"))
    result = kubectl.run("apply", "--dry-run=server", "-f", manifest)
    assert result.stdout.strip() == "configmap/dry created (server dry run)"
    assert kubectl.run("get", "configmap", "dry", check=False).returncode != 0
    kubectl.run("apply", "-f", manifest)
    deleted = kubectl.run("delete", "configmap", "dry", "--dry-run=server")
    assert deleted.stdout.strip() == 'configmap "dry" deleted (server dry run)'
    assert kubectl.run("get", "configmap", "dry", "-o", "name").stdout.strip() == "configmap/dry"


def test_strict_validation_refuses_unknown_fields(kubectl: Kubectl, tmp_path: Path) -> None:
    document = yaml.safe_load(_config_map("strict", k="v"))
    document["spec"] = {"unknown": True}
    manifest = _write(tmp_path, "cm.yaml", yaml.safe_dump(document))
    refused = kubectl.run("apply", "-f", manifest, check=False)
    assert refused.returncode != 0
    assert 'unknown field "spec"' in refused.stderr


def test_api_resources(kubectl: Kubectl) -> None:
    lines = kubectl.run("api-resources").stdout.splitlines()
    assert lines[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert rows["namespaces"] == ["namespaces", "ns", "v1", "false", "Namespace"]
    namespaced = kubectl.run("api-resources", "--namespaced=false", "-o", "name").stdout
    assert "namespaces" in namespaced.split()
    assert "configmaps" not in namespaced.split()


def test_explain_deployment_spec(kubectl: Kubectl) -> None:
    text = kubectl.run("explain", "deployment.spec").stdout
    assert "KIND:       Deployment" in text
    assert "FIELD: spec <DeploymentSpec>" in text
    for field in ("replicas\t<integer>", "selector\t<LabelSelector> -required-", "template"):
        assert field in text
    nested = kubectl.run("explain", "deployment.spec.template.spec.containers.ports").stdout
    assert "containerPort\t<integer> -required-" in nested


def test_scale(kubectl: Kubectl, http: ClusterClient, tmp_path: Path) -> None:
    kubectl.run("create", "-f", _write(tmp_path, "deploy.yaml", _deployment("scaled")))
    assert kubectl.run("scale", "deployment", "scaled", "--replicas=4").stdout.strip() == (
        "deployment.apps/scaled scaled"
    )
    scale = http.get(f"{DEPLOYMENTS}/scaled/scale").json()
    assert (scale["apiVersion"], scale["kind"]) == ("autoscaling/v1", "Scale")
    assert scale["spec"] == {"replicas": 4}
    assert scale["status"] == {"replicas": 0, "selector": "app=scaled"}
    refused = http.patch(
        f"{DEPLOYMENTS}/scaled/scale", {"spec": {"replicas": -1}}, "application/merge-patch+json"
    )
    assert refused.status_code == 422
    assert refused.json()["details"]["causes"][0]["field"] == "spec.replicas"


def test_edit(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.run("create", "-f", _write(tmp_path, "cm.yaml", _config_map("edited", k="before")))
    editor = {"KUBE_EDITOR": "sed -i s/before/after/"}
    assert kubectl.run("edit", "configmap", "edited", env=editor).stdout.strip() == (
        "configmap/edited edited"
    )
    live = yaml.safe_load(
        kubectl.run("get", "configmap", "edited", "-o", "yaml", "--show-managed-fields").stdout
    )
    assert live["data"] == {"k": "after"}
    owners = {
        (e["manager"], e["operation"]): e["fieldsV1"] for e in live["metadata"]["managedFields"]
    }
    assert owners == {("kubectl-edit", "Update"): {"f:data": {"f:k": {}}}}
