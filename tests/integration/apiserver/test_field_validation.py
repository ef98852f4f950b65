"""``fieldValidation``: Strict refuses unknown fields, Warn answers Warning headers, Ignore not."""

from __future__ import annotations

from typing import Any

from tests.integration.apiserver.clients import ClusterClient

DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
SYNCTARGETS = "/apis/workload.kcp.io/v1alpha1/synctargets"


def _deployment(name: str) -> dict[str, object]:
    return {
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "bogus": 1,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "i", "colour": "red"}]},
            },
        },
    }


def test_strict_refuses_unknown_fields(upstream: ClusterClient) -> None:
    refused = upstream.post(
        DEPLOYMENTS, _deployment("strict"), params={"fieldValidation": "Strict"}
    )
    assert refused.status_code == 400
    message = refused.json()["message"]
    assert message.startswith("strict decoding error: ")
    assert 'unknown field "spec.bogus"' in message
    assert 'unknown field "spec.template.spec.containers[0].colour"' in message
    assert upstream.get(f"{DEPLOYMENTS}/strict").status_code == 404


def test_warn_and_ignore(upstream: ClusterClient) -> None:
    warned = upstream.post(DEPLOYMENTS, _deployment("warned"), params={"fieldValidation": "Warn"})
    assert warned.status_code == 201
    warnings = warned.headers["Warning"]
    assert '299 - "unknown field \\"spec.bogus\\""' in warnings
    ignored = upstream.post(
        DEPLOYMENTS, _deployment("ignored"), params={"fieldValidation": "Ignore"}
    )
    assert ignored.status_code == 201
    assert "Warning" not in ignored.headers
    bad = upstream.post(DEPLOYMENTS, _deployment("bad"), params={"fieldValidation": "Loud"})
    assert bad.status_code == 400


def test_types_without_a_schema_take_any_field(upstream: ClusterClient) -> None:
    body = {"metadata": {"name": "free"}, "spec": {"anything": {"goes": True}}}
    created = upstream.post(SYNCTARGETS, body, params={"fieldValidation": "Strict"})
    assert created.status_code == 201, created.text


def _web(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "c",
                            "image": "i",
                            "ports": [{"containerPort": 80}],
                            "resources": {"limits": {"cpu": 1, "memory": "1Gi"}},
                        }
                    ]
                },
            },
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "paused": None,
        },
    }


def test_values_of_the_wrong_type_are_refused_whatever_the_validation(
    upstream: ClusterClient,
) -> None:
    """Int-or-string and quantities take both forms and null is no value; anything else that
    a real server could not decode is a 400 naming the field, and nothing is stored."""
    assert upstream.post(DEPLOYMENTS, _web("typed")).status_code == 201
    wrong = _web("mistyped")
    containers = wrong["spec"]["template"]["spec"]["containers"]
    containers[0]["env"] = [{"name": True, "value": "1"}]
    wrong["spec"]["minReadySeconds"] = "2"
    refused = upstream.post(DEPLOYMENTS, wrong, params={"fieldValidation": "Ignore"})
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert (body["kind"], body["reason"]) == ("Status", "BadRequest")
    assert body["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: '
        "spec.template.spec.containers[0].env[0].name: expected string, got boolean; "
        "spec.minReadySeconds: expected integer, got string"
    )
    assert upstream.get(f"{DEPLOYMENTS}/mistyped").status_code == 404
    before = upstream.get(f"{DEPLOYMENTS}/typed").json()
    merge = upstream.patch(
        f"{DEPLOYMENTS}/typed", {"spec": {"paused": "yes"}}, "application/merge-patch+json"
    )
    assert merge.status_code == 400, merge.text
    assert "spec.paused: expected boolean, got string" in merge.json()["message"]
    operations = [{"op": "add", "path": "/spec/revisionHistoryLimit", "value": "3"}]
    json_patch = upstream.patch(f"{DEPLOYMENTS}/typed", operations, "application/json-patch+json")
    assert json_patch.status_code == 400, json_patch.text
    assert "spec.revisionHistoryLimit: expected integer, got string" in json_patch.text
    status = upstream.patch(
        f"{DEPLOYMENTS}/typed/status", {"status": {"replicas": 1.5}}, "application/merge-patch+json"
    )
    assert status.status_code == 400, status.text
    after = upstream.get(f"{DEPLOYMENTS}/typed").json()
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
