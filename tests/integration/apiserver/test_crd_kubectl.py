"""A CRD round trip with the real kubectl (two versions): apply, wait Established, use, delete."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.kubectl_runner import KUBECTL_VERSIONS, Kubectl, find_kubectl
from tests.integration.apiserver.test_crd import widget_crd


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    directory = tmp_path_factory.mktemp("kubectl-crd")
    with BackgroundAPIServer(["upstream"], directory / "kubeconfigs") as server:
        yield server


@pytest.fixture(params=KUBECTL_VERSIONS, ids=lambda v: f"kubectl-{v}")
def kubectl(
    request: pytest.FixtureRequest, apiserver: BackgroundAPIServer, tmp_path: Path
) -> Kubectl:
    version: str = request.param
    binary = find_kubectl(version)
    if binary is None:
        pytest.skip(f"kubectl.{version} is not installed beside the image's kubectl")
    kubeconfig = apiserver.add_cluster("crd-" + version.replace(".", "-"))
    return Kubectl(binary, kubeconfig, tmp_path / "cache", "default")


def test_crd_round_trip_with_kubectl(kubectl: Kubectl, tmp_path: Path) -> None:
    crd = widget_crd()
    crd["spec"]["versions"][0]["additionalPrinterColumns"] = [
        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"}
    ]
    crd_file = tmp_path / "crd.yaml"
    crd_file.write_text(yaml.safe_dump(crd))
    applied = kubectl.run("apply", "-f", str(crd_file)).stdout.strip()
    assert applied == "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created"
    kubectl.run("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s")

    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"size": 2, "color": "blue"},
    }
    widget_file = tmp_path / "widget.yaml"
    widget_file.write_text(yaml.safe_dump(widget))
    assert kubectl.run("apply", "-f", str(widget_file)).stdout.strip() == (
        "widget.example.com/w1 created"
    )
    assert kubectl.run("apply", "-f", str(widget_file)).stdout.strip() == (
        "widget.example.com/w1 unchanged"
    )
    table = kubectl.run("get", "widgets").stdout.splitlines()
    assert table[0].split() == ["NAME", "SIZE"], "declared columns replace AGE, as for real"
    assert table[1].split()[:2] == ["w1", "2"]
    assert "w1" in kubectl.run("get", "wd").stdout, "the short name works"
    kubectl.run("patch", "widget", "w1", "--type=merge", "-p", '{"spec":{"size":5}}')
    fetched = yaml.safe_load(kubectl.run("get", "widget", "w1", "-o", "yaml").stdout)
    assert fetched["spec"] == {"size": 5, "color": "blue"}
    refused = kubectl.run(
        "patch", "widget", "w1", "--type=merge", "-p", '{"spec":{"size":50}}', check=False
    )
    assert refused.returncode != 0
    assert "spec.size" in refused.stderr
    kubectl.run("scale", "widget", "w1", "--replicas=3")
    scaled = yaml.safe_load(kubectl.run("get", "widget", "w1", "-o", "yaml").stdout)
    assert scaled["spec"]["replicas"] == 3
    resources = kubectl.run("api-resources", "--api-group=example.com").stdout
    assert "widgets" in resources
    assert "wd" in resources

    kubectl.run("delete", "-f", str(crd_file))
    wait_until(
        lambda: kubectl.run("get", "widgets", check=False).returncode,
        lambda code: code != 0,
        what="widgets to stop being served once the CRD is deleted",
    )
