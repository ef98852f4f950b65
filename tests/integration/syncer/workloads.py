"""A valid upstream object of every kind the syncer handles, for the flow tests."""

from __future__ import annotations

from typing import Any

from pytest_syncer.contract.naming import SYNC_TARGET_KEY_LABEL, WORKLOAD_UID_LABEL
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import SYNC_STATUSES, KubeClient, Resource
from tests.integration.syncer.environment import TargetInfo


def _pod_spec(restart: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "registry.example/app:1"}]}
    if restart is not None:
        spec["restartPolicy"] = restart
    return spec


def _template(restart: str | None = None) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "w"}}, "spec": _pod_spec(restart)}


SELECTOR = {"matchLabels": {"app": "w"}}

WORKLOADS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "deployments.apps": (
        "apps/v1",
        "Deployment",
        {"spec": {"replicas": 2, "selector": SELECTOR, "template": _template()}},
    ),
    "replicasets.apps": (
        "apps/v1",
        "ReplicaSet",
        {"spec": {"replicas": 1, "selector": SELECTOR, "template": _template()}},
    ),
    "statefulsets.apps": (
        "apps/v1",
        "StatefulSet",
        {"spec": {"serviceName": "w", "selector": SELECTOR, "template": _template()}},
    ),
    "daemonsets.apps": (
        "apps/v1",
        "DaemonSet",
        {"spec": {"selector": SELECTOR, "template": _template()}},
    ),
    "jobs.batch": ("batch/v1", "Job", {"spec": {"template": _template("Never")}}),
    "services": (
        "v1",
        "Service",
        {"spec": {"selector": {"app": "w"}, "ports": [{"port": 80, "targetPort": 8080}]}},
    ),
    "configmaps": ("v1", "ConfigMap", {"data": {"key": "value"}}),
    "secrets": ("v1", "Secret", {"type": "Opaque", "data": {"key": "dmFsdWU="}}),
    "persistentvolumeclaims": (
        "v1",
        "PersistentVolumeClaim",
        {
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            }
        },
    ),
    "ingresses.networking.k8s.io": (
        "networking.k8s.io/v1",
        "Ingress",
        {"spec": {"defaultBackend": {"service": {"name": "w", "port": {"number": 80}}}}},
    ),
}


def workload(resource: str, namespace: str, name: str, labels: dict[str, str]) -> dict[str, Any]:
    api_version, kind, body = WORKLOADS[resource]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        **body,
    }


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                        },
                    }
                },
            }
        ],
    },
}
CRDS = Resource(
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False
)
WIDGETS = Resource("example.com", "v1", "widgets", "Widget")


async def install_widgets(client: KubeClient) -> None:
    """The Widget CRD in the client's logical cluster, once it is served there."""
    await client.create(CRDS, WIDGET_CRD)
    await await_until(
        lambda: client.discover("widgets.example.com"),
        lambda found: found.kind == "Widget",
        what=f"widgets.example.com served in {client.logical_cluster}",
        timeout=15,
    )


async def synced_condition(
    upstream: KubeClient, ns: str, uid: str, target: TargetInfo
) -> dict[str, Any]:
    """The Synced condition, with the phase, of a workload's SyncStatus for one target; {} while
    there is none."""
    selector = f"{WORKLOAD_UID_LABEL}={uid},{SYNC_TARGET_KEY_LABEL}={target.key}"
    listing = await upstream.list(SYNC_STATUSES, ns, label_selector=selector)
    for item in listing["items"]:
        status = item.get("status") or {}
        for condition in status.get("conditions") or []:
            if condition.get("type") == "Synced":
                return {"phase": status.get("phase"), **condition}
    return {}
