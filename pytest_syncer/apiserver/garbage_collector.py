"""Garbage collection by ownerReferences, and the deletion propagation policies that drive it.

As in Kubernetes, an object whose owners (matched by uid, within its logical cluster) are all
gone is deleted; one that keeps some owners loses the references to the missing ones. DELETE
chooses how dependents go: ``Background`` deletes the owner at once and the collector follows;
``Foreground`` holds the owner (finalizer ``foregroundDeletion``) until the dependents that set
``blockOwnerDeletion`` are gone; ``Orphan`` (finalizer ``orphan``) strips the owner's references
from its dependents and keeps them. The collector is an asyncio task fed by store events: it
keeps an index from owner uid to dependents so a deletion never scans the store.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_syncer.apiserver.errors import APIError
from pytest_syncer.apiserver.objects import CLUSTER_ANNOTATION
from pytest_syncer.apiserver.store import ObjectKey, WatchEvent

if TYPE_CHECKING:
    from pytest_syncer.apiserver.api import ObjectAPI

logger = logging.getLogger(__name__)

ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"
GC_FINALIZERS = frozenset({ORPHAN_FINALIZER, FOREGROUND_FINALIZER})


class Policy(enum.StrEnum):
    BACKGROUND = "Background"
    FOREGROUND = "Foreground"
    ORPHAN = "Orphan"


def deletion_policy(options: Mapping[str, Any] | None, query: Mapping[str, str]) -> Policy:
    """The propagation policy of a DELETE: body first, then the query; Background by default."""
    body = options or {}
    policy = body.get("propagationPolicy", query.get("propagationPolicy"))
    orphan = body.get("orphanDependents", query.get("orphanDependents"))
    if isinstance(orphan, str):
        orphan = {"true": True, "false": False}.get(orphan.lower(), orphan)
    if policy is not None and orphan is not None:
        raise _invalid(
            "propagationPolicy",
            "FieldValueInvalid",
            "Invalid value: "
            f'"{policy}": orphanDependents and deletionPropagation cannot be both set',
        )
    if orphan is not None:
        if not isinstance(orphan, bool):
            raise APIError(400, f"orphanDependents must be a boolean, not {orphan!r}")
        return Policy.ORPHAN if orphan else Policy.BACKGROUND
    if policy is None or policy == "":
        return Policy.BACKGROUND
    if policy not in tuple(Policy):
        raise _invalid(
            "propagationPolicy",
            "FieldValueNotSupported",
            f'Unsupported value: "{policy}": supported values: "Foreground", "Background", '
            '"Orphan", "nil"',
        )
    return Policy(policy)


def _invalid(field: str, reason: str, message: str) -> APIError:
    return APIError(
        422,
        f'DeleteOptions.meta.k8s.io "" is invalid: {field}: {message}',
        name="",
        kind="DeleteOptions",
        group="meta.k8s.io",
        causes=[{"reason": reason, "message": message, "field": field}],
    )


def finalizer_for(policy: Policy) -> str | None:
    """The finalizer DELETE puts on the owner for ``policy`` (Background needs none)."""
    if policy is Policy.ORPHAN:
        return ORPHAN_FINALIZER
    if policy is Policy.FOREGROUND:
        return FOREGROUND_FINALIZER
    return None


def owner_references(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    references = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return [ref for ref in references if isinstance(ref, Mapping) and ref.get("uid")]


def owner_uids(obj: Mapping[str, Any]) -> set[str]:
    return {str(ref["uid"]) for ref in owner_references(obj)}


@dataclass(frozen=True)
class Verdict:
    """What the collector does to one dependent: delete it, or drop some references, or nothing."""

    delete: bool = False
    drop_uids: frozenset[str] = frozenset()

    @property
    def keep(self) -> bool:
        return not self.delete and not self.drop_uids


def judge(obj: Mapping[str, Any], missing: Iterable[str]) -> Verdict:
    """A dependent whose owners with uids in ``missing`` no longer exist."""
    owners = owner_uids(obj)
    gone = frozenset(owners & set(missing))
    if not owners or not gone:
        return Verdict()
    if gone == owners:
        return Verdict(delete=True)
    return Verdict(drop_uids=gone)


def without_owners(obj: Mapping[str, Any], uids: Iterable[str]) -> dict[str, Any]:
    """A copy of ``obj`` without its references to ``uids`` (stored objects are never mutated)."""
    dropped = set(uids)
    metadata = dict(obj.get("metadata") or {})
    kept = [
        ref
        for ref in metadata.get("ownerReferences") or ()
        if not (isinstance(ref, Mapping) and ref.get("uid") in dropped)
    ]
    if kept:
        metadata["ownerReferences"] = kept
    else:
        metadata.pop("ownerReferences", None)
    return {**obj, "metadata": metadata}


def blocks_owner(obj: Mapping[str, Any], owner_uid: str) -> bool:
    """Whether ``obj`` holds back the foreground deletion of the owner with ``owner_uid``."""
    return any(
        ref.get("uid") == owner_uid and ref.get("blockOwnerDeletion") is True
        for ref in owner_references(obj)
    )


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


# Work items for the collector's queue.
_CHECK = "check"
_OWNER_GONE = "owner-gone"
_FINALIZE = "finalize"
WorkItem = tuple[str, str, Any]


class GarbageCollector:
    """Collects dependents within each logical cluster; :meth:`observe` is a store listener."""

    def __init__(self, api: ObjectAPI) -> None:
        self.api = api
        self._dependents: dict[tuple[str, str], set[ObjectKey]] = {}
        #: Owners held by foregroundDeletion, by (cluster, uid): re-checked as dependents go.
        self._waiting: dict[tuple[str, str], ObjectKey] = {}
        self._queue: asyncio.Queue[WorkItem] = asyncio.Queue()

    # Fed by the store, on the event loop, for every write: keep this cheap.

    def observe(self, event: WatchEvent) -> None:
        obj = event.object
        metadata = obj["metadata"]
        key = event.key
        previous = event.previous
        had = previous is not None and bool(previous["metadata"].get("ownerReferences"))
        has = event.type != "DELETED" and bool(metadata.get("ownerReferences"))
        if had or has:
            self._reindex(key, previous if had else None, obj if has else None)
        if event.type == "DELETED":
            uid = metadata.get("uid")
            if (key.cluster, uid) in self._dependents:
                self._queue.put_nowait((_OWNER_GONE, key.cluster, uid))
            if had:
                assert previous is not None
                for owner in owner_uids(previous):
                    waiting = self._waiting.get((key.cluster, owner))
                    if waiting is not None:
                        self._queue.put_nowait((_FINALIZE, key.cluster, waiting))
            return
        if has and event.type == "ADDED":
            self._queue.put_nowait((_CHECK, key.cluster, key))
        if metadata.get("deletionTimestamp") and GC_FINALIZERS.intersection(
            metadata.get("finalizers") or ()
        ):
            self._queue.put_nowait((_FINALIZE, key.cluster, key))

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
            for obj in self.api.store.list_objects(resource_type.key):
                annotations = obj["metadata"].get("annotations") or {}
                cluster = annotations.get(CLUSTER_ANNOTATION, "")
                key = ObjectKey(
                    resource_type.key,
                    cluster,
                    obj["metadata"].get("namespace", ""),
                    obj["metadata"]["name"],
                )
                self.observe(WatchEvent("ADDED", 0, key, obj, None))

    # The worker.

    async def run(self) -> None:
        while True:
            kind, cluster, subject = await self._queue.get()
            try:
                if kind == _CHECK:
                    self._check(subject)
                elif kind == _OWNER_GONE:
                    for dependent in sorted(self._dependents.get((cluster, subject), ())):
                        self._check(dependent)
                else:
                    self._finalize(subject)
            except Exception:
                logger.exception("garbage collection of %s %s failed", kind, subject)

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
