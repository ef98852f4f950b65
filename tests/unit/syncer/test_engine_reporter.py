"""The status reporter: verdicts coalesce per key, Events keep their order, discards stick."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from pytest_syncer.contract.objects import SyncPhase
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import Resource
from pytest_syncer.syncer.engine.events import EventRecorder
from pytest_syncer.syncer.engine.keys import WorkKey
from pytest_syncer.syncer.engine.reporter import StatusReporter
from pytest_syncer.syncer.engine.syncstatus import SyncStatusWriter, Verdict
from pytest_syncer.syncer.engine.targetlog import TargetLog

CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
KEY = WorkKey("configmaps", "ns", "cm")
WORKLOAD: dict[str, Any] = {"metadata": {"name": "cm", "namespace": "ns"}}


class RecordingWriter:
    def __init__(self) -> None:
        self.reports: list[tuple[str, str]] = []

    async def report(self, resource: Resource, workload: dict[str, Any], verdict: Verdict) -> None:
        self.reports.append((workload["metadata"]["name"], verdict.reason))


class RecordingRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, bool]] = []

    async def record(
        self, workload: dict[str, Any], reason: str, message: str, *, warning: bool = False
    ) -> None:
        self.events.append((reason, warning))


def _reporter() -> tuple[StatusReporter, RecordingWriter, RecordingRecorder]:
    writer, recorder = RecordingWriter(), RecordingRecorder()
    reporter = StatusReporter(
        cast(SyncStatusWriter, writer),
        cast(EventRecorder, recorder),
        TargetLog(logging.getLogger("test"), "t"),
        delay=0.01,
    )
    return reporter, writer, recorder


async def _drained(reporter: StatusReporter) -> int:
    return reporter.pending


async def test_the_latest_verdict_wins_and_every_event_is_written_in_order() -> None:
    reporter, writer, recorder = _reporter()
    task = asyncio.create_task(reporter.run())
    reporter.submit(
        KEY, CONFIGMAPS, WORKLOAD, Verdict(SyncPhase.SYNCED, "Created", "m"), event=True
    )
    reporter.submit(KEY, CONFIGMAPS, WORKLOAD, Verdict(SyncPhase.SYNCED, "Updated", "m"))
    conflict = Verdict(SyncPhase.CONFLICT, "Conflict", "foreign")
    reporter.submit(KEY, CONFIGMAPS, WORKLOAD, conflict, event=True, warning=True)
    await await_until(lambda: _drained(reporter), lambda n: n == 0, what="the reporter drained")
    reporter.close()
    await task
    assert writer.reports == [("cm", "Conflict")]
    assert recorder.events == [("Created", False), ("Conflict", True)]


async def test_a_discarded_key_writes_nothing() -> None:
    reporter, writer, recorder = _reporter()
    reporter.submit(
        KEY, CONFIGMAPS, WORKLOAD, Verdict(SyncPhase.SYNCED, "Created", "m"), event=True
    )
    reporter.discard(KEY)
    assert reporter.pending == 0
    reporter.close()
    await reporter.run()
    assert writer.reports == []
    assert recorder.events == []
