"""Strategic merge and server-side apply over HTTP: status codes, managedFields, conflicts."""

from __future__ import annotations

from typing import Any

import requests
import yaml

from tests.integration.apiserver.clients import ClusterClient

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
SYNCTARGETS = "/apis/workload.kcp.io/v1alpha1/synctargets"
APPLY = "application/apply-patch+yaml"
STRATEGIC = "application/strategic-merge-patch+json"


def _apply(
    client: ClusterClient, path: str, body: dict[str, Any], **params: str
) -> requests.Response:
    return client.request(
        "PATCH",
        path,
        data=yaml.safe_dump(body),
        headers={"Content-Type": APPLY},
        params=params,
    )


def _config_map(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def _owners(obj: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {(e["manager"], e["operation"]): e["fieldsV1"] for e in obj["metadata"]["managedFields"]}


def test_strategic_merge_merges_containers_by_name(upstream: ClusterClient) -> None:
    body = {
        "metadata": {"name": "smp"},
        "spec": {
            "selector": {"matchLabels": {"app": "smp"}},
            "template": {
                "metadata": {"labels": {"app": "smp"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1"}]},
            },
        },
    }
    assert upstream.post(DEPLOYMENTS, body).status_code == 201
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}}
    patched = upstream.patch(f"{DEPLOYMENTS}/smp", patch, STRATEGIC)
    assert patched.status_code == 200, patched.text
    containers = patched.json()["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("web", "nginx:2")]


def test_strategic_merge_on_a_type_without_a_builtin_schema_is_415(upstream: ClusterClient) -> None:
    upstream.post(SYNCTARGETS, {"metadata": {"name": "smp-target"}})
    refused = upstream.patch(f"{SYNCTARGETS}/smp-target", {"spec": {}}, STRATEGIC)
    assert refused.status_code == 415
    assert refused.json()["reason"] == "UnsupportedMediaType"


def test_apply_creates_then_conflicts_then_forces(upstream: ClusterClient) -> None:
    path = f"{CONFIGMAPS}/applied"
    created = _apply(upstream, path, _config_map("applied", a="1"), fieldManager="alice")
    assert created.status_code == 201, created.text
    assert _owners(created.json()) == {("alice", "Apply"): {"f:data": {"f:a": {}}}}
    same = _apply(upstream, path, _config_map("applied", a="1"), fieldManager="alice")
    assert same.status_code == 200
    assert (
        same.json()["metadata"]["resourceVersion"] == created.json()["metadata"]["resourceVersion"]
    )
    conflict = _apply(upstream, path, _config_map("applied", a="2"), fieldManager="bob")
    assert conflict.status_code == 409
    status = conflict.json()
    assert status["reason"] == "Conflict"
    assert status["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "alice" using v1',
            "field": ".data.a",
        }
    ]
    forced = _apply(upstream, path, _config_map("applied", a="2"), fieldManager="bob", force="true")
    assert forced.status_code == 200, forced.text
    assert forced.json()["data"] == {"a": "2"}
    assert _owners(forced.json()) == {("bob", "Apply"): {"f:data": {"f:a": {}}}}


def test_apply_needs_a_field_manager_and_a_kind(upstream: ClusterClient) -> None:
    path = f"{CONFIGMAPS}/unmanaged"
    missing = _apply(upstream, path, _config_map("unmanaged", a="1"))
    assert missing.status_code == 422
    assert "fieldManager" in missing.json()["message"]
    no_kind = _apply(upstream, path, {"metadata": {"name": "unmanaged"}}, fieldManager="m")
    assert no_kind.status_code == 400
    force_elsewhere = upstream.patch(
        f"{CONFIGMAPS}/unmanaged",
        {"data": {}},
        "application/merge-patch+json",
        params={"force": "true"},
    )
    assert force_elsewhere.status_code == 422


def test_updates_record_their_manager_and_take_fields_over(upstream: ClusterClient) -> None:
    path = f"{CONFIGMAPS}/updated"
    _apply(upstream, path, _config_map("updated", a="1", b="1"), fieldManager="applier")
    edited = upstream.patch(
        path,
        {"data": {"a": "2"}},
        "application/merge-patch+json",
        params={"fieldManager": "editor"},
    )
    assert edited.status_code == 200
    assert _owners(edited.json()) == {
        ("applier", "Apply"): {"f:data": {"f:b": {}}},
        ("editor", "Update"): {"f:data": {"f:a": {}}},
    }
    created = upstream.post(CONFIGMAPS, _config_map("by-agent", k="v"))
    (entry,) = created.json()["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"]) == ("python-requests", "Update")


def test_an_apply_that_changes_a_value_keeps_its_apply_entry(upstream: ClusterClient) -> None:
    """Changing an applied value is still the manager's Apply: its entry keeps the field and
    no Update entry appears (kube-apiserver records an apply only as the Apply operation,
    ``k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager``), even when both applies fall
    within one second, so that the entry's time does not tell them apart."""
    path = f"{CONFIGMAPS}/re-applied"
    for value in ("1", "2", "3"):
        answer = _apply(upstream, path, _config_map("re-applied", a=value), fieldManager="m")
        assert answer.status_code in (200, 201), answer.text
    owners = _owners(answer.json())
    assert owners == {("m", "Apply"): {"f:data": {"f:a": {}}}}
    assert answer.json()["data"] == {"a": "3"}
