"""A small synchronous facade over the official `kubernetes` client for the harness's own calls.

Fixtures hand users the official `ApiClient`; the harness itself needs plain JSON reads and
writes of any kind it knows (workloads, SyncTargets, SyncStatus, CRDs, RBAC) without the
typed models, so it speaks JSON through the same `ApiClient` and its credentials.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from pytest_syncer.contract.resources import BUILTIN_KINDS

KubeObject = dict[str, Any]
"""A Kubernetes object as JSON. The syncer's interfaces name the same type KubeObject; the harness
defines its own so that it need not import the syncer."""


@dataclass(frozen=True)
class Kind:
    """Where a kind lives in the API: group/version, plural, and whether it is namespaced."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool = True

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace is not None:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return base if name is None else f"{base}/{name}"


_EXTRA = (
    Kind("v1", "Namespace", "namespaces", namespaced=False),
    Kind("v1", "Event", "events"),
    Kind("v1", "ServiceAccount", "serviceaccounts"),
    Kind("workload.kcp.io/v1alpha1", "SyncTarget", "synctargets", namespaced=False),
    Kind("workload.kcp.io/v1alpha1", "SyncStatus", "syncstatuses"),
    Kind(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
    ),
    Kind("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", namespaced=False),
    Kind(
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        namespaced=False,
    ),
    Kind("rbac.authorization.k8s.io/v1", "Role", "roles"),
    Kind("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
)

KINDS: dict[tuple[str, str], Kind] = {
    (kind.api_version, kind.kind): kind
    for kind in (
        *(
            Kind(resource.api_version, resource.kind, resource.resource)
            for resource in BUILTIN_KINDS.values()
        ),
        *_EXTRA,
    )
}
NAMESPACES = KINDS[("v1", "Namespace")]
EVENTS = KINDS[("v1", "Event")]
SYNC_TARGETS = KINDS[("workload.kcp.io/v1alpha1", "SyncTarget")]
SYNC_STATUSES = KINDS[("workload.kcp.io/v1alpha1", "SyncStatus")]


def register_kinds(kinds: Iterable[Kind]) -> None:
    """Kinds learnt at run time: the custom resources of the CRDs an environment installs."""
    for kind in kinds:
        KINDS[(kind.api_version, kind.kind)] = kind


def kind_of(obj: KubeObject) -> Kind:
    """The kind of a manifest; a clear error for kinds the harness does not know."""
    key = (obj.get("apiVersion", ""), obj.get("kind", ""))
    try:
        return KINDS[key]
    except KeyError:
        known = ", ".join(sorted(f"{v}/{k}" for v, k in KINDS))
        raise ValueError(
            f"the harness does not know {key[0]}/{key[1]} (a custom resource's CRD goes in "
            f"--syncer-crds); known: {known}"
        ) from None


def load_client(kubeconfig: Path, context: str | None = None) -> k8s_client.ApiClient:
    """An official `ApiClient` for one kubeconfig (and context)."""
    api: k8s_client.ApiClient = k8s_config.new_client_from_config(
        config_file=str(kubeconfig), context=context
    )
    return api


class Cluster:
    """JSON reads and writes on one cluster through an official `ApiClient`."""

    def __init__(self, name: str, kubeconfig: Path) -> None:
        self.name = name
        self.kubeconfig = kubeconfig
        self.api = load_client(kubeconfig)

    def close(self) -> None:
        self.api.close()

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: list[tuple[str, str]] | None = None,
        content_type: str = "application/json",
    ) -> KubeObject:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        params = self.api.param_serialize(
            method,
            path,
            query_params=query or [],
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(*params)
        data = response.read()
        if not 200 <= response.status < 300:
            raise k8s_client.ApiException(
                status=response.status, reason=response.reason, body=data.decode(errors="replace")
            )
        result: KubeObject = json.loads(data) if data else {}
        return result

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> KubeObject:
        return self._call("GET", kind.path(namespace, name))

    def find(self, kind: Kind, name: str, namespace: str | None = None) -> KubeObject | None:
        """The object, or None when it does not exist."""
        try:
            return self.get(kind, name, namespace)
        except k8s_client.ApiException as error:
            if error.status == 404:
                return None
            raise

    def list(
        self, kind: Kind, namespace: str | None = None, *, label_selector: str | None = None
    ) -> list[KubeObject]:
        query = [("labelSelector", label_selector)] if label_selector else []
        listed: list[KubeObject] = self._call("GET", kind.path(namespace), query=query)["items"]
        # A real server lists built-in types' items without apiVersion and kind.
        typed = {"apiVersion": kind.api_version, "kind": kind.kind}
        return [{**typed, **item} for item in listed]

    def create(self, obj: KubeObject, namespace: str | None = None) -> KubeObject:
        kind = kind_of(obj)
        namespace = namespace or obj.get("metadata", {}).get("namespace")
        return self._call("POST", kind.path(namespace), obj)

    def ensure(self, obj: KubeObject, namespace: str | None = None) -> KubeObject:
        """Create, or leave what exists (AlreadyExists is fine)."""
        try:
            return self.create(obj, namespace)
        except k8s_client.ApiException as error:
            if error.status != 409:
                raise
        meta = obj["metadata"]
        return self.get(kind_of(obj), meta["name"], namespace or meta.get("namespace"))

    def patch(
        self, kind: Kind, name: str, patch: KubeObject, namespace: str | None = None
    ) -> KubeObject:
        return self._call(
            "PATCH",
            kind.path(namespace, name),
            patch,
            content_type="application/merge-patch+json",
        )

    def delete(self, kind: Kind, name: str, namespace: str | None = None) -> bool:
        """Delete; False when it was already gone."""
        try:
            self._call("DELETE", kind.path(namespace, name))
        except k8s_client.ApiException as error:
            if error.status == 404:
                return False
            raise
        return True
