"""The SyncStatus of each (workload, this target): created before the first write below.

The engine owns `phase`, `conditions`, `observedGeneration` and `lastSyncTime`; the status
collector owns `downstreamStatus` on the same object. Both write JSON merge patches to the
`/status` subresource, so neither overwrites the other's fields, and a patch is sent only when
what the engine would say changed: a resync of a healthy workload writes nothing.

The cache is this target's view of the process's one SyncStatus informer (its own targets'
objects only); whether another process's targets still hold a workload is only ever read
from a fresh list (`remaining`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_syncer.contract.naming import WORKLOAD_UID_LABEL
from pytest_syncer.contract.objects import (
    KubeObject,
    ObjectReference,
    SyncPhase,
    SyncStatusRecord,
    SyncTarget,
)
from pytest_syncer.kubeclient.client import SYNC_STATUSES, ApiError, KubeClient, Resource
from pytest_syncer.kubeclient.reflector import Cache, Change, object_key
from pytest_syncer.syncer.engine.events import now_rfc3339
from pytest_syncer.syncer.engine.upstream import SharedUpstream

SYNCED_CONDITION = "Synced"


@dataclass(frozen=True)
class Verdict:
    """What one reconcile concluded: the phase and the Synced condition's reason and message."""

    phase: SyncPhase
    reason: str
    message: str
    observed_generation: int | None = None

    @property
    def condition_status(self) -> str:
        return "True" if self.phase is SyncPhase.SYNCED else "False"


def workload_reference(resource: Resource, obj: KubeObject) -> ObjectReference:
    metadata = obj["metadata"]
    return ObjectReference(
        api_version=resource.api_version,
        kind=resource.kind,
        resource=resource.resource,
        name=metadata["name"],
        namespace=metadata.get("namespace"),
        uid=metadata.get("uid", ""),
    )


class SyncStatusWriter:
    """This target's SyncStatus objects, read from its view of the process's cache, written
    with merge patches; the process's targets', for whether this target is the process's last
    one out of a workload, from the whole cache."""

    def __init__(
        self,
        client: KubeClient,
        cache: Cache,
        target: SyncTarget,
        shared: SharedUpstream,
        woken: set[tuple[str, str]],
    ) -> None:
        self._client = client
        self._cache = cache
        self._target = target
        self._shared = shared
        self._woken = woken
        """(namespace, workload uid) whose last SyncStatus on this process's targets, as the
        process's cache saw, was ours; forgotten once a list answered for it, or when the
        workload leaves the upstream cache."""
        self._unseen: set[tuple[str, str]] = set()
        """(namespace, name) of SyncStatus objects created here that are not cached yet."""
        self._gone: set[tuple[str, str]] = set()
        """(namespace, name) deleted here whose deletion the cache may not have seen yet."""
        cache.add_handler(self._observed)
        shared.forget_wakes(woken)

    def _observed(self, change: Change, obj: KubeObject, old: KubeObject | None) -> None:
        """Each set holds a key until the cache reports it: none grows with the workloads
        that came and went."""
        key = object_key(obj)
        self._unseen.discard(key)
        if change is Change.DELETED:
            self._gone.discard(key)

    def record(self, resource: Resource, workload: KubeObject) -> SyncStatusRecord:
        return SyncStatusRecord(
            workload=workload_reference(resource, workload),
            target_name=self._target.name,
            target_key=self._target.key,
        )

    def cached(self, namespace: str, name: str) -> KubeObject | None:
        return self._cache.get(namespace, name)

    async def ensure(self, resource: Resource, workload: KubeObject) -> bool:
        """Create the SyncStatus when missing (or left by an earlier workload of the same name);
        True when this call created it."""
        record = self.record(resource, workload)
        namespace = workload["metadata"]["namespace"]
        existing = self._cache.get(namespace, record.name)
        if existing is not None:
            labels = existing["metadata"].get("labels") or {}
            if labels.get(WORKLOAD_UID_LABEL) == record.workload.uid:
                return False
            await self._client.delete(SYNC_STATUSES, record.name, namespace)
        try:
            created = await self._client.create(SYNC_STATUSES, record.to_object())
        except ApiError as error:
            if not error.already_exists:
                raise
            return False
        key = (namespace, record.name)
        self._gone.discard(key)
        if not _same_object(self._cache.get(*key), created):
            self._unseen.add(key)
        return True

    async def report(self, resource: Resource, workload: KubeObject, verdict: Verdict) -> None:
        """Patch phase, condition and generation when they differ from what is recorded.

        A SyncStatus that is gone stays gone: the workload left this target meanwhile.
        """
        record = self.record(resource, workload)
        namespace = workload["metadata"]["namespace"]
        current = (self._cache.get(namespace, record.name) or {}).get("status") or {}
        conditions = [c for c in current.get("conditions") or [] if isinstance(c, dict)]
        previous = next((c for c in conditions if c.get("type") == SYNCED_CONDITION), {})
        generation = verdict.observed_generation
        if generation is None:
            generation = current.get("observedGeneration")
        unchanged = (
            current.get("phase") == verdict.phase.value
            and current.get("observedGeneration") == generation
            and previous.get("reason") == verdict.reason
            and previous.get("message") == verdict.message
        )
        if unchanged:
            return
        stamp = now_rfc3339()
        condition = {
            "type": SYNCED_CONDITION,
            "status": verdict.condition_status,
            "reason": verdict.reason,
            "message": verdict.message,
            "lastTransitionTime": (
                previous.get("lastTransitionTime", stamp)
                if previous.get("status") == verdict.condition_status
                else stamp
            ),
        }
        others = [c for c in conditions if c.get("type") != SYNCED_CONDITION]
        status: KubeObject = {
            "phase": verdict.phase.value,
            "conditions": [*others, condition],
            "lastSyncTime": stamp,
        }
        if generation is not None:
            status["observedGeneration"] = generation
        try:
            await self._client.patch(
                SYNC_STATUSES, record.name, {"status": status}, namespace, subresource="status"
            )
        except ApiError as error:
            if not error.not_found:
                raise

    def record_name(self, resource: Resource, namespace: str, workload_name: str) -> str:
        return SyncStatusRecord(
            workload=ObjectReference(
                resource.api_version, resource.kind, resource.resource, workload_name, namespace
            ),
            target_name=self._target.name,
            target_key=self._target.key,
        ).name

    async def delete(self, resource: Resource, namespace: str, workload_name: str) -> None:
        """Delete this target's SyncStatus of a workload, unless deleted here already or the
        cache shows it gone (and it is not one created here the cache may not have seen yet):
        a workload's removal is reconciled more than once (its copy below going enqueues it
        again), and one DELETE per target is enough."""
        key = (namespace, self.record_name(resource, namespace, workload_name))
        if key in self._gone or (self._cache.get(*key) is None and key not in self._unseen):
            return
        await self._client.delete(SYNC_STATUSES, key[1], namespace)
        self._unseen.discard(key)
        if self._cache.get(*key) is not None:
            self._gone.add(key)

    def last_out(self, namespace: str, workload_uid: str) -> bool:
        """Whether this target is its process's last one out of a workload, to confirm with
        `remaining` (no request): the process's cache saw its SyncStatus go last of the
        process's targets, or never held one of the workload's (a process started after they
        were gone). The wake stays until a list answered: a list that failed is retried."""
        if (namespace, workload_uid) in self._woken:
            return True
        return (
            not self._shared.seen(workload_uid)
            and self._shared.remaining(namespace, workload_uid) == 0
        )

    async def remaining(self, namespace: str, workload_uid: str) -> int:
        """SyncStatus objects of every target of every process still left for a workload: a
        fresh list (cheap: label-indexed), only to confirm what releasing the shared finalizer
        must not get wrong. It answers the wake: a later one comes only from a later deletion."""
        listing = await self._client.list(
            SYNC_STATUSES, namespace, label_selector=f"{WORKLOAD_UID_LABEL}={workload_uid}"
        )
        self._woken.discard((namespace, workload_uid))
        return len(listing.get("items") or [])


def _same_object(cached: KubeObject | None, written: KubeObject) -> bool:
    """Whether the cache already holds the object this syncer just wrote (its watch event
    came before the write's answer)."""
    return cached is not None and cached["metadata"].get("uid") == written["metadata"].get("uid")
