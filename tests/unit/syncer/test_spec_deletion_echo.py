"""The deletion events that follow a removal the spec syncer finished are not news.

Each target's removal of a workload used to come back as the copy's DELETED event below, and
then as the upstream object's DELETED (the shared finalizer's release), each reconciling the
removal again (2 x 25 reconciles per pool per deleted workload, each finding nothing to do).
The caches here are real reflectors fed the watch events a server sends, in either order
against the DELETE's answer; the client below answers as a server does: the deleted object, or
(finalizers below) the object with a deletionTimestamp, or nothing (404) when it was gone.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from pytest_syncer.contract.naming import placement_label
from pytest_syncer.contract.objects import KubeObject, SyncTarget
from pytest_syncer.kubeclient.client import Resource
from pytest_syncer.kubeclient.reflector import Change, Reflector
from pytest_syncer.syncer.engine.keys import WorkKey
from pytest_syncer.syncer.engine.settings import EngineSettings
from pytest_syncer.syncer.engine.spec import SpecSyncer, SyncedResource
from pytest_syncer.syncer.engine.targetlog import TargetLog
from pytest_syncer.syncer.interfaces import TransformContext

CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
TARGET = SyncTarget("t1", "root", "target-uid")
CONTEXT = TransformContext(TARGET)
BELOW = CONTEXT.locator("ns").downstream_namespace
KEY = WorkKey(CONFIGMAPS.qualified_name, "ns", "cm")


class Below:
    """The target's API server: answers DELETE, and can send the watch event before it."""

    def __init__(self, cache: Reflector, answer: str, event_first: bool) -> None:
        self.cache = cache
        self.answer = answer
        self.event_first = event_first
        self.deletes = 0

    async def delete(self, resource: Resource, name: str, namespace: str) -> KubeObject | None:
        self.deletes += 1
        obj = self.cache.get(namespace, name)
        assert obj is not None
        if self.answer == "gone":
            return None
        if self.answer == "held":
            return {
                **obj,
                "metadata": {**obj["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"},
            }
        if self.event_first:
            self.cache._apply({"type": "DELETED", "object": obj})
        return obj


class Statuses:
    async def delete(self, resource: Resource, namespace: str, name: str) -> None:
        return None


class Reporter:
    def discard(self, key: WorkKey) -> None:
        return None


def _copy() -> KubeObject:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": BELOW, "resourceVersion": "7"},
    }


def _spec(answer: str, event_first: bool) -> tuple[SpecSyncer, SyncedResource, Below]:
    none: Any = None
    down = Reflector(none, CONFIGMAPS)
    down._apply({"type": "ADDED", "object": _copy()})
    below = Below(down, answer, event_first)
    synced = SyncedResource(CONFIGMAPS, Reflector(none, CONFIGMAPS), down)
    client: Any = below
    statuses: Any = Statuses()
    reporter: Any = Reporter()
    spec = SpecSyncer(
        upstream=none,
        downstream=client,
        resources={CONFIGMAPS.qualified_name: synced},
        context=CONTEXT,
        namespaces=none,
        statuses=statuses,
        reporter=reporter,
        finalizers=none,
        settings=EngineSettings(),
        log=TargetLog(logging.getLogger(__name__), "t1"),
    )
    return spec, synced, below


@pytest.mark.parametrize("event_first", [False, True], ids=["answer first", "event first"])
async def test_the_deletion_echo_of_its_own_delete_is_spared_once(event_first: bool) -> None:
    spec, synced, below = _spec("object", event_first)
    await spec._remove(KEY, synced, None)
    assert below.deletes == 1
    echo = _copy()
    assert spec.observed_below(CONFIGMAPS, Change.DELETED, echo)
    # A later deletion of a copy of that name (made by someone else) is news again.
    assert not spec.observed_below(CONFIGMAPS, Change.DELETED, echo)
    assert spec._deleted == set()


@pytest.mark.parametrize("answer", ["held", "gone"])
async def test_a_deletion_it_did_not_finish_is_reconciled_when_it_comes(answer: str) -> None:
    """Held by finalizers below (the later DELETED ends it), or gone before (not our echo)."""
    spec, synced, below = _spec(answer, event_first=False)
    await spec._remove(KEY, synced, None)
    assert below.deletes == 1
    assert not spec.observed_below(CONFIGMAPS, Change.DELETED, _copy())
    assert spec._deleted == set()


async def test_a_deletion_by_someone_else_is_reconciled() -> None:
    spec, _, below = _spec("object", event_first=False)
    assert not spec.observed_below(CONFIGMAPS, Change.DELETED, _copy())
    assert below.deletes == 0


def _upstream(deleting: bool, placed: bool) -> KubeObject:
    metadata: KubeObject = {"name": "cm", "namespace": "ns", "uid": "u1", "resourceVersion": "9"}
    if placed:
        metadata["labels"] = {placement_label(TARGET.key): "Sync"}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {}}


@pytest.mark.parametrize(
    ("deleting", "placed", "spared"),
    [(True, True, True), (False, False, False), (True, False, False)],
    ids=["deleting and placed", "unplaced", "deleting, label gone"],
)
async def test_the_upstream_deletion_after_a_finished_removal_is_spared_once(
    deleting: bool, placed: bool, spared: bool
) -> None:
    """Only a pooled process's (its upstream cache selects nothing out) removal of an object
    being deleted that still carries the label is sure to hear the deletion event."""
    spec, synced, below = _spec("object", event_first=True)
    synced.upstream._apply({"type": "ADDED", "object": _upstream(deleting, placed)})
    synced.upstream.synced.set()
    assert await spec.reconcile(KEY) is None
    assert below.deletes == 1
    assert spec.removed_already(KEY) is spared
    assert not spec.removed_already(KEY)


async def test_a_label_selected_cache_hears_every_deletion() -> None:
    """A single-target process's cache selects by label: a deletion event may be the label's
    removal, so it is reconciled."""
    spec, synced, _ = _spec("object", event_first=True)
    synced.upstream.label_selector = placement_label(TARGET.key)
    synced.upstream._apply({"type": "ADDED", "object": _upstream(True, True)})
    synced.upstream.synced.set()
    await spec.reconcile(KEY)
    assert not spec.removed_already(KEY)
