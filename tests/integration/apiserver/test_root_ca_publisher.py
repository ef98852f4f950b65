"""``kube-root-ca.crt`` is reconciled as kube-controller-manager's root CA publisher does it.

Source: kubernetes/kubernetes ``pkg/controller/certificates/rootcacertpublisher/publisher.go``:
the ConfigMap's update or delete queues its namespace; ``syncNamespace`` creates it when missing
and, when ``data`` is not exactly ``{"ca.crt": <the CA>}`` or the ``kubernetes.io/description``
annotation is empty, sets both and updates, leaving the rest of the object as it was.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.clients import ClusterClient

MERGE = "application/merge-patch+json"
DESCRIPTION = "kubernetes.io/description"


@pytest.fixture(scope="module")
def ca_pem(apiserver: BackgroundAPIServer) -> str:
    assert apiserver.ca_file is not None
    return apiserver.ca_file.read_text()


def _namespace(upstream: ClusterClient, name: str) -> str:
    created = upstream.post("/api/v1/namespaces", {"metadata": {"name": name}})
    assert created.status_code == 201, created.text
    return f"/api/v1/namespaces/{name}/configmaps/kube-root-ca.crt"


def _published(upstream: ClusterClient, path: str, ca_pem: str, what: str) -> Any:
    def read() -> Any:
        found = upstream.get(path)
        return found.json() if found.status_code == 200 else found.status_code

    def restored(found: Any) -> bool:
        if not isinstance(found, dict):
            return False
        annotations = found["metadata"].get("annotations") or {}
        return found.get("data") == {"ca.crt": ca_pem} and bool(annotations.get(DESCRIPTION))

    return wait_until(read, restored, what=what, timeout=10, interval=0.05)


def test_a_deleted_root_ca_config_map_comes_back(upstream: ClusterClient, ca_pem: str) -> None:
    path = _namespace(upstream, "ca-deleted")
    uid = upstream.get(path).json()["metadata"]["uid"]
    assert upstream.delete(path).status_code == 200
    back = _published(upstream, path, ca_pem, "kube-root-ca.crt created again after its delete")
    assert back["metadata"]["uid"] != uid


def test_edited_data_and_description_are_written_back(upstream: ClusterClient, ca_pem: str) -> None:
    path = _namespace(upstream, "ca-edited")
    edit = {
        "metadata": {"labels": {"mine": "yes"}, "annotations": {DESCRIPTION: None, "a": "b"}},
        "data": {"ca.crt": "not a CA", "extra": "x"},
    }
    edited = upstream.patch(path, edit, MERGE)
    assert edited.status_code == 200, edited.text
    back = _published(upstream, path, ca_pem, "kube-root-ca.crt data and description restored")
    assert back["data"] == {"ca.crt": ca_pem}
    assert back["metadata"]["labels"] == {"mine": "yes"}
    assert back["metadata"]["annotations"]["a"] == "b"
    managers = {entry["manager"] for entry in back["metadata"]["managedFields"]}
    assert "kube-controller-manager" in managers
