"""Garbage collection by ownerReferences and the three propagation policies, on both stores."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.stores import client_for, status_of

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
SYNCSTATUSES = "/apis/workload.kcp.io/v1alpha1/namespaces/default/syncstatuses"
MERGE = "application/merge-patch+json"


def _owner(client: ClusterClient, name: str) -> dict[str, Any]:
    response = client.post(CONFIGMAPS, {"metadata": {"name": name}})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _reference(owner: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        **extra,
    }


def _dependent(
    client: ClusterClient, name: str, *references: dict[str, Any], **metadata: Any
) -> dict[str, Any]:
    body = {"metadata": {"name": name, "ownerReferences": list(references), **metadata}}
    response = client.post(CONFIGMAPS, body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _gone(client: ClusterClient, path: str, what: str) -> None:
    wait_until(lambda: client.get(path).status_code, lambda code: code == 404, what=what)


def test_background_deletes_the_owner_then_its_dependents(client: ClusterClient) -> None:
    owner = _owner(client, "bg-owner")
    _dependent(client, "bg-child", _reference(owner))
    grandchild_owner = client.get(f"{CONFIGMAPS}/bg-child").json()
    _dependent(client, "bg-grandchild", _reference(grandchild_owner))
    response = client.request(
        "DELETE", f"{CONFIGMAPS}/bg-owner", json={"propagationPolicy": "Background"}
    )
    assert response.status_code == 200
    status_of(client.get(f"{CONFIGMAPS}/bg-owner"), 404)
    _gone(client, f"{CONFIGMAPS}/bg-child", "the dependent to be collected")
    _gone(client, f"{CONFIGMAPS}/bg-grandchild", "the dependent's dependent to be collected")


def test_foreground_waits_for_blocking_dependents(client: ClusterClient) -> None:
    owner = _owner(client, "fg-owner")
    _dependent(
        client,
        "fg-child",
        _reference(owner, blockOwnerDeletion=True),
        finalizers=["example.com/hold"],
    )
    _dependent(client, "fg-free", _reference(owner))
    deleting = client.request(
        "DELETE", f"{CONFIGMAPS}/fg-owner", json={"propagationPolicy": "Foreground"}
    ).json()
    assert "foregroundDeletion" in deleting["metadata"]["finalizers"]
    assert deleting["metadata"]["deletionTimestamp"]
    child = wait_until(
        lambda: client.get(f"{CONFIGMAPS}/fg-child").json(),
        lambda found: bool(found["metadata"].get("deletionTimestamp")),
        what="the blocking dependent to be marked for deletion",
    )
    _gone(client, f"{CONFIGMAPS}/fg-free", "the non-blocking dependent to be deleted")
    assert child["metadata"]["finalizers"][0] == "example.com/hold"
    assert client.get(f"{CONFIGMAPS}/fg-owner").status_code == 200, "held by its dependent"
    client.patch(f"{CONFIGMAPS}/fg-child", {"metadata": {"finalizers": None}}, MERGE)
    _gone(client, f"{CONFIGMAPS}/fg-child", "the dependent to go once its finalizers are gone")
    _gone(client, f"{CONFIGMAPS}/fg-owner", "the owner to go once its dependents are gone")


@pytest.mark.parametrize(
    "options",
    [{"propagationPolicy": "Orphan"}, {"orphanDependents": True}],
    ids=["propagationPolicy", "orphanDependents"],
)
def test_orphan_keeps_dependents_without_the_reference(
    client: ClusterClient, options: dict[str, Any]
) -> None:
    suffix = next(iter(options)).lower()
    owner = _owner(client, f"orphan-owner-{suffix}")
    other = _owner(client, f"orphan-other-{suffix}")
    _dependent(client, f"orphan-child-{suffix}", _reference(owner), _reference(other))
    client.request("DELETE", f"{CONFIGMAPS}/orphan-owner-{suffix}", json=options)
    _gone(client, f"{CONFIGMAPS}/orphan-owner-{suffix}", "the orphaning owner to go")
    child = client.get(f"{CONFIGMAPS}/orphan-child-{suffix}").json()
    assert child["metadata"]["ownerReferences"] == [_reference(other)]


def test_dependents_of_missing_owners_are_collected(client: ClusterClient) -> None:
    owner = _owner(client, "real-owner")
    ghost = {**_reference(owner), "name": "ghost", "uid": "00000000-0000-0000-0000-000000000000"}
    _dependent(client, "orphaned-at-birth", ghost)
    _gone(client, f"{CONFIGMAPS}/orphaned-at-birth", "a dependent of no one to be collected")
    _dependent(client, "half-owned", _reference(owner), ghost)
    kept = wait_until(
        lambda: client.get(f"{CONFIGMAPS}/half-owned").json(),
        lambda found: len(found["metadata"].get("ownerReferences", [])) == 1,
        what="the reference to the missing owner to be dropped",
    )
    assert kept["metadata"]["ownerReferences"] == [_reference(owner)]
    recreated_name = {**_reference(owner), "uid": "11111111-1111-1111-1111-111111111111"}
    _dependent(client, "same-name-other-uid", recreated_name)
    _gone(client, f"{CONFIGMAPS}/same-name-other-uid", "owners to be matched by uid, not name")


def test_syncstatus_goes_with_its_workload(client: ClusterClient) -> None:
    """Also after status writes, which keep the stored owner references as they are."""
    deployment = {
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }
    created = client.post(DEPLOYMENTS, deployment)
    assert created.status_code == 201, created.text
    status = {
        "metadata": {
            "name": "deployments.web.target-1",
            "ownerReferences": [_reference(created.json(), controller=True)],
        },
        "spec": {"workload": {"name": "web"}},
    }
    assert client.post(SYNCSTATUSES, status).status_code == 201
    # Status writes keep the stored owner references: the collector still knows the dependent.
    for phase in ("Pending", "Synced"):
        written = client.patch(
            f"{SYNCSTATUSES}/deployments.web.target-1/status", {"status": {"phase": phase}}, MERGE
        )
        assert written.status_code == 200, written.text
    client.delete(f"{DEPLOYMENTS}/web")
    _gone(client, f"{SYNCSTATUSES}/deployments.web.target-1", "the SyncStatus to follow")


def test_owners_are_looked_up_in_the_dependents_cluster(server: BackgroundAPIServer) -> None:
    upstream, other = client_for(server), client_for(server, "other")
    owner = _owner(upstream, "cross-owner")
    _dependent(other, "cross-child", _reference(owner))
    _gone(other, f"{CONFIGMAPS}/cross-child", "an owner in another cluster not to count")
    assert upstream.get(f"{CONFIGMAPS}/cross-owner").status_code == 200


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"propagationPolicy": "Sideways"}, 'Unsupported value: "Sideways"'),
        ({"propagationPolicy": "Orphan", "orphanDependents": True}, "cannot be both set"),
    ],
)
def test_invalid_delete_options_are_422(
    client: ClusterClient, options: dict[str, Any], message: str
) -> None:
    _owner(client, "stays")
    body = status_of(client.request("DELETE", f"{CONFIGMAPS}/stays", json=options), 422)
    assert body["details"]["kind"] == "DeleteOptions"
    assert message in body["message"]
    assert client.get(f"{CONFIGMAPS}/stays").status_code == 200
    client.delete(f"{CONFIGMAPS}/stays")


def test_collection_delete_applies_the_policy(client: ClusterClient) -> None:
    owner_body = {"metadata": {"name": "swept-owner", "labels": {"sweep": "gc"}}}
    owner = client.post(CONFIGMAPS, owner_body).json()
    _dependent(client, "swept-child", _reference(owner))
    response = client.request(
        "DELETE",
        CONFIGMAPS,
        params={"labelSelector": "sweep=gc"},
        json={"propagationPolicy": "Orphan"},
    )
    assert response.status_code == 200, response.text
    _gone(client, f"{CONFIGMAPS}/swept-owner", "the orphaning owner to go")
    child = client.get(f"{CONFIGMAPS}/swept-child").json()
    assert "ownerReferences" not in child["metadata"]
