"""The hub's status aggregator: every target's SyncStatus of a workload -> the workload's `.status`.

It watches SyncStatus objects, SyncTargets (for heartbeats) and, lazily, each kind of workload
the SyncStatus objects name that has a `status` subresource (discovery says which: a ConfigMap's
PATCH to `/status` could only be answered 404), all in the upstream workspace. The SyncStatus
objects of other kinds are dropped as they arrive. A change marks the workload dirty in a work
queue; the key waits `coalesce_delay` seconds so a burst of N target changes folds into
one write, and the write is a JSON merge patch on `/status` sent only when the result differs
from what the upstream shows. The rules themselves are the pure `aggregate` in `rules.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from pytest_syncer.contract.errors import TransformError
from pytest_syncer.contract.heartbeat import last_heartbeat
from pytest_syncer.contract.naming import (
    CLUSTER_ANNOTATION,
    PLACEMENT_LABEL_PREFIX,
    STATUS_ANNOTATION_PREFIX,
    sync_target_key,
)
from pytest_syncer.contract.objects import KubeObject, SyncPhase, SyncStatusRecord
from pytest_syncer.kubeclient.client import (
    CONTROLLED_WORKLOADS,
    REQUEST_ERRORS,
    SYNC_STATUSES,
    SYNC_TARGETS,
    ApiError,
    KubeClient,
    Resource,
)
from pytest_syncer.kubeclient.controller import QueueController
from pytest_syncer.kubeclient.reflector import Change, Reflector
from pytest_syncer.status.conditions import rfc3339, stamp_transitions
from pytest_syncer.status.merge_patch import merge_patch_between
from pytest_syncer.status.rules import SYNC_TARGETS_READY, TargetStatus, aggregate

log = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_THRESHOLD = 60.0
DEFAULT_COALESCE_DELAY = 0.05

Clock = Callable[[], float]

WORKLOAD_RESOURCES = (*CONTROLLED_WORKLOADS, Resource("", "v1", "services", "Service"))
"""Watched from the start, so a workload whose statuses only sit in kcp's annotations (no
SyncStatus yet names its kind) is aggregated too; other kinds join when a SyncStatus names them."""


@dataclass(frozen=True)
class WorkloadKey:
    """One upstream workload: its resource and where it lives."""

    resource: Resource
    namespace: str
    name: str


def heartbeat_is_stale(sync_target: KubeObject | None, now: float, threshold: float) -> bool:
    """No SyncTarget, no heartbeat yet, or one older than `threshold` seconds: stale."""
    if sync_target is None:
        return True
    beat = last_heartbeat(sync_target)
    return beat is None or now - beat > threshold


def placed_target_keys(workload: KubeObject) -> set[str]:
    """Keys of the targets a workload is placed on (label `state.workload.kcp.io/<key>: Sync`)."""
    labels = workload.get("metadata", {}).get("labels") or {}
    return {
        label[len(PLACEMENT_LABEL_PREFIX) :]
        for label, value in labels.items()
        if label.startswith(PLACEMENT_LABEL_PREFIX) and value == "Sync"
    }


def is_aggregated(workload: KubeObject, has_records: bool) -> bool:
    """Whether the aggregator owns this workload's status.

    It does while the workload is placed (`Sync`) on a target, while any target still keeps a
    SyncStatus for it, and once it wrote the status (so leaving the last target shows). Objects
    only pending or `Upsync` are left alone: their status is not ours to fold.
    """
    if placed_target_keys(workload) or has_records:
        return True
    conditions = (workload.get("status") or {}).get("conditions") or ()
    return any(
        isinstance(condition, Mapping) and condition.get("type") == SYNC_TARGETS_READY
        for condition in conditions
    )


def annotated_status(workload: KubeObject, key: str) -> dict[str, Any] | None:
    """A target's status from kcp's `experimental.status.workload.kcp.io/<key>` annotation."""
    annotations = workload.get("metadata", {}).get("annotations") or {}
    text = annotations.get(STATUS_ANNOTATION_PREFIX + key)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def target_status(
    record: SyncStatusRecord | None,
    *,
    stale: bool,
    annotated: Mapping[str, Any] | None = None,
) -> TargetStatus:
    """What the rules need from one target's SyncStatus, or from its absence.

    `annotated` is the target's status from kcp's annotation (`--status-mode annotation`):
    used when the SyncStatus carries no downstream status, so both modes aggregate.
    """
    status = record.downstream_status if record is not None else None
    if status is None:
        status = annotated
    if record is not None:
        phase = record.phase
    else:
        phase = SyncPhase.SYNCED if annotated is not None else SyncPhase.PENDING
    observed = (status or {}).get("observedGeneration")
    if isinstance(observed, bool) or not isinstance(observed, int):
        observed = None
    return TargetStatus(status=status, observed_generation=observed, phase=phase, stale=stale)


@dataclass
class AggregatorStats:
    """What the aggregator did; served at `GET /aggregator/stats` for benchmarks and tests."""

    writes: int = 0
    patches: int = 0
    """Status PATCHes sent, answered or not (`writes` counts those that changed the object)."""
    reconciles: int = 0
    errors: int = 0
    workloads: int = 0
    without_status: list[str] = field(default_factory=list)
    """Resources (`configmaps`) whose SyncStatus objects are ignored: no `status` subresource."""

    def to_json(self) -> dict[str, Any]:
        return {
            "writes": self.writes,
            "patches": self.patches,
            "reconciles": self.reconciles,
            "errors": self.errors,
            "workloads": self.workloads,
            "without_status": self.without_status,
        }


class StatusAggregator:
    """A hub component (add_routes/start/close) that keeps upstream statuses aggregated."""

    def __init__(
        self,
        upstream_kubeconfig: Path,
        *,
        heartbeat_threshold: float = DEFAULT_HEARTBEAT_THRESHOLD,
        coalesce_delay: float = DEFAULT_COALESCE_DELAY,
        workers: int = 4,
        clock: Clock = time.time,
    ) -> None:
        self._kubeconfig = upstream_kubeconfig
        self.heartbeat_threshold = heartbeat_threshold
        self.coalesce_delay = coalesce_delay
        self._workers = workers
        self._clock = clock
        self.stats = AggregatorStats()
        self._client: KubeClient | None = None
        self._cluster = ""
        self._targets: Reflector | None = None
        self._statuses: Reflector | None = None
        self._workloads: dict[Resource, Reflector] = {}
        self._has_status: dict[Resource, bool | None] = {}
        """Per workload resource: whether it has a status subresource; None while discovery asks."""
        self._without_status: set[tuple[str, str]] = set()
        """(apiVersion, resource) of the kinds without one, as a SyncStatus names them."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._records: dict[WorkloadKey, dict[str, SyncStatusRecord]] = {}
        self._record_keys: dict[tuple[str, str], tuple[WorkloadKey, str]] = {}
        self._by_target: dict[str, set[WorkloadKey]] = {}
        self._stale: dict[str, bool] = {}
        self._names: dict[str, str] = {}
        self._written: dict[WorkloadKey, KubeObject] = {}
        self._controller: QueueController[WorkloadKey] | None = None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/aggregator/stats", self._serve_stats)

    async def _serve_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.to_json())

    async def start(self) -> None:
        self._client = await KubeClient.from_kubeconfig(self._kubeconfig)
        self._cluster = self._client.logical_cluster or ""
        self._controller = QueueController(
            self._reconcile,
            name="aggregator worker",
            workers=self._workers,
            retry_on=(Exception,),
            on_retry=self._failed,
        )
        self._targets = Reflector(self._client, SYNC_TARGETS, name="aggregator synctargets")
        self._targets.add_handler(self._on_sync_target)
        self._statuses = Reflector(self._client, SYNC_STATUSES, name="aggregator syncstatuses")
        self._statuses.add_handler(self._on_sync_status)
        await self._targets.start()
        await self._statuses.start()
        for resource in WORKLOAD_RESOURCES:
            self._has_status[resource] = True
            await self._watch_workloads(resource)
        self._controller.start()
        self._controller.spawn(self._watch_heartbeats(), "heartbeats")
        log.info(
            "status aggregator watching %s (heartbeat threshold %.0fs)",
            self._cluster or self._client.server,
            self.heartbeat_threshold,
        )

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Until the SyncTarget and SyncStatus caches hold the server's view."""
        assert self._targets is not None
        assert self._statuses is not None
        await self._targets.wait_synced(timeout)
        await self._statuses.wait_synced(timeout)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._controller is not None:
            await self._controller.close()
        for reflector in [*self._workloads.values(), self._statuses, self._targets]:
            if reflector is not None:
                await reflector.stop()
        self._workloads.clear()
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _enqueue(self, key: WorkloadKey) -> None:
        if self._controller is not None:
            self._controller.enqueue(key, self.coalesce_delay)

    def _on_sync_target(self, change: Change, obj: KubeObject, old: KubeObject | None) -> None:
        name = obj["metadata"]["name"]
        cluster = (obj["metadata"].get("annotations") or {}).get(CLUSTER_ANNOTATION, self._cluster)
        key = sync_target_key(cluster, name)
        self._names[key] = name
        stale = change is Change.DELETED or heartbeat_is_stale(
            obj, self._clock(), self.heartbeat_threshold
        )
        self._set_stale(key, stale)

    def _set_stale(self, key: str, stale: bool) -> None:
        if self._stale.get(key) == stale:
            return
        self._stale[key] = stale
        if stale:
            log.info("target=%s heartbeat stale", self._names.get(key, key))
        for workload in self._by_target.get(key, ()):
            self._enqueue(workload)

    async def _watch_heartbeats(self) -> None:
        """Heartbeats go stale with time alone, so look again a few times per threshold."""
        period = max(0.05, min(self.heartbeat_threshold / 4, 5.0))
        while True:
            await asyncio.sleep(period)
            assert self._targets is not None
            now = self._clock()
            for obj in self._targets.objects():
                name = obj["metadata"]["name"]
                annotations = obj["metadata"].get("annotations") or {}
                key = sync_target_key(annotations.get(CLUSTER_ANNOTATION, self._cluster), name)
                self._set_stale(key, heartbeat_is_stale(obj, now, self.heartbeat_threshold))

    def _on_sync_status(self, change: Change, obj: KubeObject, old: KubeObject | None) -> None:
        object_key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        previous = self._record_keys.pop(object_key, None)
        if previous is not None:
            workload, target = previous
            self._records.get(workload, {}).pop(target, None)
            self._enqueue(workload)
        if change is Change.DELETED or self._names_kind_without_status(obj):
            return
        try:
            record = SyncStatusRecord.from_object(obj)
        except TransformError as error:
            log.warning("ignoring SyncStatus %s/%s: %s", *object_key, error)
            return
        resource = Resource.referred_to(record.workload)
        workload = WorkloadKey(resource, object_key[0], record.workload.name)
        self._records.setdefault(workload, {})[record.target_key] = record
        self._record_keys[object_key] = (workload, record.target_key)
        self._by_target.setdefault(record.target_key, set()).add(workload)
        self._names.setdefault(record.target_key, record.target_name)
        self._ensure_workload_reflector(resource)
        self._enqueue(workload)

    def _names_kind_without_status(self, obj: KubeObject) -> bool:
        """Whether a SyncStatus is about a kind without status: checked before parsing it whole,
        since every target's SyncStatus of every such workload passes here."""
        workload = (obj.get("spec") or {}).get("workload") or {}
        return (workload.get("apiVersion"), workload.get("resource")) in self._without_status

    def _ensure_workload_reflector(self, resource: Resource) -> None:
        """Watch `resource` once discovery says it has a status subresource (a task: this runs
        inside a watch handler); until then its workloads are not reconciled, and the watch's
        first list enqueues them all."""
        if resource in self._has_status or self._client is None:
            return
        self._has_status[resource] = None
        task = asyncio.get_running_loop().create_task(self._discover_and_watch(resource))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _discover_and_watch(self, resource: Resource) -> None:
        has_status = await self._serves_status(resource)
        self._has_status[resource] = has_status
        if has_status:
            await self._watch_workloads(resource)
            return
        log.info("%s has no status subresource: not aggregated", resource.qualified_name)
        self.stats.without_status.append(resource.qualified_name)
        self._without_status.add((resource.api_version, resource.resource))
        for object_key, (workload, _) in list(self._record_keys.items()):
            if workload.resource == resource:
                del self._record_keys[object_key]
                self._forget(workload)

    def _forget(self, workload: WorkloadKey) -> None:
        """Drop what is kept about a workload that is gone (or not aggregated)."""
        self._records.pop(workload, None)
        self._written.pop(workload, None)
        for workloads in self._by_target.values():
            workloads.discard(workload)

    async def _serves_status(self, resource: Resource) -> bool:
        """Whether the upstream's discovery lists `<resource>/status`. When discovery fails the
        answer is yes: a needless PATCH costs a 404, a missed status costs correctness."""
        assert self._client is not None
        group_version = resource.path().rpartition("/")[0]
        try:
            listing = await self._client.request("GET", group_version)
        except REQUEST_ERRORS as error:
            log.warning("discovery of %s failed (%s)", resource.qualified_name, error)
            return True
        served = {entry.get("name") for entry in listing.get("resources") or ()}
        return f"{resource.resource}/status" in served

    async def _watch_workloads(self, resource: Resource) -> None:
        if self._client is None:
            return
        reflector = Reflector(self._client, resource, name=f"aggregator {resource.qualified_name}")
        reflector.add_handler(self._workload_handler(resource))
        self._workloads[resource] = reflector
        await reflector.start()

    def _workload_handler(
        self, resource: Resource
    ) -> Callable[[Change, KubeObject, KubeObject | None], None]:
        def handle(change: Change, obj: KubeObject, old: KubeObject | None) -> None:
            metadata = obj["metadata"]
            key = WorkloadKey(resource, metadata.get("namespace", ""), metadata["name"])
            if change is Change.DELETED:
                self._enqueue(key)
                return
            for target in placed_target_keys(obj) | placed_target_keys(old or {}):
                self._by_target.setdefault(target, set()).add(key)
            self._enqueue(key)

        return handle

    def aggregate(
        self, workload: KubeObject, records: Sequence[SyncStatusRecord]
    ) -> dict[str, Any]:
        """The workload's `.status` from its targets' records and what the caches know now.

        Only targets the workload is placed on count; their staleness comes from the heartbeat
        cache; transition times are stamped against the workload's current conditions. This is
        `interfaces.StatusAggregator`.
        """
        uid = workload["metadata"].get("uid", "")
        by_key = {
            record.target_key: record
            for record in records
            if not uid or not record.workload.uid or record.workload.uid == uid
        }
        kind = str(workload.get("kind") or next((r.workload.kind for r in records), ""))
        per_target: dict[str, TargetStatus] = {}
        for target in placed_target_keys(workload):
            record = by_key.get(target)
            name = record.target_name if record else self._names.get(target, target)
            per_target[name] = target_status(
                record,
                stale=self._stale.get(target, True),
                annotated=annotated_status(workload, target),
            )
        current = workload.get("status") or {}
        previous = current.get("observedGeneration")
        status = aggregate(
            kind,
            per_target,
            generation=workload["metadata"].get("generation"),
            previous_observed_generation=previous if isinstance(previous, int) else None,
        )
        status["conditions"] = stamp_transitions(
            status["conditions"], current.get("conditions") or [], rfc3339(self._clock())
        )
        return status

    def _failed(self, key: WorkloadKey, error: Exception, delay: float) -> None:
        self.stats.errors += 1
        log.warning(
            "status of %s %s/%s not written (%s); retrying in %.2fs",
            key.resource.kind,
            key.namespace,
            key.name,
            error,
            delay,
        )

    async def _reconcile(self, key: WorkloadKey) -> None:
        reflector = self._workloads.get(key.resource)
        if reflector is None or self._client is None:
            return
        # Until every cache holds the server's view, a target would look stale or unreported
        # and the first write would be wrong.
        for cache in (self._targets, self._statuses, reflector):
            if cache is not None and not cache.synced.is_set():
                await cache.wait_synced(timeout=30.0)
        cached = reflector.get(key.namespace, key.name)
        if cached is None:
            # Records without a cached workload may be ahead of the workload's own watch
            # event; once its SyncStatus objects are deleted too, it is gone.
            if not self._records.get(key):
                self._forget(key)
            return
        workload = newest(cached, self._written.get(key))
        if not is_aggregated(workload, bool(self._records.get(key))):
            return
        self.stats.reconciles += 1
        desired = self.aggregate(
            {**workload, "kind": key.resource.kind}, list(self._records.get(key, {}).values())
        )
        patch = merge_patch_between(workload.get("status"), desired)
        if not patch:
            return
        self.stats.patches += 1
        try:
            written = await self._client.patch(
                key.resource, key.name, {"status": patch}, key.namespace, subresource="status"
            )
        except ApiError as error:
            if error.not_found:
                return
            raise
        self._written[key] = written
        if _version(written) != _version(workload):
            self.stats.writes += 1
        self.stats.workloads = len(self._records)
        log.debug("wrote status of %s %s/%s", key.resource.kind, key.namespace, key.name)


def _version(obj: KubeObject) -> int:
    try:
        return int(obj["metadata"]["resourceVersion"])
    except (KeyError, TypeError, ValueError):
        return -1


def newest(cached: KubeObject, written: KubeObject | None) -> KubeObject:
    """The newer of the watch cache's object and our own last write of it.

    Watch events trail our writes, and an event for an older write can land after a newer
    write's answer: diffing against that older object would send the same patch again and
    restamp condition times.
    """
    if written is None or _version(written) <= _version(cached):
        return cached
    return written
