"""What the targets of one syncer process share upstream: informers and finalizer writes.

Each target of a pool would otherwise watch each resource with its own label selector: N
watches that all carry every event of a workload placed on N targets, each parsed N times.
One watch per resource per process, dispatched to the targets whose placement label the
object carries (or carried: a dropped label is a removal), costs O(processes) instead.
A process with a single target keeps kcp's per-target label selector. Likewise the targets
that place one new workload at once add the shared finalizer with one request per process.

The SyncStatus objects are watched once per process too, and only its own targets' ones (the
set-based selector `<target key label> in (k1,...)`, or the equality one for a single target):
indexed by target key, each target reads and hears its own through a view of this one cache;
indexed by workload uid, whether a workload still has a copy on one of this process's targets
is a lookup. Every event of a SyncStatus reaches one process, not every process plus a
label-selected watch per target. The deletion that leaves a workload with none of this
process's wakes the target whose SyncStatus it was: the process's last one out, which
confirms with one list of every process's SyncStatus objects and releases the shared
finalizer when none is left (see `spec`: when processes finish together, the last to list
sees none).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, MutableSet, Sequence

from pytest_syncer.contract.naming import (
    SYNC_TARGET_KEY_LABEL,
    WORKLOAD_UID_LABEL,
    placement_label,
    sync_target_key,
)
from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.kubeclient.client import SYNC_STATUSES, KubeClient, Resource
from pytest_syncer.kubeclient.reflector import Change, Handler, IndexView, Reflector
from pytest_syncer.syncer.engine.finalizer import FinalizerWrites

log = logging.getLogger(__name__)

UpdateFilter = Callable[[KubeObject, KubeObject], bool]
"""Whether an update (old, new) matters to a subscriber; one that does not is not delivered."""

UID_INDEX = "uid"
"""Upstream objects by `metadata.uid`; SyncStatus objects by the workload uid they report on."""
TARGET_INDEX = "target"
"""SyncStatus objects by the key of the target they report on."""


def carries(obj: KubeObject | None, label: str) -> bool:
    return obj is not None and label in (obj["metadata"].get("labels") or {})


def label_value(obj: KubeObject, label: str) -> str:
    return str((obj["metadata"].get("labels") or {}).get(label, ""))


def object_uid(obj: KubeObject) -> list[str]:
    uid = obj["metadata"].get("uid")
    return [uid] if uid else []


def workload_uid(status: KubeObject) -> list[str]:
    uid = label_value(status, WORKLOAD_UID_LABEL)
    return [uid] if uid else []


def target_key(status: KubeObject) -> list[str]:
    key = label_value(status, SYNC_TARGET_KEY_LABEL)
    return [key] if key else []


def status_selector(keys: Sequence[str]) -> str:
    """The SyncStatus objects of these targets (kcp's per-target equality selector for one)."""
    if len(keys) == 1:
        return f"{SYNC_TARGET_KEY_LABEL}={keys[0]}"
    return f"{SYNC_TARGET_KEY_LABEL} in ({','.join(sorted(keys))})"


class _Dispatch:
    """One handler on a shared reflector for all the targets subscribed to it: each event
    finds its targets by their placement labels and decides an update's relevance once, not
    once in each of N handlers (a pool's targets all see every event of the resource)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.subscribers: dict[str, list[tuple[Handler, UpdateFilter | None]]] = {}

    def __call__(self, change: Change, obj: KubeObject, old: KubeObject | None) -> None:
        labels = obj["metadata"].get("labels") or {}
        old_labels = (old["metadata"].get("labels") or {}) if old is not None else {}
        update = change is Change.MODIFIED and old is not None
        verdicts: dict[UpdateFilter, bool] = {}
        for label, subscribers in self.subscribers.items():
            if label not in labels and label not in old_labels:
                continue
            for handler, updates in subscribers:
                if update and updates is not None:
                    relevant = verdicts.get(updates)
                    if relevant is None:
                        assert old is not None
                        relevant = verdicts[updates] = updates(old, obj)
                    if not relevant:
                        continue
                try:
                    handler(change, obj, old)
                except Exception:
                    log.exception("%s: event handler failed on %s", self.name, change)


class SharedUpstream:
    """One reflector per synced resource (`subscribe` a target before `start`), one
    finalizer writer."""

    def __init__(
        self,
        client: KubeClient,
        resources: Sequence[Resource],
        upstream_cluster: str,
        target_names: Sequence[str],
    ) -> None:
        keys = [sync_target_key(upstream_cluster, name) for name in target_names]
        selector = placement_label(keys[0]) if len(keys) == 1 else None
        targets = ",".join(target_names)
        self.reflectors = {
            resource.qualified_name: Reflector(
                client,
                resource,
                label_selector=selector,
                name=f"target={targets} upstream {resource.qualified_name}",
            )
            for resource in resources
        }
        for reflector in self.reflectors.values():
            reflector.add_index(UID_INDEX, object_uid)
        self.statuses = Reflector(
            client,
            SYNC_STATUSES,
            label_selector=status_selector(keys),
            name=f"target={targets} upstream syncstatuses",
        )
        self.statuses.add_index(UID_INDEX, workload_uid)
        self.statuses.add_index(TARGET_INDEX, target_key)
        self.statuses.add_handler(self._saw_status)
        self._seen: set[str] = set()
        self._wakes: list[MutableSet[tuple[str, str]]] = []
        self._dispatches: dict[str, _Dispatch] = {}
        for qualified_name, reflector in self.reflectors.items():
            reflector.add_handler(self._forget_deleted)
            dispatch = self._dispatches[qualified_name] = _Dispatch(reflector.name)
            reflector.add_handler(dispatch)
        self.finalizers = FinalizerWrites()

    def _saw_status(self, change: Change, obj: KubeObject, old: KubeObject | None) -> None:
        if change is not Change.DELETED:
            self._seen.update(workload_uid(obj))

    def _forget_deleted(self, change: Change, obj: KubeObject, old: KubeObject | None) -> None:
        if change is Change.DELETED:
            self._seen.difference_update(object_uid(obj))
            metadata = obj["metadata"]
            woken = (metadata.get("namespace", ""), metadata.get("uid", ""))
            for wakes in self._wakes:
                wakes.discard(woken)

    def forget_wakes(self, wakes: MutableSet[tuple[str, str]]) -> None:
        """Drop (namespace, uid) from `wakes` when that workload leaves the upstream cache."""
        self._wakes.append(wakes)

    def target_statuses(self, key: str) -> IndexView:
        """Target `key`'s SyncStatus objects: its part of the process's cache."""
        return self.statuses.view(TARGET_INDEX, key)

    def seen(self, uid: str) -> bool:
        """Whether this cache has held a SyncStatus of the workload with this uid (forgotten
        when the workload leaves the upstream informer): if not, no deletion here will wake
        anyone."""
        return uid in self._seen

    def remaining(self, namespace: str, uid: str) -> int:
        """Cached SyncStatus objects (this process's targets') of the workload with this uid:
        counted from the index's keys, (namespace, name), without reading the objects."""
        return sum(1 for key in self.statuses.index_keys(UID_INDEX, uid) if key[0] == namespace)

    def on_last_status(self, key: str, wake: Callable[[str, str, KubeObject], None]) -> None:
        """Call `wake(namespace, workload uid, the SyncStatus)` when target `key`'s SyncStatus
        was the last of its workload on this process's targets."""

        def deleted(change: Change, obj: KubeObject, old: KubeObject | None) -> None:
            if change is not Change.DELETED:
                return
            namespace = obj["metadata"].get("namespace", "")
            for uid in workload_uid(obj):
                if self.remaining(namespace, uid) == 0:
                    wake(namespace, uid, obj)

        self.statuses.add_value_handler(TARGET_INDEX, key, deleted)

    def subscribe(
        self, resource: Resource, key: str, handler: Handler, updates: UpdateFilter | None = None
    ) -> None:
        """Call `handler` for objects that carry, or carried, this target's placement label;
        an update only when `updates(old, new)` says it matters (asked once per event for
        every target that passes the same function)."""
        subscribers = self._dispatches[resource.qualified_name].subscribers
        subscribers.setdefault(placement_label(key), []).append((handler, updates))

    async def start(self) -> None:
        for reflector in [*self.reflectors.values(), self.statuses]:
            await reflector.start()

    async def stop(self) -> None:
        reflectors = [*self.reflectors.values(), self.statuses]
        await asyncio.gather(*(reflector.stop() for reflector in reflectors))
