"""Watch-list (``sendInitialEvents``) with the exact query client-go's reflector sends.

Over Secrets: a new namespace holds none (it holds a ConfigMap, ``kube-root-ca.crt``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.stores import status_of

NAMESPACES = "/api/v1/namespaces"
WATCHED = "/api/v1/namespaces/streamed/secrets"


def _events(response: requests.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line:
            yield json.loads(line)


@pytest.fixture(scope="module")
def streamed(upstream: ClusterClient) -> ClusterClient:
    assert upstream.post(NAMESPACES, {"metadata": {"name": "streamed"}}).status_code == 201
    for name in ("a", "b", "c"):
        assert upstream.post(WATCHED, {"metadata": {"name": name}}).status_code == 201
    return upstream


def _client_go_query(resource_version: str) -> dict[str, str]:
    """What client-go's reflector sends with the WatchListClient feature on."""
    return {
        "allowWatchBookmarks": "true",
        "resourceVersion": resource_version,
        "resourceVersionMatch": "NotOlderThan",
        "sendInitialEvents": "true",
        "timeoutSeconds": "20",
        "watch": "true",
    }


@pytest.mark.parametrize("from_revision", [False, True], ids=["rv-empty", "rv-given"])
def test_initial_events_then_the_end_bookmark_then_changes(
    streamed: ClusterClient, from_revision: bool
) -> None:
    listed = streamed.get(WATCHED).json()
    revision = listed["metadata"]["resourceVersion"] if from_revision else ""
    with streamed.get(WATCHED, params=_client_go_query(revision), stream=True) as response:
        assert response.status_code == 200
        events = _events(response)
        initial = [next(events) for _ in range(3)]
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in initial] == [
            ("ADDED", "a"),
            ("ADDED", "b"),
            ("ADDED", "c"),
        ]
        end = next(events)
        assert end["type"] == "BOOKMARK"
        assert end["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        assert int(end["object"]["metadata"]["resourceVersion"]) >= int(
            listed["metadata"]["resourceVersion"]
        )
        change_body = {"stringData": {"from": revision or "now"}}
        streamed.patch(f"{WATCHED}/b", change_body, "application/merge-patch+json")
        change = next(event for event in events if event["type"] != "BOOKMARK")
        assert (change["type"], change["object"]["metadata"]["name"]) == ("MODIFIED", "b")
        assert int(change["object"]["metadata"]["resourceVersion"]) > int(
            end["object"]["metadata"]["resourceVersion"]
        )


def test_send_initial_events_false_starts_from_now(streamed: ClusterClient) -> None:
    query = {**_client_go_query(""), "sendInitialEvents": "false"}
    with streamed.get(WATCHED, params=query, stream=True) as response:
        events = _events(response)
        streamed.post(WATCHED, {"metadata": {"name": "fresh"}})
        first = next(event for event in events if event["type"] != "BOOKMARK")
        assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "fresh")


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"resourceVersionMatch": None}, ["resourceVersionMatch"]),
        ({"allowWatchBookmarks": None}, ["allowWatchBookmarks"]),
        ({"resourceVersionMatch": "Exact"}, ["resourceVersionMatch"]),
        ({"sendInitialEvents": None}, ["resourceVersionMatch"]),
        ({"resourceVersionMatch": None, "allowWatchBookmarks": None}, None),
    ],
)
def test_invalid_combinations_are_refused(
    streamed: ClusterClient, change: dict[str, str | None], fields: list[str] | None
) -> None:
    query: dict[str, str] = {}
    for key, value in {**_client_go_query(""), **change}.items():
        if value is not None:
            query[key] = value
    body = status_of(streamed.get(WATCHED, params=query), 422, "Invalid")
    assert body["details"]["kind"] == "ListOptions"
    causes = [cause["field"] for cause in body["details"]["causes"]]
    assert causes == (fields or ["resourceVersionMatch", "allowWatchBookmarks"])
