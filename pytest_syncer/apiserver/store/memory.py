"""The in-memory store: dict indexes by key and by label (``index.py``); a list as the log."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from typing import Any

from pytest_syncer.apiserver.store import (
    CompactedError,
    KeyExistsError,
    KeyNotFoundError,
    LabelTerm,
    ObjectKey,
    RevisionConflictError,
    Store,
    WatchEvent,
    revision_of,
    set_revision,
)
from pytest_syncer.apiserver.store.index import ObjectIndex


class MemoryStore(Store):
    """Everything in dicts: the default, and what a test run without ``--data-dir`` uses."""

    def __init__(self) -> None:
        super().__init__()
        self._index = ObjectIndex()
        self._log: list[WatchEvent] = []

    def get(self, key: ObjectKey) -> dict[str, Any] | None:
        return self._index.get(key)

    def list_objects(
        self,
        resource: str,
        cluster: str | None = None,
        namespace: str | None = None,
        labels: Sequence[LabelTerm] = (),
    ) -> list[dict[str, Any]]:
        return self._index.list_objects(resource, cluster, namespace, labels)

    def all_objects(self) -> Iterator[tuple[ObjectKey, dict[str, Any]]]:
        return self._index.items()

    def _append(self, event: WatchEvent) -> WatchEvent:
        self._log.append(event)
        self._notify(event)
        return event

    def create(self, key: ObjectKey, obj: dict[str, Any]) -> WatchEvent:
        if self._index.get(key) is not None:
            raise KeyExistsError(key, f"{key} already exists")
        self._revision += 1
        set_revision(obj, self._revision)
        self._index.put(key, obj)
        return self._append(WatchEvent("ADDED", self._revision, key, obj, None))

    def _existing(self, key: ObjectKey, expected_revision: int | None) -> dict[str, Any]:
        current = self._index.get(key)
        if current is None:
            raise KeyNotFoundError(key, f"{key} not found")
        if expected_revision is not None and revision_of(current) != expected_revision:
            raise RevisionConflictError(key, f"{key} is not at revision {expected_revision}")
        return current

    def update(
        self, key: ObjectKey, obj: dict[str, Any], *, expected_revision: int | None = None
    ) -> WatchEvent:
        current = self._existing(key, expected_revision)
        self._revision += 1
        set_revision(obj, self._revision)
        self._index.put(key, obj)
        return self._append(WatchEvent("MODIFIED", self._revision, key, obj, current))

    def delete(self, key: ObjectKey, *, expected_revision: int | None = None) -> WatchEvent:
        current = self._existing(key, expected_revision)
        self._index.remove(key)
        self._revision += 1
        final = {**current, "metadata": dict(current["metadata"])}
        set_revision(final, self._revision)
        return self._append(WatchEvent("DELETED", self._revision, key, final, current))

    def events_since(self, resource: str, revision: int) -> list[WatchEvent]:
        if revision < self._compacted:
            raise CompactedError(revision, self._compacted)
        start = bisect.bisect_right(self._log, revision, key=lambda event: event.revision)
        return [event for event in self._log[start:] if event.key.resource == resource]

    def compact(self, older_than: float) -> int:
        count = 0
        while count < len(self._log) and self._log[count].time < older_than:
            count += 1
        if count:
            self._compacted = self._log[count - 1].revision
            del self._log[:count]
        return count

    def close(self) -> None:
        self._listeners.clear()
