"""``/openapi/v3`` and ``/openapi/v2`` over HTTP, per cluster."""

from __future__ import annotations

import yaml

from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.clients import ClusterClient


def test_v3_index_points_at_documents_under_the_cluster(upstream: ClusterClient) -> None:
    index = upstream.get("/openapi/v3").json()
    apps = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert apps.startswith("/clusters/upstream/openapi/v3/apis/apps/v1?hash=")
    assert index["paths"]["api/v1"]["serverRelativeURL"].startswith(
        "/clusters/upstream/openapi/v3/api/v1?hash="
    )
    document = upstream.get(apps.removeprefix("/clusters/upstream")).json()
    assert document["openapi"] == "3.0.0"
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    schema = document["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]


def test_unknown_group_versions_are_404(upstream: ClusterClient) -> None:
    assert upstream.get("/openapi/v3/apis/nope.io/v1").status_code == 404
    assert upstream.get("/openapi/v4").status_code == 404
    assert upstream.post("/openapi/v3", {}).status_code == 405


def test_v2_as_protobuf_or_json(upstream: ClusterClient) -> None:
    protobuf = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    encoded = upstream.get("/openapi/v2", headers={"Accept": protobuf})
    assert encoded.status_code == 200
    assert encoded.headers["Content-Type"] == (
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    )
    assert encoded.content.startswith(b"\n\x032.0")  # field 1 (swagger): "2.0"
    refused = upstream.get("/openapi/v2", headers={"Accept": "application/yaml"})
    assert refused.status_code == 406
    document = upstream.get("/openapi/v2", headers={"Accept": "application/json"}).json()
    assert document["swagger"] == "2.0"
    ref = document["definitions"]["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"]["$ref"]
    assert ref == "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {
            "plural": "widgets",
            "singular": "widget",
            "kind": "Widget",
            "listKind": "WidgetList",
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "description": "What the widget should be.",
                                "properties": {
                                    "size": {"type": "integer"},
                                    "parts": {
                                        "type": "array",
                                        "x-kubernetes-list-type": "map",
                                        "x-kubernetes-list-map-keys": ["name"],
                                        "items": {
                                            "type": "object",
                                            "required": ["name"],
                                            "properties": {
                                                "name": {"type": "string"},
                                                "count": {"type": "integer"},
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}


def test_custom_resources_get_their_own_schema_and_keyed_ownership(
    upstream: ClusterClient,
) -> None:
    created = upstream.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD)
    assert created.status_code == 201, created.text
    document = wait_until(
        lambda: upstream.get("/openapi/v3/apis/example.com/v1"),
        lambda response: response.status_code == 200,
        what="the CRD's group-version document",
    ).json()
    widget = document["components"]["schemas"]["com.example.v1.Widget"]
    assert widget["x-kubernetes-group-version-kind"] == [
        {"group": "example.com", "version": "v1", "kind": "Widget"}
    ]
    assert widget["properties"]["spec"]["description"] == "What the widget should be."
    path = "/apis/example.com/v1/namespaces/default/widgets/w"
    body = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 1, "parts": [{"name": "a", "count": 1}]},
    }
    applied = upstream.request(
        "PATCH",
        path,
        data=yaml.safe_dump(body),
        headers={"Content-Type": "application/apply-patch+yaml"},
        params={"fieldManager": "m"},
    )
    assert applied.status_code == 201, applied.text
    (entry,) = applied.json()["metadata"]["managedFields"]
    assert entry["fieldsV1"]["f:spec"]["f:parts"] == {
        'k:{"name":"a"}': {".": {}, "f:count": {}, "f:name": {}}
    }
