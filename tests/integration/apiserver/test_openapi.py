"""``/openapi/v3`` and ``/openapi/v2`` over HTTP, per cluster."""

from __future__ import annotations

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
