"""NetworkPolicies, CronJobs and the RBAC types: discovery, CRUD, list and watch."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.apiserver.clients import ClusterClient

RBAC = "/apis/rbac.authorization.k8s.io/v1"
RULES = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies",
        "NetworkPolicy",
        {"spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
        {"spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}},
    ),
    (
        "/apis/batch/v1/namespaces/default/cronjobs",
        "CronJob",
        {
            "spec": {
                "schedule": "*/5 * * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [{"name": "job", "image": "busybox"}],
                            }
                        }
                    }
                },
            }
        },
        {"spec": {"schedule": "0 * * * *"}},
    ),
    (f"{RBAC}/namespaces/default/roles", "Role", {"rules": RULES}, {"rules": []}),
    (
        f"{RBAC}/namespaces/default/rolebindings",
        "RoleBinding",
        {
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
        },
        {"subjects": []},
    ),
    (f"{RBAC}/clusterroles", "ClusterRole", {"rules": RULES}, {"rules": []}),
    (
        f"{RBAC}/clusterrolebindings",
        "ClusterRoleBinding",
        {
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "c",
            },
            "subjects": [{"kind": "User", "name": "someone"}],
        },
        {"subjects": []},
    ),
]


@pytest.mark.parametrize(("collection", "kind", "body", "change"), CASES, ids=[c[1] for c in CASES])
def test_new_type_round_trip(
    upstream: ClusterClient,
    collection: str,
    kind: str,
    body: dict[str, Any],
    change: dict[str, Any],
) -> None:
    namespaced = "/namespaces/" in collection
    group_version = (
        collection.split("/namespaces/")[0] if namespaced else collection.rsplit("/", 1)[0]
    )
    resource = collection.rsplit("/", 1)[1]
    discovered = upstream.get(group_version).json()["resources"]
    entry = next(item for item in discovered if item["name"] == resource)
    assert entry["kind"] == kind
    assert entry["namespaced"] == namespaced

    name = f"new-{kind.lower()}"
    revision = upstream.get(collection).json()["metadata"]["resourceVersion"]
    created = upstream.post(collection, {"metadata": {"name": name}, **body})
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == kind
    patched = upstream.patch(f"{collection}/{name}", change, "application/merge-patch+json")
    assert patched.status_code == 200, patched.text
    listed = upstream.get(collection).json()
    assert listed["kind"] == f"{kind}List"
    assert name in [item["metadata"]["name"] for item in listed["items"]]
    assert upstream.delete(f"{collection}/{name}").status_code == 200
    assert upstream.get(f"{collection}/{name}").status_code == 404
    params = {"watch": "1", "resourceVersion": revision, "timeoutSeconds": "2"}
    with upstream.get(collection, params=params, stream=True) as response:
        seen = []
        for line in response.iter_lines():
            seen.append(json.loads(line)["type"])
            if len(seen) == 3:
                break
    assert seen == ["ADDED", "MODIFIED", "DELETED"]


def test_rbac_objects_are_validated_not_enforced(upstream: ClusterClient) -> None:
    bad = {"metadata": {"name": "bad"}, "roleRef": {"kind": "Nope", "name": ""}}
    refused = upstream.post(f"{RBAC}/namespaces/default/rolebindings", bad)
    assert refused.status_code == 422
    deny_all = {"metadata": {"name": "nothing"}, "rules": []}
    assert upstream.post(f"{RBAC}/clusterroles", deny_all).status_code == 201
    assert upstream.get("/api/v1/namespaces/default/configmaps").status_code == 200
