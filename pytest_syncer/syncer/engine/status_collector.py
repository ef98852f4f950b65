"""The status collector: one target's downstream statuses, turned upstream, into its SyncStatus.

It runs in the syncer beside the engine, one per target. The engine owns a SyncStatus's phase,
conditions and applied generation; the collector owns `status.downstreamStatus` alone and writes
it as a JSON merge patch on `/status` (never read-modify-write), after a short coalescing delay
and only when it changed. With `--status-mode annotation` it writes kcp's
`experimental.status.workload.kcp.io/<key>` annotation on the upstream object instead.

Generations differ above and below: the engine stamps every downstream write with the upstream
generation it carries (`internal.workload.kcp.io/upstream-generation`), and once the downstream
controller has observed its own `metadata.generation`, the collected `observedGeneration` becomes
that upstream generation. Until then it keeps the last one reached.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_syncer.contract.errors import TransformError
from pytest_syncer.contract.naming import (
    CLUSTER_LABEL,
    LOCATOR_ANNOTATION,
    PLACEMENT_LABEL_PREFIX,
    STATUS_ANNOTATION_PREFIX,
    SYNC_TARGET_KEY_LABEL,
)
from pytest_syncer.contract.objects import KubeObject, NamespaceLocator, SyncTarget
from pytest_syncer.kubeclient.client import (
    JSON_PATCH,
    MERGE_PATCH,
    NAMESPACES,
    SYNC_STATUSES,
    ApiError,
    KubeClient,
    Resource,
)
from pytest_syncer.kubeclient.controller import QueueController
from pytest_syncer.kubeclient.reflector import Cache, Change, Handler, Reflector
from pytest_syncer.status.merge_patch import merge_patch_between
from pytest_syncer.syncer.engine.settings import StatusMode
from pytest_syncer.syncer.engine.spec import UPSTREAM_GENERATION_ANNOTATION
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.status import status_to_upstream

log = logging.getLogger(__name__)

DEFAULT_COALESCE_DELAY = 0.05

STATUSLESS_KINDS = frozenset({("", "ConfigMap"), ("", "Secret")})
"""Kinds with no status: every other kind's downstream status goes up, a custom resource's too
(the aggregator keeps those per target)."""


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def upstream_observed_generation(downstream: KubeObject, last_reached: int | None) -> int | None:
    """The upstream generation the downstream controller has observed.

    That is the generation the engine stamped on the copy, once the controller's
    `status.observedGeneration` has reached the copy's own `metadata.generation`; before that,
    the last one reached (a rollout in progress does not make the status older).
    """
    metadata = downstream.get("metadata") or {}
    stamped = _int((metadata.get("annotations") or {}).get(UPSTREAM_GENERATION_ANNOTATION))
    own = _int(metadata.get("generation"))
    observed = _int((downstream.get("status") or {}).get("observedGeneration"))
    if stamped is not None and own is not None and observed is not None and observed >= own:
        return stamped if last_reached is None else max(stamped, last_reached)
    return last_reached


def collected_status(
    downstream: KubeObject, context: TransformContext, last_reached: int | None
) -> dict[str, Any] | None:
    """A downstream object's status in upstream form, `observedGeneration` in upstream terms.

    None while the downstream object has no status at all.
    """
    status = downstream.get("status")
    if not isinstance(status, Mapping):
        return None
    collected = status_to_upstream(str(downstream.get("kind", "")), status, context)
    observed = upstream_observed_generation(downstream, last_reached)
    if observed is not None:
        collected["observedGeneration"] = observed
    return collected


def status_annotation(key: str) -> str:
    """kcp's per-target status annotation on the upstream object."""
    return STATUS_ANNOTATION_PREFIX + key


@dataclass(frozen=True)
class CollectKey:
    """One downstream copy."""

    resource: Resource
    namespace: str
    name: str


class StatusCollector:
    """Collects one target's statuses; `start` and `close` bracket its life in the syncer.

    The reflectors may be the engine's own (the copies below, this target's namespaces below,
    its view of the process's SyncStatus objects above): the collector adds its handlers and
    replays what they already hold. Whatever is not passed in, the collector watches itself.
    """

    def __init__(
        self,
        target: SyncTarget,
        upstream: KubeClient,
        downstream: KubeClient,
        resources: Sequence[Resource],
        *,
        mode: StatusMode = StatusMode.SYNCSTATUS,
        coalesce_delay: float = DEFAULT_COALESCE_DELAY,
        downstream_reflectors: Mapping[Resource, Reflector] | None = None,
        namespaces: Reflector | None = None,
        sync_statuses: Cache | None = None,
        workers: int = 2,
    ) -> None:
        self.target = target
        self.mode = mode
        self.coalesce_delay = coalesce_delay
        self.writes = 0
        self._upstream = upstream
        self._downstream = downstream
        self._resources = [r for r in resources if (r.group, r.kind) not in STATUSLESS_KINDS]
        self._shared = dict(downstream_reflectors or {})
        self._shared_namespaces = namespaces
        self._shared_statuses = sync_statuses
        self._replays: list[tuple[Cache, Handler]] = []
        self._owned: list[Reflector] = []
        self._copies: dict[Resource, Reflector] = {}
        self._namespaces: Reflector | None = None
        self._upstream_view: dict[Resource | None, Cache] = {}
        self._workers = workers
        self._controller: QueueController[CollectKey] | None = None
        self._context = TransformContext(target)
        self._status_index: dict[tuple[str, str, str], str] = {}
        self._written: dict[tuple[str, str], tuple[str, Mapping[str, Any]]] = {}
        """(namespace, SyncStatus name) -> its uid and the `downstreamStatus` this collector last
        wrote there. The collector is that field's only writer, so its last write is the field
        as it is, even while the SyncStatus informer has not caught up: a patch computed from a
        stale cache would not null a counter that went away (a zero counter is omitted) and
        would leave it behind for good."""

    @property
    def _selector(self) -> str:
        return f"{CLUSTER_LABEL}={self.target.key}"

    def _own(self, reflector: Reflector) -> Reflector:
        self._owned.append(reflector)
        return reflector

    def _attach(self, reflector: Cache, handler: Handler) -> None:
        """Handle a reflector's events; a shared one's current objects are replayed at start."""
        reflector.add_handler(handler)
        if reflector not in self._owned:
            self._replays.append((reflector, handler))

    async def start(self) -> None:
        name = self.target.name
        self._controller = QueueController(
            self._collect,
            name=f"target={name} status collector",
            workers=self._workers,
            retry_on=(Exception,),
            on_retry=self._failed,
        )
        self._namespaces = self._shared_namespaces or self._own(
            Reflector(
                self._downstream,
                NAMESPACES,
                label_selector=self._selector,
                name=f"target={name} status namespaces",
            )
        )
        self._attach(self._namespaces, self._on_namespace)
        for resource in self._resources:
            reflector = self._shared.get(resource) or self._own(
                Reflector(
                    self._downstream,
                    resource,
                    label_selector=self._selector,
                    name=f"target={name} status {resource.qualified_name}",
                )
            )
            self._copies[resource] = reflector
        if self.mode is StatusMode.SYNCSTATUS:
            statuses = self._shared_statuses or self._own(
                Reflector(
                    self._upstream,
                    SYNC_STATUSES,
                    label_selector=f"{SYNC_TARGET_KEY_LABEL}={self.target.key}",
                    name=f"target={name} syncstatuses",
                )
            )
            self._attach(statuses, self._on_sync_status)
            self._upstream_view[None] = statuses
        else:
            for resource in self._resources:
                upstream = self._own(
                    Reflector(
                        self._upstream,
                        resource,
                        label_selector=f"{PLACEMENT_LABEL_PREFIX}{self.target.key}",
                        name=f"target={name} upstream {resource.qualified_name}",
                    )
                )
                self._attach(upstream, self._upstream_handler(resource))
                self._upstream_view[resource] = upstream
        for resource, reflector in self._copies.items():
            self._attach(reflector, self._copy_handler(resource))
        for shared, handler in self._replays:
            for obj in shared.objects():
                handler(Change.ADDED, obj, None)
        for reflector in self._owned:
            await reflector.start()
        self._controller.start()

    async def wait_synced(self, timeout: float | None = None) -> None:
        for reflector in [*self._owned, *self._copies.values()]:
            await reflector.wait_synced(timeout)

    async def close(self) -> None:
        if self._controller is not None:
            await self._controller.close()
        for reflector in self._owned:
            await reflector.stop()
        self._owned.clear()

    def _enqueue(self, key: CollectKey) -> None:
        if self._controller is not None:
            self._controller.enqueue(key, self.coalesce_delay)

    def _on_namespace(self, change: Change, obj: KubeObject, old: KubeObject | None) -> None:
        namespace = obj["metadata"]["name"]
        text = (obj["metadata"].get("annotations") or {}).get(LOCATOR_ANNOTATION)
        known = dict(self._context.namespace_locators)
        known.pop(namespace, None)
        if change is not Change.DELETED and text:
            try:
                known[namespace] = NamespaceLocator.from_json(text)
            except TransformError as error:
                log.warning("target=%s namespace %s: %s", self.target.name, namespace, error)
        self._context = TransformContext(
            self.target,
            self._context.own_annotations,
            self._context.own_labels,
            known,
        )
        if change is not Change.DELETED:
            for resource, reflector in self._copies.items():
                for copy in reflector.objects():
                    if copy["metadata"].get("namespace") == namespace:
                        self._enqueue(CollectKey(resource, namespace, copy["metadata"]["name"]))

    def _copy_handler(self, resource: Resource) -> Handler:
        def handle(change: Change, obj: KubeObject, old: KubeObject | None) -> None:
            if change is Change.DELETED:
                return
            if old is not None and old.get("status") == obj.get("status"):
                annotations = (obj["metadata"].get("annotations") or {}).get(
                    UPSTREAM_GENERATION_ANNOTATION
                )
                before = (old["metadata"].get("annotations") or {}).get(
                    UPSTREAM_GENERATION_ANNOTATION
                )
                if annotations == before:
                    return
            metadata = obj["metadata"]
            self._enqueue(CollectKey(resource, metadata.get("namespace", ""), metadata["name"]))

        return handle

    def _requeue_upstream(self, kind: str, upstream_namespace: str, name: str) -> None:
        for resource, reflector in self._copies.items():
            if resource.kind != kind:
                continue
            for namespace, locator in self._context.namespace_locators.items():
                if locator.namespace == upstream_namespace and reflector.get(namespace, name):
                    self._enqueue(CollectKey(resource, namespace, name))

    def _on_sync_status(self, change: Change, obj: KubeObject, old: KubeObject | None) -> None:
        workload = (obj.get("spec") or {}).get("workload") or {}
        index_key = (
            obj["metadata"].get("namespace", ""),
            str(workload.get("kind", "")),
            str(workload.get("name", "")),
        )
        if change is Change.DELETED:
            self._status_index.pop(index_key, None)
            self._written.pop((index_key[0], obj["metadata"]["name"]), None)
            return
        self._status_index[index_key] = obj["metadata"]["name"]
        if change is Change.ADDED:
            self._requeue_upstream(index_key[1], index_key[0], index_key[2])

    def _upstream_handler(self, resource: Resource) -> Handler:
        def handle(change: Change, obj: KubeObject, old: KubeObject | None) -> None:
            if change is Change.ADDED:
                metadata = obj["metadata"]
                self._requeue_upstream(
                    resource.kind, metadata.get("namespace", ""), metadata["name"]
                )

        return handle

    def _failed(self, key: CollectKey, error: Exception, delay: float) -> None:
        log.warning(
            "target=%s status of %s %s/%s not written (%s); retrying in %.2fs",
            self.target.name,
            key.resource.kind,
            key.namespace,
            key.name,
            error,
            delay,
        )

    def _sync_status_for(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        status_name = self._status_index.get((namespace, kind, name))
        if status_name is None:
            return None
        return self._upstream_view[None].get(namespace, status_name)

    async def _collect(self, key: CollectKey) -> None:
        copy = self._copies[key.resource].get(key.namespace, key.name)
        locator = self._context.namespace_locators.get(key.namespace)
        if copy is None or locator is None:
            return
        kind = key.resource.kind
        copy = {**copy, "kind": kind}
        if self.mode is StatusMode.SYNCSTATUS:
            await self._write_sync_status(copy, locator.namespace, key.name, kind)
        else:
            await self._write_annotation(copy, locator.namespace, key)

    async def _write_sync_status(
        self, copy: KubeObject, namespace: str, name: str, kind: str
    ) -> None:
        sync_status = self._sync_status_for(kind, namespace, name)
        if sync_status is None:
            return
        metadata = sync_status["metadata"]
        where, uid = (namespace, metadata["name"]), metadata.get("uid", "")
        remembered = self._written.get(where)
        body: Any
        if remembered is not None and remembered[0] == uid:
            current: Mapping[str, Any] = remembered[1]
            collected = collected_status(
                copy, self._context, _int(current.get("observedGeneration"))
            )
            if collected is None:
                return
            patch = merge_patch_between(current, collected)
            if not patch:
                return
            body, content_type = {"status": {"downstreamStatus": patch}}, MERGE_PATCH
        else:
            # No write of our own to diff against: the cache may lag behind what another process
            # serving this target wrote before (a target moved into a process of its own), and a
            # merge patch from a stale base would leave its counters behind. Replace it whole.
            cached = (sync_status.get("status") or {}).get("downstreamStatus")
            last = _int(cached.get("observedGeneration")) if isinstance(cached, Mapping) else None
            collected = collected_status(copy, self._context, last)
            if collected is None:
                return
            body = [{"op": "add", "path": "/status/downstreamStatus", "value": collected}]
            content_type = JSON_PATCH
        try:
            await self._patch_status(sync_status["metadata"]["name"], namespace, body, content_type)
        except ApiError as error:
            if error.not_found:
                return
            if content_type != JSON_PATCH:
                raise
            # No status at all yet, so nothing stale to replace: merge it in.
            body = {"status": {"downstreamStatus": collected}}
            await self._patch_status(sync_status["metadata"]["name"], namespace, body, MERGE_PATCH)
        self._written[where] = (uid, collected)
        self.writes += 1

    async def _patch_status(self, name: str, namespace: str, body: Any, content_type: str) -> None:
        await self._upstream.patch(
            SYNC_STATUSES, name, body, namespace, content_type=content_type, subresource="status"
        )

    async def _write_annotation(self, copy: KubeObject, namespace: str, key: CollectKey) -> None:
        upstream = self._upstream_view[key.resource].get(namespace, key.name)
        if upstream is None:
            return
        annotation = status_annotation(self.target.key)
        text = (upstream["metadata"].get("annotations") or {}).get(annotation)
        try:
            current = json.loads(text) if text else None
        except ValueError:
            current = None
        last = _int((current or {}).get("observedGeneration"))
        collected = collected_status(copy, self._context, last)
        if collected is None or collected == current:
            return
        value = json.dumps(collected, sort_keys=True, separators=(",", ":"))
        try:
            await self._upstream.patch(
                key.resource,
                key.name,
                {"metadata": {"annotations": {annotation: value}}},
                namespace,
            )
        except ApiError as error:
            if error.not_found:
                return
            raise
        self.writes += 1
