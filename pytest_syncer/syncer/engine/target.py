"""One sync target's engine: its informers, its work queue and workers, and its loops.

Informers: per synced resource, the upstream objects placed on this target (label
`state.workload.kcp.io/<key>` exists; the process's shared upstream informers dispatch them)
and the copies below (label `internal.workload.kcp.io/cluster=<key>`); this target's
namespaces below; and its SyncStatus objects above, its view of the process's one SyncStatus
informer (selected to the process's targets, indexed by target key). Every event becomes an
upstream key in the work queue, so a change below (drift, a deleted copy) is reconciled like a
change above.
Beside them: the heartbeat, the resync, the clean-up of empty namespaces, the status collector.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterator
from typing import Any

from pytest_syncer.contract.errors import TransformError
from pytest_syncer.contract.naming import (
    CLUSTER_LABEL,
    placement_label,
    sync_target_key,
)
from pytest_syncer.contract.objects import KubeObject, SyncStatusRecord, SyncTarget
from pytest_syncer.kubeclient.client import (
    NAMESPACES,
    REQUEST_ERRORS,
    SYNC_TARGETS,
    ApiError,
    KubeClient,
    Resource,
)
from pytest_syncer.kubeclient.reflector import Change, Handler, Reflector
from pytest_syncer.kubeclient.workqueue import WorkQueue
from pytest_syncer.process.lifetime import Lifetime
from pytest_syncer.syncer.engine.events import EventRecorder
from pytest_syncer.syncer.engine.heartbeat import beat_forever
from pytest_syncer.syncer.engine.keys import WorkKey
from pytest_syncer.syncer.engine.namespaces import DownstreamNamespaces, NamespaceNotReady
from pytest_syncer.syncer.engine.reporter import StatusReporter
from pytest_syncer.syncer.engine.settings import KNOWN_RESOURCES, EngineSettings
from pytest_syncer.syncer.engine.spec import SpecSyncer, SyncedResource, changes_what_syncs
from pytest_syncer.syncer.engine.status_collector import StatusCollector
from pytest_syncer.syncer.engine.syncstatus import SyncStatusWriter
from pytest_syncer.syncer.engine.targetlog import TargetLog
from pytest_syncer.syncer.engine.tasks import ForeverTasks
from pytest_syncer.syncer.engine.upstream import UID_INDEX, SharedUpstream, carries
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.renames import upstream_name

logger = logging.getLogger(__name__)

SYNC_TARGET_POLL_SECONDS = 1.0
INFORMER_SYNC_TIMEOUT = 30.0
RETRYABLE = (*REQUEST_ERRORS, NamespaceNotReady)


async def resolve_resources(client: KubeClient, names: tuple[str, ...]) -> list[Resource]:
    """Built-in kinds from the table, the rest (custom resources) from upstream discovery.

    Only namespaced resources sync: a cluster-scoped one is named in the log once and left out.
    """
    resolved = [KNOWN_RESOURCES.get(name) or await client.discover(name) for name in names]
    for resource in resolved:
        if not resource.namespaced:
            logger.warning(
                "%s is cluster-scoped; only namespaced resources sync, ignoring it",
                resource.qualified_name,
            )
    return [resource for resource in resolved if resource.namespaced]


async def wait_for_sync_target(client: KubeClient, name: str, log: TargetLog) -> KubeObject:
    """The SyncTarget object; its uid goes into every locator, so nothing starts without it.
    A server too busy to answer (a timeout, a refused connection, a 5xx or 429: 1000 targets
    starting at once) is asked again, not taken as the end of the target."""
    told = False
    while True:
        try:
            found = await client.get_or_none(SYNC_TARGETS, name)
        except REQUEST_ERRORS as error:
            if isinstance(error, ApiError) and error.status < 500 and error.status != 429:
                raise
            log.warning("SyncTarget %s not read (%s); asking again", name, _described(error))
            await asyncio.sleep(SYNC_TARGET_POLL_SECONDS)
            continue
        if found is not None:
            return found
        if not told:
            log.warning(
                "SyncTarget %s does not exist upstream (%s); waiting for it", name, client.server
            )
            told = True
        await asyncio.sleep(SYNC_TARGET_POLL_SECONDS)


def _described(error: BaseException) -> str:
    return str(error) or type(error).__name__


class TargetSyncer(Lifetime, start="_begin", stop="close"):
    """Start with `async with`; `ready` is set once every informer has synced."""

    def __init__(
        self,
        upstream: KubeClient,
        downstream: KubeClient,
        target_name: str,
        upstream_cluster: str,
        shared: SharedUpstream,
        settings: EngineSettings,
    ) -> None:
        self.upstream = upstream
        self.downstream = downstream
        self.target_name = target_name
        self.upstream_cluster = upstream_cluster
        self.settings = settings
        self.log = TargetLog(logger, target_name)
        self.ready = asyncio.Event()
        self.sync_target: SyncTarget | None = None
        self.reconciles = 0
        self._shared = shared
        self._resource_list = [r.resource for r in shared.reflectors.values()]
        self._label = placement_label(sync_target_key(upstream_cluster, target_name))
        for resource in self._resource_list:
            shared.subscribe(
                resource,
                sync_target_key(upstream_cluster, target_name),
                self._upstream_handler(resource),
                changes_what_syncs,
            )
        self._woken: set[tuple[str, str]] = set()
        shared.on_last_status(
            sync_target_key(upstream_cluster, target_name), self._last_status_gone
        )
        self._queue: WorkQueue[WorkKey] = WorkQueue()
        self._starting: asyncio.Task[None] | None = None
        self._loops = ForeverTasks(self.log)
        self._reflectors: list[Reflector] = []
        self._collector: StatusCollector | None = None
        self._spec: SpecSyncer | None = None
        self._namespaces: DownstreamNamespaces | None = None
        self._reporter: StatusReporter | None = None

    @property
    def key(self) -> str:
        if self.sync_target is None:
            raise RuntimeError("the syncer has not found its SyncTarget yet")
        return self.sync_target.key

    def _begin(self) -> None:
        self._starting = asyncio.create_task(self._run(), name=f"target {self.target_name}")

    async def wait_ready(self, timeout: float | None = None) -> None:
        waiter = asyncio.create_task(self.ready.wait())
        assert self._starting is not None, "start the syncer with `async with` first"
        # The first to end: a start that failed is raised now, not when the timeout ends.
        done, _ = await asyncio.wait(
            [waiter, self._starting], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if not waiter.done():
            waiter.cancel()
        for task in done:
            task.result()
        if not self.ready.is_set():
            raise TimeoutError(f"target {self.target_name} did not get ready in {timeout}s")

    async def close(self) -> None:
        """Stop the loops first (so none of them ends unasked), then the queues and caches;
        the error of a loop that died, or of a start that failed, is raised after."""
        starting = [self._starting] if self._starting is not None else []
        for task in starting:
            task.cancel()
        started = await asyncio.gather(*starting, return_exceptions=True)
        try:
            await self._loops.close()
        finally:
            self._queue.shut_down()
            if self._reporter is not None:
                self._reporter.close()
            if self._collector is not None:
                await self._collector.close()
            for reflector in self._reflectors:
                await reflector.stop()
        self.log.info("stopped")
        for result in started:
            if isinstance(result, Exception):
                raise result

    def _reflector(
        self, client: KubeClient, resource: Resource, selector: str, side: str
    ) -> Reflector:
        reflector = Reflector(
            client,
            resource,
            label_selector=selector,
            name=f"target={self.target_name} {side} {resource.qualified_name}",
        )
        self._reflectors.append(reflector)
        return reflector

    async def _run(self) -> None:
        found = await wait_for_sync_target(self.upstream, self.target_name, self.log)
        target = SyncTarget(self.target_name, self.upstream_cluster, found["metadata"]["uid"])
        self.sync_target = target
        context = TransformContext(target)
        own = f"{CLUSTER_LABEL}={target.key}"
        namespace_cache = self._reflector(self.downstream, NAMESPACES, own, "downstream")
        status_cache = self._shared.target_statuses(target.key)
        synced: dict[str, SyncedResource] = {}
        for resource in self._resource_list:
            up = self._shared.reflectors[resource.qualified_name]
            down = self._reflector(self.downstream, resource, own, "downstream")
            down.add_handler(self._downstream_handler(resource))
            synced[resource.qualified_name] = SyncedResource(resource, up, down)
        self._namespaces = DownstreamNamespaces(self.downstream, namespace_cache, context, self.log)
        statuses = SyncStatusWriter(self.upstream, status_cache, target, self._shared, self._woken)
        self._reporter = StatusReporter(statuses, EventRecorder(self.upstream, self.log), self.log)
        self._spec = SpecSyncer(
            upstream=self.upstream,
            downstream=self.downstream,
            resources=synced,
            context=context,
            namespaces=self._namespaces,
            statuses=statuses,
            reporter=self._reporter,
            finalizers=self._shared.finalizers,
            settings=self.settings,
            log=self.log,
        )
        for reflector in self._reflectors:
            await reflector.start()
        await self._wait_for_informers()
        self._enqueue_unplaced_statuses()
        self._collector = StatusCollector(
            target,
            self.upstream,
            self.downstream,
            self._resource_list,
            mode=self.settings.status_mode,
            downstream_reflectors={s.resource: s.downstream for s in synced.values()},
            namespaces=namespace_cache,
            sync_statuses=status_cache,
        )
        await self._collector.start()
        for index in range(self.settings.workers):
            self._spawn(self._work(), f"worker {index}")
        self._spawn(
            beat_forever(
                self.upstream, self.target_name, self.settings.heartbeat_interval, self.log
            ),
            "heartbeat",
        )
        self._spawn(self._reporter.run(), "status reporter")
        self._spawn(self._resync_forever(), "resync")
        self._spawn(
            self._namespaces.clean_up_forever(
                self.settings.namespace_cleanup_delay, self._occupied_namespaces
            ),
            "namespace clean-up",
        )
        self.log.info(
            "ready: key %s, %d resources, upstream cluster %s",
            target.key,
            len(synced),
            self.upstream_cluster,
        )
        self.ready.set()

    async def _wait_for_informers(self) -> None:
        """Wait for every informer; one whose resource the server does not serve (404) does
        not block, and one that stays broken blocks for INFORMER_SYNC_TIMEOUT at most."""
        reflectors = [*self._reflectors, *self._shared.reflectors.values(), self._shared.statuses]
        waits = [r.wait_listed_or_unserved(INFORMER_SYNC_TIMEOUT) for r in reflectors]
        results = await asyncio.gather(*waits, return_exceptions=True)
        for reflector, result in zip(reflectors, results, strict=True):
            if isinstance(result, BaseException):
                self.log.warning(
                    "%s has not synced (%s); its objects fail until it does",
                    reflector.name,
                    reflector.last_error or type(result).__name__,
                )

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        self._loops.spawn(coroutine, f"target={self.target_name} {name}")

    def _upstream_handler(self, resource: Resource) -> Handler:
        def handle(change: Change, obj: KubeObject, old: KubeObject | None) -> None:
            metadata = obj["metadata"]
            if "namespace" not in metadata:
                return
            key = WorkKey(resource.qualified_name, metadata["namespace"], metadata["name"])
            spec = self._spec
            if change is Change.DELETED and spec is not None and spec.removed_already(key):
                return
            self._queue.add(key)

        return handle

    def _last_status_gone(self, namespace: str, uid: str, status: KubeObject) -> None:
        """This target's SyncStatus was a workload's last: reconcile it as the last one out,
        which releases the shared finalizer. The SyncStatus names its workload: a process that
        selects by placement label does not cache a workload unplaced here; only one that names
        none is looked for by uid in the cache."""
        self._woken.add((namespace, uid))
        key = self._status_workload(status)
        if key is not None:
            self._queue.add(key)
            return
        for resource in self._resource_list:
            reflector = self._shared.reflectors[resource.qualified_name]
            for obj in reflector.by_index(UID_INDEX, uid):
                if obj["metadata"].get("namespace") == namespace:
                    self._queue.add(
                        WorkKey(resource.qualified_name, namespace, obj["metadata"]["name"])
                    )

    def _status_workload(self, status: KubeObject) -> WorkKey | None:
        """The work key of a SyncStatus's workload (the contract's reading of it), when it is
        a readable SyncStatus of a resource synced here."""
        try:
            workload = SyncStatusRecord.from_object(status).workload
        except TransformError:
            return None
        qualified_name = Resource.referred_to(workload).qualified_name
        if qualified_name not in self._shared.reflectors:
            return None
        return WorkKey(qualified_name, workload.namespace or "", workload.name)

    def _downstream_handler(self, resource: Resource) -> Handler:
        """A change below enqueues its upstream key, unless it is the echo of our own write."""

        def handle(change: Change, obj: KubeObject, old: KubeObject | None) -> None:
            spec = self._spec
            if spec is not None and spec.observed_below(resource, change, obj):
                return
            self._enqueue_copy(resource, obj)

        return handle

    def _enqueue_copy(self, resource: Resource, obj: KubeObject) -> None:
        """Enqueue the upstream key of a copy below (found through its namespace's locator)."""
        metadata = obj["metadata"]
        if self._namespaces is None or "namespace" not in metadata:
            return
        try:
            locator = self._namespaces.locator_of(metadata["namespace"])
        except TransformError:
            locator = None
        if locator is None:
            self.log.warning(
                "copy %s/%s is in a namespace without this target's locator; ignored",
                metadata["namespace"],
                metadata["name"],
            )
            return
        name = upstream_name(resource.kind, metadata["name"])
        self._queue.add(WorkKey(resource.qualified_name, locator.namespace, name))

    def _occupied_namespaces(self) -> Iterator[str]:
        """Namespaces below that hold a copy, or that a placed upstream object will need.

        Asked twice a second per target, over every cached object: each upstream namespace
        is mapped to its namespace below once, not once per object (a hash each time)."""
        assert self._spec is not None
        assert self.sync_target is not None
        upstream_namespaces: set[str] = set()
        for synced in self._spec.resources.values():
            for namespace, _ in synced.downstream.cache:
                yield namespace
            upstream_namespaces.update(
                obj["metadata"].get("namespace", "")
                for obj in synced.upstream.cache.values()
                if carries(obj, self._label)
            )
        context = TransformContext(self.sync_target)
        for namespace in upstream_namespaces:
            yield context.locator(namespace).downstream_namespace

    def enqueue_all(self) -> None:
        assert self._spec is not None
        for name, synced in self._spec.resources.items():
            for obj in synced.upstream.objects():
                if carries(obj, self._label):
                    metadata = obj["metadata"]
                    self._queue.add(WorkKey(name, metadata.get("namespace", ""), metadata["name"]))
            for obj in synced.downstream.objects():
                self._enqueue_copy(synced.resource, obj)
        self._enqueue_unplaced_statuses()

    def _enqueue_unplaced_statuses(self) -> None:
        """Enqueue the workload of each SyncStatus of this target that the upstream cache does
        not show placed here. A syncer stopped after writing a SyncStatus and before the copy
        below, while its workload was unplaced or deleted, finds no placed object and no copy
        when it starts again: nothing else would bring that workload back to this target, and
        its SyncStatus would hold the shared finalizer for good. The reconcile removes it."""
        if self.sync_target is None:
            return
        for status in self._shared.target_statuses(self.sync_target.key).objects():
            key = self._status_workload(status)
            if key is None:
                continue
            cached = self._shared.reflectors[key.resource].get(key.namespace, key.name)
            if cached is None or not carries(cached, self._label):
                self._queue.add(key)

    async def _resync_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.resync_period)
            self.enqueue_all()
            self.log.debug("resync: every placed object and every copy below queued")

    async def _work(self) -> None:
        await self._queue.serve(self._reconcile, self._failed)

    async def _reconcile(self, key: WorkKey) -> float | None:
        assert self._spec is not None
        self.reconciles += 1
        return await self._spec.reconcile(key)

    def _failed(self, key: WorkKey, error: Exception, delay: float) -> None:
        if isinstance(error, RETRYABLE):
            self.log.warning("%s: %s; retrying in %.2fs", key, error, delay)
        else:
            self.log.error("%s: reconcile failed; retrying in %.2fs", key, delay, exc_info=error)
