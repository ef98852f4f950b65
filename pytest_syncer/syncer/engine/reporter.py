"""SyncStatus phases and Events written behind the copies below, not before them.

A reconcile's verdict is handed over and the reconcile moves on, so on a busy API server the
writes that make a workload visible below go first. Verdicts for one key coalesce (the latest
wins); Events queue in order. A SyncStatus that is gone by the time its verdict is written
stays gone: only the engine creates it, before a write below.
"""

from __future__ import annotations

from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.kubeclient.client import REQUEST_ERRORS, Resource
from pytest_syncer.kubeclient.workqueue import WorkQueue
from pytest_syncer.syncer.engine.events import EventRecorder
from pytest_syncer.syncer.engine.keys import WorkKey
from pytest_syncer.syncer.engine.syncstatus import SyncStatusWriter, Verdict
from pytest_syncer.syncer.engine.targetlog import TargetLog

DEFAULT_DELAY = 0.05
RETRYABLE = REQUEST_ERRORS


class StatusReporter:
    def __init__(
        self,
        writer: SyncStatusWriter,
        recorder: EventRecorder,
        log: TargetLog,
        delay: float = DEFAULT_DELAY,
    ) -> None:
        self._writer = writer
        self._recorder = recorder
        self._log = log
        self._delay = delay
        self._queue: WorkQueue[WorkKey] = WorkQueue()
        self._verdicts: dict[WorkKey, tuple[Resource, KubeObject, Verdict]] = {}
        self._events: dict[WorkKey, list[tuple[KubeObject, Verdict, bool]]] = {}

    def submit(
        self,
        key: WorkKey,
        resource: Resource,
        upstream: KubeObject,
        verdict: Verdict,
        *,
        event: bool = False,
        warning: bool = False,
    ) -> None:
        """Write this verdict soon (and an Event for it when `event`)."""
        self._verdicts[key] = (resource, upstream, verdict)
        if event:
            self._events.setdefault(key, []).append((upstream, verdict, warning))
        self._queue.add_after(key, self._delay)

    def discard(self, key: WorkKey) -> None:
        """Forget what was not written yet: the workload left this target."""
        self._verdicts.pop(key, None)
        self._events.pop(key, None)

    @property
    def pending(self) -> int:
        return len(self._verdicts) + sum(len(events) for events in self._events.values())

    async def run(self) -> None:
        await self._queue.serve(self._write, self._failed, retry_on=RETRYABLE)

    def _failed(self, key: WorkKey, error: Exception, delay: float) -> None:
        self._log.warning("%s: status not written (%s); retrying in %.2fs", key, error, delay)

    async def _write(self, key: WorkKey) -> None:
        pending = self._verdicts.pop(key, None)
        if pending is not None:
            resource, upstream, verdict = pending
            try:
                await self._writer.report(resource, upstream, verdict)
            except RETRYABLE:
                self._verdicts.setdefault(key, pending)
                raise
        events = self._events.pop(key, [])
        for upstream, verdict, warning in events:
            await self._recorder.record(upstream, verdict.reason, verdict.message, warning=warning)

    def close(self) -> None:
        self._queue.shut_down()
