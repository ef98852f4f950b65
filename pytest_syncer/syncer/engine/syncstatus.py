"""The SyncStatus of each (workload, this target): created before the first write below.

The engine owns `phase`, `conditions`, `observedGeneration` and `lastSyncTime`; the status
collector owns `downstreamStatus` on the same object. Both write JSON merge patches to the
`/status` subresource, so neither overwrites the other's fields, and a patch is sent only when
what the engine would say changed: a resync of a healthy workload writes nothing.
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
from pytest_syncer.kubeclient.reflector import Reflector
from pytest_syncer.syncer.engine.events import now_rfc3339

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
    """This target's SyncStatus objects, read from a reflector, written with merge patches."""

    def __init__(self, client: KubeClient, cache: Reflector, target: SyncTarget) -> None:
        self._client = client
        self._cache = cache
        self._target = target

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
            await self._client.create(SYNC_STATUSES, record.to_object())
        except ApiError as error:
            if not error.already_exists:
                raise
            return False
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

    async def delete(self, resource: Resource, namespace: str, workload_name: str) -> None:
        name = SyncStatusRecord(
            workload=ObjectReference(
                resource.api_version, resource.kind, resource.resource, workload_name, namespace
            ),
            target_name=self._target.name,
            target_key=self._target.key,
        ).name
        await self._client.delete(SYNC_STATUSES, name, namespace)

    async def remaining(self, namespace: str, workload_uid: str) -> int:
        """SyncStatus objects of every target still left for a workload (a fresh list)."""
        listing = await self._client.list(
            SYNC_STATUSES, namespace, label_selector=f"{WORKLOAD_UID_LABEL}={workload_uid}"
        )
        return len(listing.get("items") or [])
