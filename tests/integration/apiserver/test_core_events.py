"""Core v1 Events whose namespace and involvedObject disagree are refused, as the real server
refuses them.

Source: kubernetes/kubernetes ``pkg/apis/core/validation/events.go`` (``legacyValidateEvent``):
without ``eventTime``, an ``involvedObject.namespace`` must equal the Event's namespace, and an
empty one goes only with ``default``; with ``eventTime``, ``reportingController`` (JSON
``reportingComponent``), ``reportingInstance``, ``action`` and ``reason`` are required. The error
is ``involvedObject.namespace: Invalid value: "<its namespace>": does not match
event.namespace``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.apiserver.clients import ClusterClient

MISMATCH = "does not match event.namespace"


@pytest.fixture(scope="module")
def namespace(upstream: ClusterClient) -> str:
    created = upstream.post("/api/v1/namespaces", {"metadata": {"name": "events-here"}})
    assert created.status_code == 201, created.text
    return "events-here"


def _event(name: str, namespace: str, **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "reason": "Tested",
        "message": "m",
        "type": "Normal",
        **fields,
    }


def _post(client: ClusterClient, namespace: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/namespaces/{namespace}/events", body)


def _pod(namespace: str) -> dict[str, str]:
    return {"kind": "Pod", "name": "p", "namespace": namespace, "apiVersion": "v1"}


@pytest.mark.parametrize(
    ("involved", "shown"),
    [(None, ""), ({"kind": "Pod", "name": "p"}, ""), (_pod("elsewhere"), "elsewhere")],
    ids=["no-involved-object", "no-namespace", "another-namespace"],
)
def test_an_involved_object_in_another_namespace_is_refused(
    upstream: ClusterClient, namespace: str, involved: dict[str, str] | None, shown: str
) -> None:
    body = _event("refused", namespace)
    if involved is not None:
        body["involvedObject"] = involved
    answer = _post(upstream, namespace, body)
    assert answer.status_code == 422, answer.text
    status = answer.json()
    message = f'Invalid value: "{shown}": {MISMATCH}'
    assert status["message"] == f'Event "refused" is invalid: involvedObject.namespace: {message}'
    assert status["details"]["causes"] == [
        {"reason": "FieldValueInvalid", "message": message, "field": "involvedObject.namespace"}
    ]


def test_matching_namespaces_and_default_without_one_are_taken(
    upstream: ClusterClient, namespace: str
) -> None:
    here = _post(upstream, namespace, _event("here", namespace, involvedObject=_pod(namespace)))
    assert here.status_code == 201, here.text
    bare = _post(upstream, "default", _event("bare", "default"))
    assert bare.status_code == 201, bare.text


def test_an_event_time_needs_the_reporting_fields(upstream: ClusterClient, namespace: str) -> None:
    body = _event(
        "timed", namespace, involvedObject=_pod(namespace), eventTime="2026-01-01T00:00:00.000000Z"
    )
    answer = _post(upstream, namespace, body)
    assert answer.status_code == 422, answer.text
    causes = {(c["field"], c["reason"]) for c in answer.json()["details"]["causes"]}
    assert {
        ("reportingController", "FieldValueRequired"),
        ("reportingInstance", "FieldValueRequired"),
        ("action", "FieldValueRequired"),
    } <= causes
    body.update(reportingComponent="example.com/tester", reportingInstance="i", action="Test")
    assert _post(upstream, namespace, body).status_code == 201


def test_an_update_is_held_to_the_same_rule(upstream: ClusterClient, namespace: str) -> None:
    created = _post(upstream, namespace, _event("moved", namespace, involvedObject=_pod(namespace)))
    assert created.status_code == 201, created.text
    moved = {**created.json(), "involvedObject": _pod("elsewhere")}
    answer = upstream.put(f"/api/v1/namespaces/{namespace}/events/moved", moved)
    assert answer.status_code == 422, answer.text
