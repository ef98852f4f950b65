"""limit/continue paging and resourceVersionMatch on lists, on both stores.

Over Secrets: a new namespace holds none (it holds a ConfigMap, ``kube-root-ca.crt``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.stores import STORES, client_for, served, status_of

NAMESPACES = "/api/v1/namespaces"


def _fill(client: ClusterClient, namespace: str, count: int) -> str:
    assert client.post(NAMESPACES, {"metadata": {"name": namespace}}).status_code == 201
    path = f"{NAMESPACES}/{namespace}/secrets"
    for index in range(count):
        body = {"metadata": {"name": f"cm-{index:02d}"}, "stringData": {"n": str(index)}}
        assert client.post(path, body).status_code == 201
    return path


def _names(listed: dict[str, Any]) -> list[str]:
    return [item["metadata"]["name"] for item in listed["items"]]


def test_pages_cover_the_list_once_in_order(client: ClusterClient) -> None:
    path = _fill(client, "paged", 7)
    first = client.get(path, params={"limit": "3"}).json()
    assert _names(first) == ["cm-00", "cm-01", "cm-02"]
    assert first["metadata"]["remainingItemCount"] == 4
    seen = _names(first)
    token = first["metadata"]["continue"]
    while token:
        listed = client.get(path, params={"limit": "3", "continue": token}).json()
        assert listed["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
        seen += _names(listed)
        token = listed["metadata"].get("continue")
    assert seen == [f"cm-{index:02d}" for index in range(7)]
    whole = client.get(path, params={"limit": "10"}).json()
    assert "continue" not in whole["metadata"]
    assert len(whole["items"]) == 7


def test_later_pages_show_the_list_as_it_was_at_the_first(client: ClusterClient) -> None:
    path = _fill(client, "snapshot", 4)
    first = client.get(path, params={"limit": "2"}).json()
    client.delete(f"{path}/cm-03")
    changed = {"stringData": {"n": "changed"}}
    client.patch(f"{path}/cm-02", changed, "application/merge-patch+json")
    client.post(path, {"metadata": {"name": "cm-99"}})
    rest = client.get(path, params={"limit": "5", "continue": first["metadata"]["continue"]})
    assert _names(rest.json()) == ["cm-02", "cm-03"]
    assert rest.json()["items"][0]["data"] == {"n": "Mg=="}, "2, as it was"
    now = client.get(path).json()
    assert _names(now) == ["cm-00", "cm-01", "cm-02", "cm-99"]


def test_paging_across_namespaces_with_a_selector(client: ClusterClient) -> None:
    for namespace in ("sel-a", "sel-b"):
        _fill(client, namespace, 2)
    params = {"limit": "1", "fieldSelector": "metadata.name=cm-01"}
    listed = client.get("/api/v1/secrets", params=params).json()
    assert "remainingItemCount" not in listed["metadata"], "unknown with a selector"
    pages = [listed]
    while token := pages[-1]["metadata"].get("continue"):
        pages.append(client.get("/api/v1/secrets", params={**params, "continue": token}).json())
    items = [item for listed_page in pages for item in listed_page["items"]]
    assert all(len(listed_page["items"]) == 1 for listed_page in pages)
    namespaces = [item["metadata"]["namespace"] for item in items]
    assert {"sel-a", "sel-b"} <= set(namespaces)
    assert namespaces == sorted(namespaces)
    assert {item["metadata"]["name"] for item in items} == {"cm-01"}


def test_resource_version_match(client: ClusterClient) -> None:
    path = _fill(client, "exact", 2)
    before = client.get(path).json()["metadata"]["resourceVersion"]
    client.post(path, {"metadata": {"name": "later"}})
    exact = client.get(path, params={"resourceVersion": before, "resourceVersionMatch": "Exact"})
    assert exact.json()["metadata"]["resourceVersion"] == before
    assert _names(exact.json()) == ["cm-00", "cm-01"]
    newer = client.get(
        path, params={"resourceVersion": before, "resourceVersionMatch": "NotOlderThan"}
    ).json()
    assert "later" in _names(newer)
    assert int(newer["metadata"]["resourceVersion"]) > int(before)
    future = str(int(newer["metadata"]["resourceVersion"]) + 1000)
    body = status_of(client.get(path, params={"resourceVersion": future}), 504, "Timeout")
    assert body["message"].startswith(f"Too large resource version: {future}, current: ")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"resourceVersionMatch": "Exact"}, "resourceVersionMatch"),
        ({"resourceVersionMatch": "Exact", "resourceVersion": "0"}, "resourceVersionMatch"),
        ({"resourceVersionMatch": "Sometimes", "resourceVersion": "1"}, "resourceVersionMatch"),
        ({"sendInitialEvents": "true"}, "sendInitialEvents"),
    ],
)
def test_invalid_list_options_are_422(
    client: ClusterClient, params: dict[str, str], field: str
) -> None:
    body = status_of(client.get("/api/v1/namespaces/default/secrets", params=params), 422)
    assert body["details"]["kind"] == "ListOptions"
    assert [cause["field"] for cause in body["details"]["causes"]] == [field]


def test_bad_continue_tokens_are_400(client: ClusterClient) -> None:
    path = "/api/v1/namespaces/default/secrets"
    status_of(client.get(path, params={"continue": "not-a-token"}), 400, "BadRequest")
    token = client.get("/api/v1/namespaces", params={"limit": "1"}).json()["metadata"]["continue"]
    mixed = client.get(path, params={"continue": token, "resourceVersion": "5"})
    assert "not allowed when using continue" in status_of(mixed, 400)["message"]


@pytest.mark.parametrize("store", STORES)
def test_tokens_expire_with_compaction(store: str, tmp_path: Path) -> None:
    with served(store, tmp_path, watch_retention=0.2) as server:
        client = client_for(server)
        first = client.get(NAMESPACES, params={"limit": "1"}).json()
        revision = first["metadata"]["resourceVersion"]
        client.post(NAMESPACES, {"metadata": {"name": "after-the-token"}})
        params = {"limit": "1", "continue": first["metadata"]["continue"]}
        expired = wait_until(
            lambda: client.get(NAMESPACES, params=params),
            lambda response: response.status_code == 410,
            what="the continue token to expire once the log is compacted",
        )
        body = status_of(expired, 410, "Expired")
        assert body["message"].startswith("The provided continue parameter is too old")
        exact = client.get(
            NAMESPACES, params={"resourceVersion": revision, "resourceVersionMatch": "Exact"}
        )
        assert status_of(exact, 410, "Expired")["message"] == (
            "The resourceVersion for the provided list is too old."
        )
