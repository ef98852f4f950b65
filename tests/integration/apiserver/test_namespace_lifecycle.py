"""Namespaces go Terminating, are emptied (finalizers honoured), then disappear; both stores."""

from __future__ import annotations

import json

from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.stores import status_of

NAMESPACES = "/api/v1/namespaces"
MERGE = "application/merge-patch+json"


def test_a_namespace_terminates_until_its_contents_are_gone(client: ClusterClient) -> None:
    assert client.post(NAMESPACES, {"metadata": {"name": "leaving"}}).status_code == 201
    configmaps = f"{NAMESPACES}/leaving/configmaps"
    client.post(configmaps, {"metadata": {"name": "plain"}})
    held = {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}
    assert client.post(configmaps, held).status_code == 201
    deleting = client.delete(f"{NAMESPACES}/leaving")
    assert deleting.status_code == 200
    assert deleting.json()["status"]["phase"] == "Terminating"
    assert deleting.json()["metadata"]["deletionTimestamp"]
    wait_until(
        lambda: client.get(f"{configmaps}/plain").status_code,
        lambda code: code == 404,
        what="the namespace's plain content to be deleted",
    )
    held_now = client.get(f"{configmaps}/held").json()
    assert held_now["metadata"]["deletionTimestamp"], "finalized content is marked, not removed"
    namespace = client.get(f"{NAMESPACES}/leaving").json()
    assert namespace["status"]["phase"] == "Terminating"
    refused = client.post(configmaps, {"metadata": {"name": "late"}})
    assert status_of(refused, 403, "Forbidden")["message"] == (
        "unable to create new content in namespace leaving because it is being terminated"
    )
    client.patch(f"{configmaps}/held", {"metadata": {"finalizers": None}}, MERGE)
    wait_until(
        lambda: client.get(f"{NAMESPACES}/leaving").status_code,
        lambda code: code == 404,
        what="the emptied namespace to disappear",
    )


def test_a_namespace_finalizer_keeps_an_empty_namespace(client: ClusterClient) -> None:
    body = {"metadata": {"name": "kept", "finalizers": ["example.com/keep"]}}
    assert client.post(NAMESPACES, body).status_code == 201
    client.delete(f"{NAMESPACES}/kept")
    emptied = wait_until(
        lambda: client.get(f"{NAMESPACES}/kept").json(),
        lambda found: "finalizers" not in found.get("spec", {}),
        what="the namespace controller to drop the kubernetes finalizer",
    )
    assert emptied["status"]["phase"] == "Terminating"
    client.patch(f"{NAMESPACES}/kept", {"metadata": {"finalizers": None}}, MERGE)
    wait_until(
        lambda: client.get(f"{NAMESPACES}/kept").status_code,
        lambda code: code == 404,
        what="the namespace to go with its last finalizer",
    )


def test_watchers_see_terminating_then_deleted(client: ClusterClient) -> None:
    assert client.post(NAMESPACES, {"metadata": {"name": "watched"}}).status_code == 201
    revision = client.get(f"{NAMESPACES}/watched").json()["metadata"]["resourceVersion"]
    params = {
        "watch": "1",
        "resourceVersion": revision,
        "fieldSelector": "metadata.name=watched",
        "timeoutSeconds": "10",
    }
    with client.get(NAMESPACES, params=params, stream=True) as response:
        client.delete(f"{NAMESPACES}/watched")
        seen = []
        for line in response.iter_lines():
            event = json.loads(line)
            seen.append((event["type"], event["object"]["status"].get("phase")))
            if event["type"] == "DELETED":
                break
    assert seen[0] == ("MODIFIED", "Terminating")
    assert seen[-1][0] == "DELETED"
