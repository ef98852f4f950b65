"""Fan-out of committed writes to open watches.

The store calls :meth:`WatchFanout.publish` once per write; the fan-out hands the event to the
watchers of that resource in that cluster (or in every cluster) only, and each watcher queues it
without copying. An event's wire form is encoded once and shared by every watcher that sees it
unchanged; only a watcher whose selector turns a MODIFIED into an ADDED or DELETED (an object
entering or leaving its selection, as Kubernetes reports it) encodes its own line.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from pytest_syncer.apiserver.api.errors import expired
from pytest_syncer.apiserver.api.object_api import ObjectAPI, Selection, parse_revision
from pytest_syncer.apiserver.api.paging import ListOptions, parse_list_options, too_large
from pytest_syncer.apiserver.api.resources import ResourcePath, ResourceType
from pytest_syncer.apiserver.store import CompactedError, WatchEvent, encode_event_line

#: A watcher this far behind is cut off; its client re-watches from its last resourceVersion.
MAX_PENDING_EVENTS = 50_000
#: Encodes one event for a watcher that does not take the shared line (a Table, protobuf or
#: metadata-only watch).
EventEncoder = Callable[[str, Mapping[str, Any]], bytes]


class Watcher:
    """One open watch: which objects it wants and the events waiting to be written."""

    def __init__(
        self,
        resource: str,
        cluster: str | None,
        namespace: str | None,
        selection: Selection,
        encoder: EventEncoder | None = None,
    ) -> None:
        self.resource = resource
        self.encoder = encoder
        self.cluster = cluster
        self.namespace = namespace
        self.selection = selection
        self.pending: deque[WatchEvent] = deque()
        self.overflowed = False
        self.closed = False
        #: What :meth:`wait` awaits: a bare future and a timer, cheaper per event than
        #: ``asyncio.wait_for`` on an ``Event`` (which starts a task per wait).
        self._waiter: asyncio.Future[None] | None = None
        #: The timer that ends a wait, until it fires, and when it is due (loop time); kept
        #: across waits while it is due no later than the next wait's end (a wait may end
        #: early, never late), so an event costs no timer. Neither is read off the handle:
        #: uvloop returns a plain `Handle` (no `when()`) for a timer due within its millisecond
        #: tick, and may run a timer before its due time.
        self._timer: asyncio.Handle | None = None
        self._timer_due = 0.0

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
        self._wake()

    def close(self) -> None:
        """End the watch: the server is stopping."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, timeout: float) -> None:
        """Return when events are pending or the watch is closed, or after ``timeout`` seconds."""
        if self.pending or self.overflowed or self.closed:
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        when = loop.time() + timeout
        if self._timer is None or self._timer_due > when:
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._timer_due = loop.call_at(when, self._timer_fired), when
        try:
            await waiter
        finally:
            self._waiter = None

    def _timer_fired(self) -> None:
        self._timer = None
        self._wake()

    def stop_timer(self) -> None:
        """The watch has ended: its timer goes (it would only wake nobody)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def drain(self) -> bytes:
        """Every pending event as watch lines, selectors applied."""
        lines = []
        while self.pending:
            event = self.pending.popleft()
            if self.encoder is None:
                line = render(event, self.selection)
                if line is not None:
                    lines.append(line)
                continue
            event_type = visible_type(event, self.selection)
            if event_type is not None:
                lines.append(self.encoder(event_type, event.object))
        return b"".join(lines)


def visible_type(event: WatchEvent, selection: Selection) -> str | None:
    """The type a watcher with ``selection`` sees ``event`` as, or None when it sees nothing."""
    if selection.empty:
        return event.type
    now = selection.matches(event.object)
    if event.type in ("ADDED", "DELETED"):
        return event.type if now else None
    before = True if event.previous is None else selection.matches(event.previous)
    if now and before:
        return event.type
    if now:
        return "ADDED"
    if before:
        return "DELETED"
    return None


def render(event: WatchEvent, selection: Selection) -> bytes | None:
    """The line a watcher with ``selection`` gets for ``event``, or None when it gets none."""
    if selection.empty:
        return event.line
    event_type = visible_type(event, selection)
    if event_type is None:
        return None
    if event_type == event.type:
        return event.line
    return encode_event_line(event_type, event.raw_object)


def added_line(obj: dict[str, Any]) -> bytes:
    return encode_event_line("ADDED", orjson.dumps(obj))


def bookmark_object(
    api_version: str, kind: str, revision: int, *, initial_events_end: bool = False
) -> dict[str, Any]:
    """A BOOKMARK's object: only the kind and the revision (and the initial-events mark)."""
    metadata: dict[str, Any] = {"resourceVersion": str(revision)}
    if initial_events_end:
        metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": kind, "apiVersion": api_version, "metadata": metadata}


def bookmark_line(
    api_version: str, kind: str, revision: int, *, initial_events_end: bool = False
) -> bytes:
    obj = bookmark_object(api_version, kind, revision, initial_events_end=initial_events_end)
    return encode_event_line("BOOKMARK", orjson.dumps(obj))


def error_line(status: dict[str, Any]) -> bytes:
    return encode_event_line("ERROR", orjson.dumps(status))


class WatchFanout:
    """Open watchers by resource and cluster; :meth:`publish` is the store's listener.

    An event visits only the watchers of its resource in its cluster and those watching every
    cluster, so with many logical clusters a write does not scan every cluster's watches.
    """

    def __init__(self) -> None:
        self._watchers: dict[tuple[str, str | None], set[Watcher]] = {}

    def publish(self, event: WatchEvent) -> None:
        key = event.key
        for scope in ((key.resource, key.cluster), (key.resource, None)):
            for watcher in self._watchers.get(scope, ()):
                watcher.offer(event)

    def add(self, watcher: Watcher) -> None:
        self._watchers.setdefault((watcher.resource, watcher.cluster), set()).add(watcher)

    def remove(self, watcher: Watcher) -> None:
        scope = (watcher.resource, watcher.cluster)
        watchers = self._watchers.get(scope)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watchers[scope]

    def close_where(self, resource: str, cluster: str) -> None:
        """End the watches of ``resource`` in ``cluster`` (its type is no longer served)."""
        for watcher in self._watchers.get((resource, cluster), ()):
            watcher.close()

    def end_removed_types(self, cluster: str, removed: list[ResourceType]) -> None:
        """A CRD went away: its watches in ``cluster`` end, as they do on a real server."""
        for key in {resource_type.key for resource_type in removed}:
            self.close_where(key, cluster)

    def close_all(self) -> None:
        for watchers in self._watchers.values():
            for watcher in watchers:
                watcher.close()

    @property
    def count(self) -> int:
        return sum(len(watchers) for watchers in self._watchers.values())


@dataclass(frozen=True)
class WatchStart:
    """Where a new watch begins: the lines it sends first, or the error line that ends it."""

    watcher: Watcher
    options: ListOptions
    #: The initial ADDED lines (a watch from "now-ish" or one asking for initial events).
    initial: bytes
    #: An ERROR event (410 Expired) for a resume from a compacted revision, in the watch's
    #: encoding; the watch ends there.
    failure: bytes | None
    #: The store's revision once the watch starts: the initial-events-end bookmark carries it.
    revision: int


def start_watch(
    api: ObjectAPI,
    path: ResourcePath,
    selection: Selection,
    query: Mapping[str, str],
    encoder: EventEncoder | None = None,
) -> WatchStart:
    """Resume or begin a watch as kube-apiserver does, from the query's ``resourceVersion``.

    Unset or ``0``: the current objects as ADDED, then changes (unless ``sendInitialEvents`` is
    false). A revision: the changes after it, replayed from the event log; a compacted one is
    ``410 Expired``, and one the server never reached is ``504 Too large resource version``, so
    the client lists again (``k8s.io/apiserver/pkg/storage/cacher``).
    """
    store = api.store
    resource_type = path.resource_type
    revision = parse_revision(query.get("resourceVersion"))
    if revision is not None and revision > store.revision:
        # As the list does, and as kube-apiserver does once its cache has waited: a
        # client resuming from a revision this server never reached must list again.
        raise too_large(revision, store.revision)
    options = parse_list_options(query, watch=True)
    cluster = None if path.cluster in (None, "*") else path.cluster
    watcher = Watcher(resource_type.key, cluster, path.namespace, selection, encoder)
    initial = b""
    failure: bytes | None = None
    from_now = options.send_initial_events is False
    if (revision in (None, 0) and not from_now) or options.send_initial_events:
        items = api.list_objects(path, selection)
        encode = added_line if encoder is None else functools.partial(encoder, "ADDED")
        initial = b"".join(encode(item) for item in items)
    elif revision:
        try:
            for event in store.events_since(resource_type.key, revision):
                watcher.offer(event)
        except CompactedError as exc:
            status = expired(exc.revision, exc.compacted).to_status()
            failure = error_line(status) if encoder is None else encoder("ERROR", status)
    return WatchStart(watcher, options, initial, failure, store.revision)
