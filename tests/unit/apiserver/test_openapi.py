"""Building OpenAPI documents from the kubernetes-validate schemas."""

from __future__ import annotations

import json
from typing import Any

from pytest_syncer.apiserver.api.resources import ResourceRegistry
from pytest_syncer.apiserver.http.openapi import (
    V3_REF_PREFIX,
    digest,
    group_version_path,
    schema_name,
    v2_document,
    v3_document,
    v3_index,
)


def _registry() -> ResourceRegistry:
    return ResourceRegistry.builtin()


def _walk(node: Any) -> list[Any]:
    found = [node]
    if isinstance(node, dict):
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk(value))
    return found


def test_v3_schemas_are_openapi_and_closed_under_references() -> None:
    document = v3_document(_registry().in_group_version("apps", "v1"))
    schemas = document["components"]["schemas"]
    for node in _walk(schemas):
        if isinstance(node, dict):
            assert not isinstance(node.get("type"), list), node
            reference = node.get("$ref")
            if reference is not None:
                assert reference.startswith(V3_REF_PREFIX)
                assert reference.removeprefix(V3_REF_PREFIX) in schemas
    spec = schemas["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"]
    assert spec["allOf"] == [{"$ref": V3_REF_PREFIX + "io.k8s.api.apps.v1.DeploymentSpec"}]
    assert "enum" not in schemas["io.k8s.api.apps.v1.Deployment"]["properties"]["apiVersion"]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-list-map-keys"] == ["name"]


def test_types_without_a_kubernetes_schema_get_a_permissive_one() -> None:
    types = _registry().in_group_version("workload.kcp.io", "v1alpha1")
    document = v3_document(types)
    synctarget = next(t for t in types if t.kind == "SyncTarget")
    name = schema_name(synctarget)
    assert name == "io.kcp.workload.v1alpha1.SyncTarget"
    schema = document["components"]["schemas"][name]
    assert schema["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"] is True
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": "workload.kcp.io", "version": "v1alpha1", "kind": "SyncTarget"}
    ]
    assert "/apis/workload.kcp.io/v1alpha1/synctargets/{name}/status" in document["paths"]


def test_index_and_v2() -> None:
    assert group_version_path("", "v1") == "api/v1"
    assert group_version_path("apps", "v1") == "apis/apps/v1"
    index = v3_index([("", "v1")], "/clusters/x", {"api/v1": "ABC"})
    assert index == {
        "paths": {"api/v1": {"serverRelativeURL": "/clusters/x/openapi/v3/api/v1?hash=ABC"}}
    }
    assert len(digest(b"{}")) == 128
    swagger = v2_document(_registry().in_group_version("", "v1"))
    text = json.dumps(swagger["definitions"])
    assert "#/components/" not in text
    assert "#/$defs/" not in text
    pods = swagger["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]
    assert pods["patch"]["x-kubernetes-group-version-kind"]["kind"] == "Pod"
