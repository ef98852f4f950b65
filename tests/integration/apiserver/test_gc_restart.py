"""Pending foreground deletions and Terminating namespaces finish after a restart on a data dir."""

from __future__ import annotations

from pathlib import Path

from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.stores import client_for, served

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
NAMESPACES = "/api/v1/namespaces"
MERGE = "application/merge-patch+json"
HOLD = {"finalizers": ["example.com/hold"]}


def test_deletions_in_progress_resume_after_a_restart(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as first:
        client = client_for(first)
        owner = client.post(CONFIGMAPS, {"metadata": {"name": "owner"}}).json()
        reference = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": "owner",
            "uid": owner["metadata"]["uid"],
            "blockOwnerDeletion": True,
        }
        child = {"metadata": {"name": "child", "ownerReferences": [reference], **HOLD}}
        assert client.post(CONFIGMAPS, child).status_code == 201
        client.request("DELETE", f"{CONFIGMAPS}/owner", json={"propagationPolicy": "Foreground"})
        wait_until(
            lambda: client.get(f"{CONFIGMAPS}/child").json()["metadata"],
            lambda metadata: "deletionTimestamp" in metadata,
            what="the blocking dependent to be marked",
        )
        assert client.post(NAMESPACES, {"metadata": {"name": "ending"}}).status_code == 201
        held = {"metadata": {"name": "held", **HOLD}}
        assert client.post(f"{NAMESPACES}/ending/configmaps", held).status_code == 201
        client.delete(f"{NAMESPACES}/ending")
        port = first.server.port
    with served("sqlite", tmp_path, port=port) as second:
        client = client_for(second)
        assert client.get(f"{CONFIGMAPS}/owner").status_code == 200, "still held"
        assert client.get(f"{NAMESPACES}/ending").json()["status"]["phase"] == "Terminating"
        client.patch(f"{CONFIGMAPS}/child", {"metadata": {"finalizers": None}}, MERGE)
        client.patch(
            f"{NAMESPACES}/ending/configmaps/held", {"metadata": {"finalizers": None}}, MERGE
        )
        wait_until(
            lambda: client.get(f"{CONFIGMAPS}/owner").status_code,
            lambda code: code == 404,
            what="the owner to go once its dependent is gone",
        )
        wait_until(
            lambda: client.get(f"{NAMESPACES}/ending").status_code,
            lambda code: code == 404,
            what="the namespace to go once it is empty",
        )
