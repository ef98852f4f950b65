"""The in-memory store: dict indexes by resource, cluster, namespace and name; a list as the log."""

from __future__ import annotations

import bisect
from typing import Any

from pytest_syncer.apiserver.store import (
    CompactedError,
    KeyExistsError,
    KeyNotFoundError,
    ObjectKey,
    RevisionConflictError,
    Store,
    WatchEvent,
    set_revision,
)

_Names = dict[str, dict[str, Any]]
_Namespaces = dict[str, _Names]
_Clusters = dict[str, _Namespaces]


def _revision_of(obj: dict[str, Any]) -> int:
    return int(obj["metadata"]["resourceVersion"])


class MemoryStore(Store):
    """Everything in dicts: the default, and what a test run without ``--data-dir`` uses."""

    def __init__(self) -> None:
        super().__init__()
        self._objects: dict[str, _Clusters] = {}
        self._log: list[WatchEvent] = []
        self._revision = 0
        self._compacted = 0

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def compacted(self) -> int:
        return self._compacted

    def _names(self, key: ObjectKey, create: bool = False) -> _Names | None:
        clusters = self._objects.get(key.resource)
        if clusters is None:
            if not create:
                return None
            clusters = self._objects[key.resource] = {}
        namespaces = clusters.get(key.cluster)
        if namespaces is None:
            if not create:
                return None
            namespaces = clusters[key.cluster] = {}
        names = namespaces.get(key.namespace)
        if names is None and create:
            names = namespaces[key.namespace] = {}
        return names

    def get(self, key: ObjectKey) -> dict[str, Any] | None:
        names = self._names(key)
        return None if names is None else names.get(key.name)

    def list_objects(
        self, resource: str, cluster: str | None = None, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        clusters = self._objects.get(resource, {})
        cluster_names = [cluster] if cluster is not None else sorted(clusters)
        items: list[dict[str, Any]] = []
        for cluster_name in cluster_names:
            namespaces = clusters.get(cluster_name, {})
            namespace_names = [namespace] if namespace is not None else sorted(namespaces)
            for namespace_name in namespace_names:
                names = namespaces.get(namespace_name, {})
                items.extend(names[name] for name in sorted(names))
        return items

    def _append(self, event: WatchEvent) -> WatchEvent:
        self._log.append(event)
        self._notify(event)
        return event

    def create(self, key: ObjectKey, obj: dict[str, Any]) -> WatchEvent:
        names = self._names(key, create=True)
        assert names is not None
        if key.name in names:
            raise KeyExistsError(key, f"{key} already exists")
        self._revision += 1
        set_revision(obj, self._revision)
        names[key.name] = obj
        return self._append(WatchEvent("ADDED", self._revision, key, obj, None))

    def _existing(
        self, key: ObjectKey, expected_revision: int | None
    ) -> tuple[_Names, dict[str, Any]]:
        names = self._names(key)
        current = None if names is None else names.get(key.name)
        if names is None or current is None:
            raise KeyNotFoundError(key, f"{key} not found")
        if expected_revision is not None and _revision_of(current) != expected_revision:
            raise RevisionConflictError(key, f"{key} is not at revision {expected_revision}")
        return names, current

    def update(
        self, key: ObjectKey, obj: dict[str, Any], *, expected_revision: int | None = None
    ) -> WatchEvent:
        names, current = self._existing(key, expected_revision)
        self._revision += 1
        set_revision(obj, self._revision)
        names[key.name] = obj
        return self._append(WatchEvent("MODIFIED", self._revision, key, obj, current))

    def delete(self, key: ObjectKey, *, expected_revision: int | None = None) -> WatchEvent:
        names, current = self._existing(key, expected_revision)
        del names[key.name]
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
