"""Table responses (``kubectl get``'s Accept header) for lists, objects and watch events."""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.integration.apiserver.clients import ClusterClient

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
KUBECTL_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


def _table(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    assert (document["kind"], document["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    return document


def test_list_and_get_as_table(upstream: ClusterClient) -> None:
    upstream.post(CONFIGMAPS, {"metadata": {"name": "tabled"}, "data": {"a": "1", "b": "2"}})
    listed = _table(upstream.get(CONFIGMAPS, headers={"Accept": KUBECTL_ACCEPT}))
    assert [c["name"] for c in listed["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert listed["metadata"]["resourceVersion"]
    rows = {row["cells"][0]: row for row in listed["rows"]}
    assert rows["tabled"]["cells"][1] == 2
    assert rows["tabled"]["object"]["kind"] == "PartialObjectMetadata"
    assert rows["tabled"]["object"]["metadata"]["name"] == "tabled"
    one = _table(
        upstream.get(
            f"{CONFIGMAPS}/tabled",
            headers={"Accept": KUBECTL_ACCEPT},
            params={"includeObject": "Object"},
        )
    )
    (row,) = one["rows"]
    assert row["object"]["data"] == {"a": "1", "b": "2"}
    plain = upstream.get(f"{CONFIGMAPS}/tabled", headers={"Accept": "application/json"})
    assert plain.json()["kind"] == "ConfigMap"


def test_unservable_representations_are_406(upstream: ClusterClient) -> None:
    accept = "application/json;as=Bogus;v=v1;g=meta.k8s.io, text/html"
    refused = upstream.get(CONFIGMAPS, headers={"Accept": accept})
    assert refused.status_code == 406
    assert refused.json()["reason"] == "NotAcceptable"
    bad = upstream.get(
        CONFIGMAPS, headers={"Accept": KUBECTL_ACCEPT}, params={"includeObject": "x"}
    )
    assert bad.status_code == 400


def test_watch_events_are_one_row_tables(upstream: ClusterClient) -> None:
    upstream.post(CONFIGMAPS, {"metadata": {"name": "watched-table"}, "data": {}})
    params = {"watch": "1", "fieldSelector": "metadata.name=watched-table", "timeoutSeconds": "10"}
    with upstream.get(
        CONFIGMAPS, headers={"Accept": KUBECTL_ACCEPT}, params=params, stream=True
    ) as stream:
        lines = stream.iter_lines()
        first = json.loads(next(lines))
        upstream.patch(
            f"{CONFIGMAPS}/watched-table", {"data": {"k": "v"}}, "application/merge-patch+json"
        )
        second = json.loads(next(lines))  # the stream ends after timeoutSeconds
    assert first["type"] == "ADDED"
    assert first["object"]["kind"] == "Table"
    assert [c["name"] for c in first["object"]["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert second["type"] == "MODIFIED"
    assert second["object"]["columnDefinitions"] == []
    (row,) = second["object"]["rows"]
    assert row["cells"][:2] == ["watched-table", 1]
