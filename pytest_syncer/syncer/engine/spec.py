"""The spec syncer: one reconcile makes the copy below of one upstream object what it should be.

Level-based: whatever event enqueued the key (an upstream change, a change or delete below, a
resync), the reconcile reads both caches and converges. Placed (`Sync`) and alive: the
SyncStatus, then the shared finalizer, then the namespace, then the object through the handler
and the conflict resolver. Not placed, or deleting: the copy below goes (unless the soft
finalizer holds it), then this target's SyncStatus, and the last syncer out removes the
finalizer.

The SyncStatus comes before the finalizer so that the last syncer out can never strip the
finalizer from a workload another target is about to write below. Each process watches only
its own targets' SyncStatus objects (an event reaches one process, not all of them), so the
last one out is decided per process: the target whose SyncStatus the process's cache saw go
last of its targets' (the cache wakes it), or any target when the cache never held one of the
workload's (a process started after they were gone). It lists every process's SyncStatus
objects of the workload to confirm, removes the finalizer only when none is left, and lists
once more after removing it (a target that created its SyncStatus in between gets the
finalizer back, and that target writes the finalizer itself right after creating its
SyncStatus, whatever its cache says). When processes finish at once, each deletes its last
SyncStatus before it lists, so whichever lists last sees none left and releases (both may:
the second removal is a no-op); one whose list still saw another process's is done, as that
process's own last deletion wakes its lister. A wake is kept until its list answered, so a
failed list is retried rather than waiting for a wake that will not come again. Every other
target sends nothing more, so deleting a workload on N targets in P processes costs O(N)
requests and O(P) lists, not a list per target returning O(N) objects each.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from pytest_syncer.contract.errors import TransformError
from pytest_syncer.contract.naming import (
    SOFT_FINALIZER_ANNOTATION_PREFIX,
    STATUS_ANNOTATION_PREFIX,
    placement_label,
)
from pytest_syncer.contract.objects import KubeObject, SyncPhase
from pytest_syncer.kubeclient.client import UNREACHABLE, ApiError, KubeClient, Resource
from pytest_syncer.kubeclient.reflector import Change, Reflector
from pytest_syncer.syncer.conflict import (
    StrategyResolver,
    owner_key,
    resolver_for,
    strategy_for,
)
from pytest_syncer.syncer.engine.allocated import carry_allocated_fields
from pytest_syncer.syncer.engine.finalizer import (
    FinalizerWrites,
    has_finalizer,
    is_deleting,
    remove_finalizer,
)
from pytest_syncer.syncer.engine.keys import WorkKey
from pytest_syncer.syncer.engine.namespaces import DownstreamNamespaces
from pytest_syncer.syncer.engine.reporter import StatusReporter
from pytest_syncer.syncer.engine.settings import EngineSettings
from pytest_syncer.syncer.engine.syncstatus import SyncStatusWriter, Verdict
from pytest_syncer.syncer.engine.targetlog import TargetLog
from pytest_syncer.syncer.engine.upstream import carries
from pytest_syncer.syncer.handlers import handler_for
from pytest_syncer.syncer.interfaces import ConflictAction, TransformContext, WorkloadHandler
from pytest_syncer.syncer.transform.renames import downstream_name

UPSTREAM_GENERATION_ANNOTATION = "internal.workload.kcp.io/upstream-generation"
"""On every copy below: the upstream generation it was written from (read by the collector)."""
SYNC_STATE = "Sync"
WRITE_ATTEMPTS = 5
REFUSED_STATUSES = frozenset({400, 403, 404, 405, 409, 415, 422})
"""Answers from below that mean the target will not take this object as it is."""
IMMUTABLE_MESSAGES = (
    "field is immutable",
    "may not change once set",
    "can not be unset",
    "updates to statefulset spec for fields other than",
    "spec is immutable after creation",
    "pod updates may not",
    "cannot change roleRef",
)
"""How a real API server words a 422 for an update that changes an immutable field (the
messages of ``pkg/apis/*/validation``: ``ValidateImmutableField`` and the per-kind rules); such an
update can only land as a delete and a create, as ``kubectl replace --force`` and kcp's syncer
do it."""

EVENTFUL_REASONS = frozenset({"Recreated", "DriftReverted", "TookOver", "Conflict", "Failed"})
"""Decisions worth an Event: the notable ones. A plain creation or update is on the SyncStatus
only, as kcp's spec syncer (`pkg/syncer/spec/spec_process.go`) logs it and records no Event; an
Event per target per placement was a sixth of the API requests a placement cost."""
REPEATED_REASONS = frozenset({"Recreated", "DriftReverted"})
"""Reasons worth an Event each time; the others only when their message changes."""
"""A write below that got no answer: the target's cluster is down or cut off."""
QUIET_WRITES = frozenset({"Created", "Updated"})
"""Writes whose watch echo below is not reconciled again; after the others (drift reverted, a
copy recreated or taken over) the echo's reconcile puts `UpToDate` on the SyncStatus."""


SYNC_IRRELEVANT_METADATA = ("resourceVersion", "managedFields", "finalizers", "annotations")


def changes_what_syncs(old: KubeObject, new: KubeObject) -> bool:
    """Whether an upstream update can change what a reconcile does: not when only the status,
    the status annotations, the resourceVersion and managed fields moved, or finalizers were
    only added (the shared one's own write: an echo that would reconcile every target again,
    and write each one's SyncStatus a second time). kcp's spec controller skips the same
    updates (`deepEqualApartFromStatus` in `pkg/syncer/spec/spec_process.go`), finalizer
    additions aside; a finalizer removed, a label, the spec or a deletion reconciles."""
    old_meta, new_meta = old["metadata"], new["metadata"]
    before, after = set(old_meta.get("finalizers") or ()), set(new_meta.get("finalizers") or ())
    if not before <= after or _spec_annotations(old_meta) != _spec_annotations(new_meta):
        return True
    if any(
        old_meta.get(key) != value
        for key, value in new_meta.items()
        if key not in SYNC_IRRELEVANT_METADATA
    ) or any(key not in new_meta for key in old_meta if key not in SYNC_IRRELEVANT_METADATA):
        return True
    keys = (set(old) | set(new)) - {"metadata", "status"}
    return any(old.get(key) != new.get(key) for key in keys)


def _spec_annotations(metadata: KubeObject) -> dict[str, str]:
    annotations = metadata.get("annotations") or {}
    return {k: v for k, v in annotations.items() if not k.startswith(STATUS_ANNOTATION_PREFIX)}


def immutable_change(error: ApiError) -> bool:
    """Whether the target refused an update for changing a field it keeps immutable."""
    return error.status == 422 and any(text in error.message for text in IMMUTABLE_MESSAGES)


@dataclass(frozen=True)
class SyncedResource:
    """One resource this target syncs: its caches above and below, and its kind's handler."""

    resource: Resource
    upstream: Reflector
    downstream: Reflector

    @cached_property
    def handler(self) -> WorkloadHandler:
        resource = self.resource
        return handler_for(
            resource.group, resource.resource, version=resource.version, kind=resource.kind
        )


class SpecSyncer:
    def __init__(
        self,
        *,
        upstream: KubeClient,
        downstream: KubeClient,
        resources: dict[str, SyncedResource],
        context: TransformContext,
        namespaces: DownstreamNamespaces,
        statuses: SyncStatusWriter,
        reporter: StatusReporter,
        finalizers: FinalizerWrites,
        settings: EngineSettings,
        log: TargetLog,
    ) -> None:
        self._up = upstream
        self._down = downstream
        self.resources = resources
        self._context = context
        self._namespaces = namespaces
        self._statuses = statuses
        self._reporter = reporter
        self._finalizers = finalizers
        self._settings = settings
        self._log = log
        self._placement = placement_label(context.sync_target.key)
        self._soft_finalizer = SOFT_FINALIZER_ANNOTATION_PREFIX + context.sync_target.key
        self._last_event: dict[WorkKey, tuple[str, str]] = {}
        self._written_from: dict[WorkKey, KubeObject] = {}
        """The copy each key's last write below was asked for (the transformed upstream
        object, never changed after): not the upstream resourceVersion, which a status write
        upstream moves without changing what the copy should be. Kept whole and compared with
        `==` (independent of key order, like a digest of sorted JSON, without serialising every
        write); it is no larger than the copy the cache below holds."""
        self._quiet_verdicts: dict[WorkKey, Verdict] = {}
        """The `Created` or `Updated` verdict of each key's last write below: a later plain
        "no drift" at the same generation says nothing new, and keeps it rather than writing
        the SyncStatus again as `UpToDate` (at the first resync of every workload, else)."""
        self._echoes: dict[tuple[str, str, str], str] = {}
        """(resource, namespace, name) below -> the resourceVersion this syncer just wrote."""
        self._deleted: set[tuple[str, str, str]] = set()
        """(resource, namespace, name) below this syncer is deleting or deleted, until the
        cache reports the deletion: that echo is not reconciled again (the removal it would
        look at is the one just done; any later change upstream enqueues the key itself)."""
        self._removed: set[WorkKey] = set()
        """Keys of a pooled process whose last reconcile finished the removal of an upstream
        object being deleted that still carries this target's label: its deletion event (the
        shared finalizer's release) is sure to come, and finds nothing left to do here (a
        removal's finalizer release is woken by the SyncStatus cache, not by this event)."""
        self._fresh: dict[tuple[str, str, str], KubeObject] = {}
        """(resource, namespace, name) below -> the copy as this syncer last wrote it, until
        the cache below reports any event of it (client-go's `MutationCache`, simpler: the
        first event after a write is its echo, or newer; an older one only costs the saving):
        a reconcile in between
        (the upstream changed again) reads it instead of the older cache, and does not create
        the copy a second time (a 409 and a GET) or replace it from a stale resourceVersion."""

    def _remember_write(self, resource: Resource, written: KubeObject, quiet: bool) -> None:
        metadata = written.get("metadata") or {}
        version = metadata.get("resourceVersion")
        if version:
            where = (resource.qualified_name, metadata.get("namespace", ""), metadata["name"])
            self._fresh[where] = written
            if quiet:
                self._echoes[where] = version

    def _below(self, synced: SyncedResource, namespace: str, name: str) -> KubeObject | None:
        """The copy below: this syncer's last write of it until the cache has caught up."""
        written = self._fresh.get((synced.resource.qualified_name, namespace, name))
        return written if written is not None else synced.downstream.get(namespace, name)

    def observed_below(self, resource: Resource, change: Change, obj: KubeObject) -> bool:
        """Note a watch event below; whether it only reports this syncer's own last write
        (once), whose reconcile is spared."""
        metadata = obj["metadata"]
        where = (resource.qualified_name, metadata.get("namespace", ""), metadata["name"])
        version = metadata.get("resourceVersion")
        self._fresh.pop(where, None)
        if change is Change.DELETED:
            if where in self._deleted:
                self._deleted.discard(where)
                return True
            return False
        if self._echoes.get(where) != version:
            return False
        del self._echoes[where]
        return True

    def placed(self, obj: KubeObject) -> bool:
        return (obj["metadata"].get("labels") or {}).get(self._placement) == SYNC_STATE

    def _held_by_soft_finalizer(self, obj: KubeObject) -> bool:
        return bool((obj["metadata"].get("annotations") or {}).get(self._soft_finalizer))

    @staticmethod
    def _sees_everything(reflector: Reflector) -> bool:
        """Whether an object missing from this synced informer is gone upstream: true when
        it selects nothing out (a pooled process's), so the GET that would confirm it (each
        target's reconcile of a removal, twice) is spared. One that selects by placement label
        also misses objects unplaced here but alive, whose finalizer the removal must see."""
        return reflector.label_selector is None and reflector.synced.is_set()

    async def reconcile(self, key: WorkKey) -> float | None:
        """Converge one object; returns seconds after which to look again, or None."""
        synced = self.resources[key.resource]
        self._removed.discard(key)
        upstream = synced.upstream.get(key.namespace, key.name)
        if upstream is None and not self._sees_everything(synced.upstream):
            upstream = await self._up.get_or_none(synced.resource, key.name, key.namespace)
        if upstream is not None and self.placed(upstream) and not is_deleting(upstream):
            return await self._sync(key, synced, upstream)
        return await self._remove(key, synced, upstream)

    def to_downstream(self, synced: SyncedResource, upstream: KubeObject) -> KubeObject:
        """The handler's transform, stamped with the upstream generation it carries."""
        desired = synced.handler.to_downstream(upstream, self._context)
        metadata = desired["metadata"]
        annotations = dict(metadata.get("annotations") or {})
        annotations[UPSTREAM_GENERATION_ANNOTATION] = str(upstream["metadata"].get("generation", 0))
        desired["metadata"] = {**metadata, "annotations": annotations}
        return desired

    async def _sync(
        self, key: WorkKey, synced: SyncedResource, upstream: KubeObject
    ) -> float | None:
        resource = synced.resource
        created = await self._statuses.ensure(resource, upstream)
        held = await self._finalizers.ensure(self._up, resource, upstream, force=created)
        if held is None or is_deleting(held):
            return 0.0
        upstream = held
        try:
            strategy, retain = strategy_for(upstream, self._settings.conflict_strategy)
            resolver = resolver_for(strategy, retain)
            desired = self.to_downstream(synced, upstream)
        except TransformError as error:
            await self._conclude(
                key, resource, upstream, Verdict(SyncPhase.FAILED, "Failed", str(error))
            )
            return None
        if not synced.downstream.synced.is_set():
            reason = synced.downstream.last_error or "its informer has not synced yet"
            message = f"the target does not serve {resource.qualified_name}: {reason}"
            await self._conclude(
                key, resource, upstream, Verdict(SyncPhase.FAILED, "Failed", message)
            )
            return self._settings.removal_recheck
        try:
            return await self._write_below(key, synced, upstream, resolver, desired)
        except UNREACHABLE as error:
            message = f"the target's cluster did not answer: {error or type(error).__name__}"
            await self._conclude(
                key, resource, upstream, Verdict(SyncPhase.FAILED, "Failed", message)
            )
            raise

    async def _write_below(
        self,
        key: WorkKey,
        synced: SyncedResource,
        upstream: KubeObject,
        resolver: StrategyResolver,
        desired: KubeObject,
    ) -> float | None:
        """Create or replace the copy below as the resolver decides, and conclude."""
        resource = synced.resource
        generation = upstream["metadata"].get("generation")
        await self._namespaces.ensure(key.namespace)
        namespace, name = desired["metadata"]["namespace"], desired["metadata"]["name"]
        existing = self._below(synced, namespace, name)
        recreated = ""
        for _ in range(WRITE_ATTEMPTS):
            wanted = carry_allocated_fields(desired, existing)
            decision = resolver.resolve(wanted, existing, self._context)
            if decision.action is ConflictAction.KEEP:
                verdict = Verdict(SyncPhase.SYNCED, "UpToDate", decision.reason, generation)
                quiet = self._quiet_verdicts.get(key)
                if (
                    decision.reason == resolver.no_drift
                    and quiet is not None
                    and quiet.observed_generation == generation
                ):
                    verdict = quiet
                break
            if decision.action is ConflictAction.REFUSE or decision.obj is None:
                verdict = Verdict(SyncPhase.CONFLICT, "Conflict", decision.reason)
                break
            try:
                if existing is None:
                    written = await self._down.create(resource, decision.obj)
                else:
                    written = await self._down.replace(resource, decision.obj)
            except ApiError as error:
                self._fresh.pop((resource.qualified_name, namespace, name), None)
                if error.already_exists or error.conflict:
                    self._log.debug(
                        "%s: %s on the write below; reading it again", key, error.reason
                    )
                    existing = await self._down.get_or_none(resource, name, namespace)
                    continue
                if error.not_found and existing is not None:
                    existing = None
                    continue
                if existing is not None and immutable_change(error):
                    self._log.info("%s: %s; deleting the copy to create it again", key, error)
                    answer = await self._down.delete(resource, name, namespace)
                    if answer is not None and (answer.get("metadata") or {}).get(
                        "deletionTimestamp"
                    ):
                        return self._settings.removal_recheck  # still held by finalizers
                    existing, recreated = None, error.message
                    continue
                if error.status in REFUSED_STATUSES and not error.not_found:
                    message = f"the target refused the object: {error}"
                    verdict = Verdict(SyncPhase.FAILED, "Failed", message)
                    break
                raise
            before = self._written_from.get(key)
            self._written_from[key] = desired
            verdict = self._written(existing, before, desired, decision.reason, generation)
            if recreated:
                message = f"an immutable field changed ({recreated}): deleted and created again"
                verdict = Verdict(SyncPhase.SYNCED, "Recreated", message, generation)
            self._remember_write(resource, written, verdict.reason in QUIET_WRITES)
            if verdict.reason in QUIET_WRITES:
                self._quiet_verdicts[key] = verdict
            else:
                self._quiet_verdicts.pop(key, None)
            break
        else:
            raise ApiError(
                409, "Conflict", f"{key}: still conflicting after {WRITE_ATTEMPTS} writes"
            )
        await self._conclude(key, resource, upstream, verdict)
        return None

    def _written(
        self,
        existing: KubeObject | None,
        before: KubeObject | None,
        asked: KubeObject,
        reason: str,
        generation: int | None,
    ) -> Verdict:
        """Created (or recreated after a delete below), took over, reverted drift (what the
        upstream object asks of the copy did not change since this process last wrote it), or
        followed an upstream update."""
        if existing is None:
            created = "Created" if before is None else "Recreated"
            return Verdict(SyncPhase.SYNCED, created, reason, generation)
        if owner_key(existing) != self._context.sync_target.key:
            return Verdict(SyncPhase.SYNCED, "TookOver", reason, generation)
        if before == asked:
            return Verdict(SyncPhase.SYNCED, "DriftReverted", reason, generation)
        return Verdict(SyncPhase.SYNCED, "Updated", f"applied generation {generation}", generation)

    async def _conclude(
        self, key: WorkKey, resource: Resource, upstream: KubeObject, verdict: Verdict
    ) -> None:
        said = (verdict.reason, verdict.message)
        eventful = verdict.reason in EVENTFUL_REASONS and (
            self._last_event.get(key) != said or verdict.reason in REPEATED_REASONS
        )
        warning = verdict.phase in (SyncPhase.CONFLICT, SyncPhase.FAILED)
        if eventful:
            self._last_event[key] = said
            log = self._log.warning if warning else self._log.info
            log("%s: %s: %s", key, verdict.reason, verdict.message)
        self._reporter.submit(key, resource, upstream, verdict, event=eventful, warning=warning)

    async def _remove(
        self, key: WorkKey, synced: SyncedResource, upstream: KubeObject | None
    ) -> float | None:
        resource = synced.resource
        if upstream is not None and self._held_by_soft_finalizer(upstream):
            if self._statuses.cached(key.namespace, self._statuses.record(resource, upstream).name):
                message = f"held by the soft finalizer annotation {self._soft_finalizer}"
                verdict = Verdict(SyncPhase.DELETING, "SoftFinalizer", message)
                self._reporter.submit(key, resource, upstream, verdict)
            return self._settings.removal_recheck
        namespace = self._context.locator(key.namespace).downstream_namespace
        name = downstream_name(resource.kind, key.name)
        if self._below(synced, namespace, name) is not None:
            where = (resource.qualified_name, namespace, name)
            self._fresh.pop(where, None)
            self._deleted.add(where)  # before the request: its echo may come before the answer
            try:
                answer = await self._down.delete(resource, name, namespace)
            except BaseException:
                self._deleted.discard(where)
                raise
            terminating = answer is not None and answer.get("kind") != "Status"
            held = terminating and bool((answer or {}).get("metadata", {}).get("deletionTimestamp"))
            if answer is None or held:
                # Gone before (no echo of ours will come) or held by finalizers below: the
                # deletion's event is reconciled as any other (the recheck looks again too).
                self._deleted.discard(where)
            if held:
                return self._settings.removal_recheck
            self._log.debug("%s: copy below deleted", key)
        self._reporter.discard(key)
        await self._statuses.delete(resource, key.namespace, key.name)
        self._last_event.pop(key, None)
        self._written_from.pop(key, None)
        self._quiet_verdicts.pop(key, None)
        if upstream is not None and has_finalizer(upstream):
            uid = upstream["metadata"].get("uid", "")
            if (
                self._statuses.last_out(key.namespace, uid)
                and await self._statuses.remaining(key.namespace, uid) == 0
            ):
                released = await remove_finalizer(self._up, resource, upstream)
                self._log.info("%s: last copy gone, shared finalizer removed", key)
                if released is not None and await self._statuses.remaining(key.namespace, uid):
                    await self._finalizers.ensure(self._up, resource, released, force=True)
                    self._log.info("%s: another target placed it meanwhile; finalizer back", key)
        if (
            upstream is not None
            and is_deleting(upstream)
            and carries(upstream, self._placement)
            and self._sees_everything(synced.upstream)
        ):
            self._removed.add(key)
        return None

    def removed_already(self, key: WorkKey) -> bool:
        """Whether the upstream deletion of this key finds its removal done here (once)."""
        if key not in self._removed:
            return False
        self._removed.discard(key)
        return True
