"""Fan-out of committed writes to open watches.

The store calls :meth:`WatchHub.publish` once per write; the hub hands the event to the watchers
of that resource only, and each watcher queues it without copying. An event's wire form is
encoded once and shared by every watcher that sees it unchanged; only a watcher whose selector
turns a MODIFIED into an ADDED or DELETED (an object entering or leaving its selection, as
Kubernetes reports it) encodes its own line.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import orjson

from pytest_syncer.apiserver.api import Selection
from pytest_syncer.apiserver.store import WatchEvent, encode_event_line

#: A watcher this far behind is cut off; its client re-watches from its last resourceVersion.
MAX_PENDING_EVENTS = 50_000


class Watcher:
    """One open watch: which objects it wants and the events waiting to be written."""

    def __init__(
        self,
        resource: str,
        cluster: str | None,
        namespace: str | None,
        selection: Selection,
    ) -> None:
        self.resource = resource
        self.cluster = cluster
        self.namespace = namespace
        self.selection = selection
        self.pending: deque[WatchEvent] = deque()
        self.overflowed = False
        self.closed = False
        self._wakeup = asyncio.Event()

    def wants(self, event: WatchEvent) -> bool:
        key = event.key
        return (self.cluster is None or key.cluster == self.cluster) and (
            self.namespace is None or key.namespace == self.namespace
        )

    def offer(self, event: WatchEvent) -> None:
        if not self.wants(event):
            return
        if len(self.pending) >= MAX_PENDING_EVENTS:
            self.overflowed = True
        else:
            self.pending.append(event)
        self._wakeup.set()

    def close(self) -> None:
        """End the watch: the server is stopping."""
        self.closed = True
        self._wakeup.set()

    async def wait(self, timeout: float) -> None:
        """Return when events are pending or the watch is closed, or after ``timeout`` seconds."""
        if self.pending or self.overflowed or self.closed:
            return
        self._wakeup.clear()
        try:
            await asyncio.wait_for(self._wakeup.wait(), timeout)
        except TimeoutError:
            return

    def drain(self) -> bytes:
        """Every pending event as watch lines, selectors applied."""
        lines = []
        while self.pending:
            line = render(self.pending.popleft(), self.selection)
            if line is not None:
                lines.append(line)
        return b"".join(lines)


def render(event: WatchEvent, selection: Selection) -> bytes | None:
    """The line a watcher with ``selection`` gets for ``event``, or None when it gets none."""
    if selection.empty:
        return event.line
    if event.type == "ADDED":
        return event.line if selection.matches(event.object) else None
    if event.type == "DELETED":
        return event.line if selection.matches(event.object) else None
    now = selection.matches(event.object)
    before = True if event.previous is None else selection.matches(event.previous)
    if now and before:
        return event.line
    if now:
        return encode_event_line("ADDED", event.raw_object)
    if before:
        return encode_event_line("DELETED", event.raw_object)
    return None


def added_line(obj: dict[str, Any]) -> bytes:
    return encode_event_line("ADDED", orjson.dumps(obj))


def bookmark_line(
    api_version: str, kind: str, revision: int, *, initial_events_end: bool = False
) -> bytes:
    metadata: dict[str, Any] = {"resourceVersion": str(revision)}
    if initial_events_end:
        metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
    obj = {"kind": kind, "apiVersion": api_version, "metadata": metadata}
    return encode_event_line("BOOKMARK", orjson.dumps(obj))


def error_line(status: dict[str, Any]) -> bytes:
    return encode_event_line("ERROR", orjson.dumps(status))


class WatchHub:
    """Open watchers by resource; :meth:`publish` is the store's listener."""

    def __init__(self) -> None:
        self._watchers: dict[str, set[Watcher]] = {}

    def publish(self, event: WatchEvent) -> None:
        for watcher in self._watchers.get(event.key.resource, ()):
            watcher.offer(event)

    def add(self, watcher: Watcher) -> None:
        self._watchers.setdefault(watcher.resource, set()).add(watcher)

    def remove(self, watcher: Watcher) -> None:
        watchers = self._watchers.get(watcher.resource)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watchers[watcher.resource]

    def close_all(self) -> None:
        for watchers in self._watchers.values():
            for watcher in watchers:
                watcher.close()

    @property
    def count(self) -> int:
        return sum(len(watchers) for watchers in self._watchers.values())
