"""``fieldValidation``: Strict refuses unknown fields, Warn answers Warning headers, Ignore not."""

from __future__ import annotations

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
