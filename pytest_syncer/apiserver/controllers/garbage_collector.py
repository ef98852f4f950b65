"""The garbage collector: deletes dependents whose owners are gone, and finishes propagation.

The rules (which dependents go, what ``Foreground`` and ``Orphan`` ask for) are in
:mod:`pytest_syncer.apiserver.api.deletion`; this controller applies them between requests. It
keeps an index from owner uid to dependents, fed by store events, so a deletion never scans the
store.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_syncer.apiserver.api.deletion import (
    FOREGROUND_FINALIZER,
    GC_FINALIZERS,
    ORPHAN_FINALIZER,
    Policy,
    blocks_owner,
    judge,
    owner_references,
    owner_uids,
    split_api_version,
    without_owners,
)
from pytest_syncer.apiserver.controllers.base import StoreController
from pytest_syncer.apiserver.store import ObjectKey, WatchEvent

if TYPE_CHECKING:
    from pytest_syncer.apiserver.api.object_api import ObjectAPI

logger = logging.getLogger(__name__)

# Work items for the collector's queue.
_CHECK = "check"
_OWNER_GONE = "owner-gone"
_FINALIZE = "finalize"
WorkItem = tuple[str, str, Any]


class GarbageCollector(StoreController[WorkItem]):
    """Collects dependents within each logical cluster; :meth:`observe` is a store listener."""

    name = "garbage-collector"

    def __init__(self, api: ObjectAPI) -> None:
        super().__init__(api)
        self._dependents: dict[tuple[str, str], set[ObjectKey]] = {}
        #: Owners held by foregroundDeletion, by (cluster, uid): re-checked as dependents go.
        self._waiting: dict[tuple[str, str], ObjectKey] = {}

    # Fed by the store, on the event loop, for every write: keep this cheap.

    def observe(self, event: WatchEvent) -> None:
        obj = event.object
        metadata = obj["metadata"]
        key = event.key
        previous = event.previous
        references = metadata.get("ownerReferences")
        before = previous["metadata"].get("ownerReferences") if previous is not None else None
        had = bool(before)
        has = event.type != "DELETED" and bool(references)
        # A write that keeps the stored owner references (a status write) moves no dependent.
        if (had or has) and not (has and before is references):
            self._reindex(key, previous if had else None, obj if has else None)
        if event.type == "DELETED":
            uid = metadata.get("uid")
            if (key.cluster, uid) in self._dependents:
                self.enqueue((_OWNER_GONE, key.cluster, uid))
            if had:
                assert previous is not None
                for owner in owner_uids(previous):
                    waiting = self._waiting.get((key.cluster, owner))
                    if waiting is not None:
                        self.enqueue((_FINALIZE, key.cluster, waiting))
            return
        if has and event.type == "ADDED":
            self.enqueue((_CHECK, key.cluster, key))
        if metadata.get("deletionTimestamp") and GC_FINALIZERS.intersection(
            metadata.get("finalizers") or ()
        ):
            self.enqueue((_FINALIZE, key.cluster, key))

    def _reindex(
        self, key: ObjectKey, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> None:
        old = owner_uids(before) if before is not None else set()
        new = owner_uids(after) if after is not None else set()
        for uid in old - new:
            dependents = self._dependents.get((key.cluster, uid))
            if dependents is not None:
                dependents.discard(key)
                if not dependents:
                    del self._dependents[(key.cluster, uid)]
        for uid in new - old:
            self._dependents.setdefault((key.cluster, uid), set()).add(key)

    def rebuild(self) -> None:
        """Index what the store already holds (a restart) and queue what is pending."""
        for resource_type in self.api.registry.stored_types_everywhere():
            for cluster, obj in self.stored(resource_type.key):
                key = ObjectKey(
                    resource_type.key,
                    cluster,
                    obj["metadata"].get("namespace", ""),
                    obj["metadata"]["name"],
                )
                self.observe(WatchEvent("ADDED", 0, key, obj, None))

    # The worker.

    async def process(self, key: WorkItem) -> None:
        kind, cluster, subject = key
        if kind == _CHECK:
            self._check(subject)
        elif kind == _OWNER_GONE:
            for dependent in sorted(self._dependents.get((cluster, subject), ())):
                self._check(dependent)
        else:
            self._finalize(subject)

    def _check(self, key: ObjectKey) -> None:
        obj = self.api.store.get(key)
        if obj is None:
            return
        missing = [
            str(ref["uid"])
            for ref in owner_references(obj)
            if self._owner_state(key, ref) == "absent"
        ]
        verdict = judge(obj, missing)
        if verdict.delete:
            logger.debug("collecting %s: its owners are gone", key)
            self.api.delete_key(key, obj, Policy.BACKGROUND)
        elif verdict.drop_uids:
            self.api.store.update(key, without_owners(obj, verdict.drop_uids))

    def _owner_state(self, dependent: ObjectKey, ref: Mapping[str, Any]) -> str:
        """``present``, ``absent`` (by uid) or ``unknown`` (a kind this cluster does not serve)."""
        group, version = split_api_version(str(ref.get("apiVersion", "")))
        owner_type = self.api.registry.by_kind(
            group, version, str(ref.get("kind", "")), dependent.cluster
        )
        if owner_type is None or not ref.get("name"):
            return "unknown"
        namespace = dependent.namespace if owner_type.namespaced else ""
        owner = self.api.store.get(
            ObjectKey(owner_type.key, dependent.cluster, namespace, str(ref["name"]))
        )
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return "absent"
        return "present"

    def _finalize(self, key: ObjectKey) -> None:
        owner = self.api.store.get(key)
        if owner is None or not owner["metadata"].get("deletionTimestamp"):
            return
        finalizers = owner["metadata"].get("finalizers") or ()
        uid = str(owner["metadata"].get("uid"))
        dependents = [
            (dependent_key, found)
            for dependent_key in sorted(self._dependents.get((key.cluster, uid), ()))
            if (found := self.api.store.get(dependent_key)) is not None
        ]
        if ORPHAN_FINALIZER in finalizers:
            for dependent_key, dependent in dependents:
                self.api.store.update(dependent_key, without_owners(dependent, {uid}))
            self.api.remove_finalizer(key, ORPHAN_FINALIZER)
            return
        if FOREGROUND_FINALIZER not in finalizers:
            return
        blocking = False
        for dependent_key, dependent in dependents:
            if not dependent["metadata"].get("deletionTimestamp"):
                policy = Policy.FOREGROUND if blocks_owner(dependent, uid) else Policy.BACKGROUND
                self.api.delete_key(dependent_key, dependent, policy)
            if blocks_owner(dependent, uid) and self.api.store.get(dependent_key) is not None:
                blocking = True
        if blocking:
            self._waiting[(key.cluster, uid)] = key
            return
        self._waiting.pop((key.cluster, uid), None)
        self.api.remove_finalizer(key, FOREGROUND_FINALIZER)
