"""CRDs as type-table rows, per-cluster registration, and schema checks with the real words."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_syncer.apiserver.api.crds import (
    CustomResourceDefinitions,
    clash,
    established_status,
    served_types,
    with_defaults,
)
from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.resources import ResourceRegistry
from pytest_syncer.apiserver.api.scale import to_scale, with_scale
from pytest_syncer.apiserver.api.structural_schema import admit, prune, validate
from pytest_syncer.apiserver.store import ObjectKey
from pytest_syncer.apiserver.store.memory import MemoryStore

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1, "maximum": 5},
                "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 4},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
                "port": {"x-kubernetes-int-or-string": True},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "maybe": {"type": "string", "nullable": True},
            },
        }
    },
}


def crd(group: str = "example.com", plural: str = "widgets", **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "kind": plural.title()[:-1]},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": SCHEMA},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [{"name": "Size", "jsonPath": ".spec.size"}],
                },
                {"name": "v0", "served": False, "storage": False},
            ],
            **spec,
        },
    }


def test_served_versions_become_rows() -> None:
    [row] = served_types(crd())
    assert (row.group, row.version, row.resource, row.kind) == (
        "example.com",
        "v1",
        "widgets",
        "Widget",
    )
    assert row.namespaced
    assert row.subresources == ("status",)
    assert row.definition == "widgets.example.com"
    assert row.schema == SCHEMA
    assert row.printer_columns[0]["name"] == "Size"
    assert row.key == "example.com/widgets"


def test_defaults_and_status() -> None:
    defaulted = with_defaults(crd())
    assert defaulted["spec"]["names"]["singular"] == "widget"
    assert defaulted["spec"]["names"]["listKind"] == "WidgetList"
    status = established_status(defaulted)
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "NamesAccepted": "True",
        "Established": "True",
    }
    assert status["storedVersions"] == ["v1"]


def test_types_are_served_in_their_cluster_only() -> None:
    registry = ResourceRegistry.builtin()
    definitions = CustomResourceDefinitions(MemoryStore(), registry)
    before = registry.generation
    definitions.serve("a", crd())
    assert registry.generation > before
    assert registry.lookup("example.com", "v1", "widgets", "a") is not None
    assert registry.lookup("example.com", "v1", "widgets", "b") is None
    assert registry.lookup("example.com", "v1", "widgets") is None
    assert "example.com" in registry.groups("a")
    assert "example.com" not in registry.groups("b")
    assert registry.view("a") == "a"
    assert registry.view("b") is None
    assert registry.by_kind("example.com", "v2", "Widget", "a") is not None


def test_withdraw_deletes_objects_and_tells_listeners() -> None:
    store = MemoryStore()
    registry = ResourceRegistry.builtin()
    definitions = CustomResourceDefinitions(store, registry)
    ended: list[tuple[str, list[str]]] = []
    definitions.removed_listeners.append(
        lambda cluster, types: ended.append((cluster, [t.resource for t in types]))
    )
    definitions.serve("a", crd())
    definitions.serve("b", crd())
    for cluster in ("a", "b"):
        key = ObjectKey("example.com/widgets", cluster, "default", "w")
        store.create(key, {"metadata": {"name": "w", "namespace": "default"}})
    definitions.withdraw("a", crd())
    assert store.list_objects("example.com/widgets", "a") == []
    assert len(store.list_objects("example.com/widgets", "b")) == 1
    assert ended == [("a", ["widgets"])]
    assert registry.lookup("example.com", "v1", "widgets", "b") is not None


def test_builtin_clashes() -> None:
    registry = ResourceRegistry.builtin()
    definitions = CustomResourceDefinitions(MemoryStore(), registry)
    with pytest.raises(APIError) as refused:
        definitions.admit("a", crd("networking.k8s.io", "ingresses"))
    assert refused.value.code == 409
    sync_targets = crd("workload.kcp.io", "synctargets", scope="Cluster")
    sync_targets["spec"]["names"]["kind"] = "SyncTarget"
    [row] = served_types(sync_targets)
    builtin = registry.require("workload.kcp.io", "v1alpha1", "synctargets")
    assert clash(row, builtin) is None
    admitted = definitions.admit("a", sync_targets)
    assert admitted["status"]["conditions"]
    definitions.serve("a", admitted)
    assert registry.lookup("workload.kcp.io", "v1", "synctargets", "a") is not None
    wrong_scope = crd("workload.kcp.io", "synctargets", scope="Namespaced")
    wrong_scope["spec"]["names"]["kind"] = "SyncTarget"
    wrong_scope["spec"]["versions"][0]["name"] = "v1alpha1"
    with pytest.raises(APIError):
        definitions.admit("a", wrong_scope)


def test_pruning_keeps_the_root_and_what_is_declared() -> None:
    obj = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "anything": 1},
        "spec": {"size": 2, "unknown": 1, "extra": {"deep": {"x": 1}}, "maybe": None},
        "other": True,
    }
    pruned = prune(obj, SCHEMA, root=True)
    assert pruned == {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "anything": 1},
        "spec": {"size": 2, "extra": {"deep": {"x": 1}}, "maybe": None},
    }
    assert "other" in obj, "the input is not changed"
    assert prune({"spec": {"size": 1, "mode": None}}, SCHEMA, root=True) == {"spec": {"size": 1}}


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({}, "spec.size", "Required value"),
        (
            {"size": "x"},
            "spec.size",
            'Invalid value: "string": spec.size in body must be of type integer: "string"',
        ),
        (
            {"size": 9},
            "spec.size",
            "Invalid value: 9: spec.size in body should be less than or equal to 5",
        ),
        (
            {"size": 0},
            "spec.size",
            "Invalid value: 0: spec.size in body should be greater than or equal to 1",
        ),
        (
            {"size": 1, "name": "AB"},
            "spec.name",
            "Invalid value: \"AB\": spec.name in body should match '^[a-z]+$'",
        ),
        (
            {"size": 1, "name": "abcdef"},
            "spec.name",
            "Too long: may not be more than 4 bytes",
        ),
        (
            {"size": 1, "mode": "c"},
            "spec.mode",
            'Unsupported value: "c": supported values: "a", "b"',
        ),
        ({"size": 1, "tags": ["a", "b", "c"]}, "spec.tags", "Too many: 3: must have at most 2"),
        (
            {"size": 1, "tags": [1]},
            "spec.tags[0]",
            'spec.tags[0] in body must be of type string: "integer"',
        ),
        ({"size": 1, "port": 1.5}, "spec.port", "must be of type integer-or-string"),
    ],
)
def test_validation_messages(spec: dict[str, Any], field: str, message: str) -> None:
    _, problems = admit({"metadata": {"name": "w"}, "spec": spec}, SCHEMA)
    assert [problem.field for problem in problems] == [field]
    assert message in problems[0].message


def test_defaults_fill_missing_fields() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "replicas": {"type": "integer", "default": 1},
                    "mode": {"type": "string", "default": "fast"},
                },
            }
        },
    }
    assert prune({"spec": {"mode": "slow"}}, schema, root=True) == {
        "spec": {"mode": "slow", "replicas": 1}
    }
    assert prune({"spec": {"replicas": None}}, schema, root=True) == {
        "spec": {"replicas": 1, "mode": "fast"}
    }


def test_valid_objects_pass() -> None:
    spec = {"size": 3, "name": "ab", "mode": "a", "tags": ["x"], "port": "http", "maybe": None}
    assert validate({"spec": spec}, SCHEMA) == []
    assert validate({"spec": {"size": 3, "port": 8080}}, SCHEMA) == []


def test_custom_scale_reads_and_writes_the_declared_paths() -> None:
    definition = crd()
    definition["spec"]["versions"][0]["subresources"]["scale"] = {
        "specReplicasPath": ".spec.count",
        "statusReplicasPath": ".status.count",
        "labelSelectorPath": ".status.selector",
    }
    [row] = served_types(definition)
    assert row.subresources == ("status", "scale")
    assert row.scale_paths == (".spec.count", ".status.count", ".status.selector")
    obj: dict[str, Any] = {
        "metadata": {"name": "w", "resourceVersion": "4"},
        "spec": {"count": 2, "size": 1},
        "status": {"count": 1, "selector": "a=b"},
    }
    scale = to_scale(obj, row.scale_paths)
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 1, "selector": "a=b"}
    written = with_scale(obj, {"spec": {"replicas": 7}}, row.scale_paths)
    assert written["spec"] == {"count": 7, "size": 1}
    assert obj["spec"]["count"] == 2, "the stored object is not mutated"
    deep = with_scale({"metadata": {"name": "w"}}, {"spec": {"replicas": 1}}, ("a.b.c", "", ""))
    assert deep["a"] == {"b": {"c": 1}}
