"""Example tests for the value types the syncer's parts exchange (the contract's objects and
the transform context)."""

from __future__ import annotations

import pytest

from pytest_syncer.contract.errors import (
    InvalidFieldError,
    InvalidLocatorError,
    MissingFieldError,
    TransformError,
    UnknownNamespaceError,
)
from pytest_syncer.contract.objects import (
    NamespaceLocator,
    ObjectReference,
    SyncPhase,
    SyncStatusRecord,
    SyncTarget,
)
from pytest_syncer.syncer.interfaces import TransformContext

TARGET = SyncTarget("us-east1", "root:org:ws", "8c2a0a4e-7f2f-4d7b-9d8f-1f5b3f2a9c10")
WORKLOAD = ObjectReference("apps/v1", "Deployment", "deployments", "web", "default", "uid-1")


def test_locator_reads_back_from_its_json() -> None:
    locator = NamespaceLocator(TARGET, "root:org:ws", "team-a")
    assert NamespaceLocator.from_json(locator.to_json()) == locator


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"cluster":"c","namespace":"n"}',
        '{"syncTarget":{"cluster":1,"name":"n","uid":"u"},"cluster":"c","namespace":"n"}',
    ],
)
def test_locator_from_bad_json_is_a_typed_error(text: str) -> None:
    with pytest.raises(InvalidLocatorError) as raised:
        NamespaceLocator.from_json(text)
    assert raised.value.field == "metadata.annotations[kcp.io/namespace-locator]"


def test_context_maps_downstream_namespaces_back_only_when_known() -> None:
    context = TransformContext(TARGET)
    locator = context.locator("team-a")
    assert locator.cluster == "root:org:ws"
    with pytest.raises(UnknownNamespaceError):
        context.upstream_locator(locator.downstream_namespace)
    known = context.with_locators([locator])
    assert known.upstream_locator(locator.downstream_namespace) == locator
    assert context.namespace_locators == {}


def test_sync_status_record_object_carries_name_labels_owner_and_status() -> None:
    record = SyncStatusRecord(
        WORKLOAD,
        TARGET.name,
        TARGET.key,
        phase=SyncPhase.SYNCED,
        observed_generation=3,
        downstream_status={"replicas": 2},
        conditions=({"type": "Ready", "status": "True"},),
        last_sync_time="2026-11-25T10:00:00Z",
    )
    obj = record.to_object()
    assert obj["apiVersion"] == "workload.kcp.io/v1alpha1"
    assert obj["kind"] == "SyncStatus"
    assert obj["metadata"]["name"] == "deployments.web.us-east1"
    assert obj["metadata"]["namespace"] == "default"
    assert obj["metadata"]["labels"] == {
        "workload.kcp.io/sync-target-key": TARGET.key,
        "workload.kcp.io/workload-uid": "uid-1",
    }
    assert obj["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert obj["spec"]["syncTarget"] == {"name": "us-east1", "key": TARGET.key}
    assert obj["status"]["phase"] == "Synced"
    assert obj["status"]["observedGeneration"] == 3
    assert SyncStatusRecord.from_object(obj) == record


def test_sync_status_record_reads_kind_from_owner_when_spec_lacks_it() -> None:
    obj = SyncStatusRecord(WORKLOAD, TARGET.name, TARGET.key).to_object()
    del obj["spec"]["workload"]["kind"]
    assert SyncStatusRecord.from_object(obj).workload.kind == "Deployment"


@pytest.mark.parametrize(
    ("path", "value", "error", "field"),
    [
        (("spec",), None, MissingFieldError, "spec"),
        (("spec", "workload"), [], InvalidFieldError, "spec.workload"),
        (("spec", "workload", "name"), "", MissingFieldError, "spec.workload.name"),
        (("spec", "syncTarget", "key"), 7, InvalidFieldError, "spec.syncTarget.key"),
        (("status", "phase"), "Running", InvalidFieldError, "status.phase"),
        (("status", "observedGeneration"), "3", InvalidFieldError, "status.observedGeneration"),
        (("status", "conditions"), [1], InvalidFieldError, "status.conditions"),
    ],
)
def test_sync_status_record_from_bad_object_names_the_field(
    path: tuple[str, ...], value: object, error: type[TransformError], field: str
) -> None:
    obj = SyncStatusRecord(WORKLOAD, TARGET.name, TARGET.key).to_object()
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if value is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    with pytest.raises(error) as raised:
        SyncStatusRecord.from_object(obj)
    assert raised.value.field == field
