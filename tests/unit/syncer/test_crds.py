"""The shipped CRDs (pytest_syncer/data/crds/) describe what the syncer writes and what the
embedded server serves."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import kubernetes_validate
import pytest
import yaml

from pytest_syncer.apiserver.api.resources import ResourceRegistry
from pytest_syncer.contract.objects import ObjectReference, SyncPhase, SyncStatusRecord
from pytest_syncer.contract.resources import DEFAULT_RESOURCES
from pytest_syncer.data import shipped
from pytest_syncer.syncer.engine.heartbeat import heartbeat_patch
from pytest_syncer.syncer.engine.settings import KNOWN_RESOURCES

CRDS = shipped("crds")


def _documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((CRDS / name).read_text()) if doc]


def _crd(plural: str) -> dict[str, Any]:
    (crd,) = _documents(f"{plural}.workload.kcp.io.yaml")
    return crd


def _schema(plural: str) -> Mapping[str, Any]:
    (version,) = _crd(plural)["spec"]["versions"]
    schema: Mapping[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def _undescribed(value: Any, schema: Mapping[str, Any], path: str) -> Iterator[str]:
    """Paths in `value` that the structural schema would prune."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, child in value.items():
            if key not in properties:
                yield f"{path}.{key}"
            else:
                yield from _undescribed(child, properties[key], f"{path}.{key}")
    elif isinstance(value, list):
        for child in value:
            yield from _undescribed(child, schema.get("items", {}), f"{path}[]")


@pytest.mark.parametrize("name", sorted(p.name for p in CRDS.glob("*.yaml")))
def test_every_document_is_valid_for_kubernetes_1_32(name: str) -> None:
    documents = _documents(name)
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, "1.32", strict=True)


@pytest.mark.parametrize("plural", ["synctargets", "syncstatuses"])
def test_crds_name_the_type_the_embedded_server_serves(plural: str) -> None:
    crd = _crd(plural)
    spec = crd["spec"]
    (version,) = spec["versions"]
    served = ResourceRegistry.builtin().require(spec["group"], version["name"], plural)
    assert crd["metadata"]["name"] == f"{plural}.{spec['group']}"
    assert spec["names"]["kind"] == served.kind
    assert (spec["scope"] == "Namespaced") == served.namespaced
    assert ("status" in version.get("subresources", {})) == ("status" in served.subresources)


def test_sync_status_schema_keeps_every_field_the_syncer_writes() -> None:
    record = SyncStatusRecord(
        workload=ObjectReference("apps/v1", "Deployment", "deployments", "web", "ns", "uid-1"),
        target_name="east",
        target_key="key",
        phase=SyncPhase.SYNCED,
        observed_generation=3,
        downstream_status={"replicas": 2, "anything": {"nested": True}},
        conditions=({"type": "Synced", "status": "True", "reason": "Created", "message": "m"},),
        last_sync_time="2026-01-01T00:00:00Z",
    )
    obj = record.to_object()
    schema = _schema("syncstatuses")
    assert list(_undescribed({"spec": obj["spec"], "status": obj["status"]}, schema, "")) == []
    phases = schema["properties"]["status"]["properties"]["phase"]["enum"]
    assert phases == [phase.value for phase in SyncPhase]


def test_sync_target_schema_keeps_the_heartbeat() -> None:
    patch = heartbeat_patch("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
    assert list(_undescribed(patch, _schema("synctargets"), "")) == []


def _grants(file: str) -> dict[tuple[str, str], set[str]]:
    granted: dict[tuple[str, str], set[str]] = {}
    for document in _documents(file):
        if document["kind"] != "ClusterRole":
            continue
        for rule in document["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


def test_upstream_rbac_covers_what_the_engine_does_above() -> None:
    granted = _grants("rbac-upstream.yaml")
    for name in DEFAULT_RESOURCES:
        resource = KNOWN_RESOURCES[name]
        assert {"get", "list", "watch", "patch"} <= granted[(resource.group, resource.resource)]
    assert {"get", "list", "watch"} <= granted[("workload.kcp.io", "synctargets")]
    assert "patch" in granted[("workload.kcp.io", "synctargets/status")]
    assert {"create", "delete", "list", "watch"} <= granted[("workload.kcp.io", "syncstatuses")]
    assert "patch" in granted[("workload.kcp.io", "syncstatuses/status")]
    assert "create" in granted[("", "events")]


def test_downstream_rbac_covers_what_the_engine_does_below() -> None:
    granted = _grants("rbac-downstream.yaml")
    everything = {"get", "list", "watch", "create", "update", "delete"}
    for name in DEFAULT_RESOURCES:
        resource = KNOWN_RESOURCES[name]
        assert everything <= granted[(resource.group, resource.resource)]
    assert {"create", "delete", "list", "watch"} <= granted[("", "namespaces")]
