"""A reflector in client-go's shape: list, then watch from the list's resourceVersion, forever.

The local cache is what reconciles read, so they cost no request; indexes (client-go's
`Indexer`: a function from an object to index values) answer "which cached objects carry this
value" without a scan, and without the per-event list a lister replaces. A watch that ends (server
timeout, broken connection, restarted server) resumes from the last resourceVersion seen,
bookmarks included; a resourceVersion the server no longer has (410 Gone) means events were
missed, so the reflector lists again and reports the difference as adds, updates and deletes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from enum import StrEnum
from typing import Protocol

from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.kubeclient.client import UNREACHABLE, ApiError, KubeClient, Resource
from pytest_syncer.process.lifetime import Lifetime

log = logging.getLogger(__name__)

ObjectKey = tuple[str, ...]
"""(namespace, name) by default, the namespace `""` for cluster-scoped objects; a reflector
across clusters keys by (cluster, namespace, name) instead (its `key` function)."""


class Change(StrEnum):
    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


Handler = Callable[[Change, KubeObject, KubeObject | None], None]
"""Called with (change, object, previous object or None) after the cache changed."""


IndexFunc = Callable[[KubeObject], Iterable[str]]
"""The values an object is indexed under (client-go's `cache.IndexFunc`)."""


class Cache(Protocol):
    """What a reader of cached objects needs: a reflector, or one index value's view of it."""

    def get(self, namespace: str, name: str) -> KubeObject | None: ...

    def objects(self) -> Iterator[KubeObject]: ...

    def add_handler(self, handler: Handler) -> None: ...


class Gone(Exception):
    """The watch's resourceVersion is too old (410): list again."""


def object_key(obj: KubeObject) -> ObjectKey:
    metadata = obj["metadata"]
    return (metadata.get("namespace") or "", metadata["name"])


class Reflector(Lifetime, start="start", stop="stop"):
    """Keep `cache` equal to the server's view of one resource (optionally one label selector)."""

    def __init__(
        self,
        client: KubeClient,
        resource: Resource,
        *,
        label_selector: str | None = None,
        namespace: str | None = None,
        name: str = "",
        watch_timeout: int = 300,
        retry_initial: float = 0.2,
        retry_max: float = 5.0,
        key: Callable[[KubeObject], ObjectKey] = object_key,
    ) -> None:
        self.client = client
        self.key = key
        self.resource = resource
        self.label_selector = label_selector
        self.namespace = namespace
        self.name = name or resource.qualified_name
        self.watch_timeout = watch_timeout
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.cache: dict[ObjectKey, KubeObject] = {}
        self.synced = asyncio.Event()
        self.unserved = asyncio.Event()
        """Set when the server answered 404 to the list: it does not serve the resource (yet)."""
        self.resource_version = ""
        self.lists = 0
        self.last_error: str | None = None
        self._handlers: list[Handler] = []
        self._indexers: dict[str, IndexFunc] = {}
        self._indexes: dict[str, dict[str, set[ObjectKey]]] = {}
        self._value_handlers: dict[str, dict[str, list[Handler]]] = {}
        self._task: asyncio.Task[None] | None = None

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def add_index(self, name: str, func: IndexFunc) -> None:
        """Index the cache by `func` (add before `start`); read with `by_index`."""
        self._indexers[name] = func
        index = self._indexes[name] = {}
        for key, obj in self.cache.items():
            for value in func(obj):
                index.setdefault(value, set()).add(key)

    def by_index(self, name: str, value: str) -> list[KubeObject]:
        """The cached objects `name`'s function maps to `value` (client-go's `ByIndex`)."""
        keys = self._indexes[name].get(value, ())
        return [self.cache[key] for key in sorted(keys) if key in self.cache]

    def index_keys(self, name: str, value: str) -> AbstractSet[ObjectKey]:
        """The keys of the cached objects `name`'s function maps to `value`, unsorted: for a
        count or a membership test that need not read (and sort) the objects. The index's own
        set, not a copy: read it before the cache changes again."""
        return self._indexes[name].get(value, frozenset())

    def view(self, index: str, value: str) -> IndexView:
        """The cached objects `index`'s function maps to `value`, read and heard apart from the
        rest: many readers (one per target) share one watch and one cache."""
        return IndexView(self, index, value)

    def indexed_as(self, index: str, value: str, key: ObjectKey) -> bool:
        """Whether the cached object under `key` is indexed under `value` (a set lookup: the
        index follows every change of the cache)."""
        return key in self._indexes[index].get(value, ())

    def add_value_handler(self, index: str, value: str, handler: Handler) -> None:
        """Call `handler` for events of objects `index` maps (or mapped) to `value`: each event
        is dispatched by its values, so a thousand of these cost a dictionary lookup, not a
        thousand filters."""
        self._value_handlers.setdefault(index, {}).setdefault(value, []).append(handler)

    def _reindex(self, key: ObjectKey, old: KubeObject | None, new: KubeObject | None) -> None:
        for name, func in self._indexers.items():
            index = self._indexes[name]
            for value in func(old) if old is not None else ():
                holders = index.get(value)
                if holders is not None:
                    holders.discard(key)
                    if not holders:
                        del index[value]
            for value in func(new) if new is not None else ():
                index.setdefault(value, set()).add(key)

    def get(self, namespace: str, name: str) -> KubeObject | None:
        return self.cache.get((namespace, name))

    def objects(self) -> Iterator[KubeObject]:
        return iter(list(self.cache.values()))

    def _notify(self, change: Change, obj: KubeObject, old: KubeObject | None) -> None:
        handlers = list(self._handlers)
        for index, by_value in self._value_handlers.items():
            func = self._indexers[index]
            values = {*func(obj), *(func(old) if old is not None else ())}
            for value in values:
                handlers.extend(by_value.get(value, ()))
        for handler in handlers:
            try:
                handler(change, obj, old)
            except Exception:
                log.exception("%s: event handler failed on %s", self.name, change)

    async def _list(self) -> None:
        listing = await self.client.list(
            self.resource, self.namespace, label_selector=self.label_selector
        )
        self.lists += 1
        typed = {"apiVersion": self.resource.api_version, "kind": self.resource.kind}
        # A real server lists built-in types' items without apiVersion and kind.
        items = [{**typed, **item} for item in listing.get("items") or []]
        fresh = {self.key(item): item for item in items}
        previous = self.cache
        self.cache = fresh
        for name in self._indexers:
            self._indexes[name] = {}
        for key, obj in fresh.items():
            self._reindex(key, None, obj)
        self.resource_version = str(listing["metadata"].get("resourceVersion", ""))
        for key, obj in previous.items():
            if key not in fresh:
                self._notify(Change.DELETED, obj, None)
        for key, obj in fresh.items():
            old = previous.get(key)
            if old is None:
                self._notify(Change.ADDED, obj, None)
            elif old["metadata"].get("resourceVersion") != obj["metadata"].get("resourceVersion"):
                self._notify(Change.MODIFIED, obj, old)

    def _apply(self, event: KubeObject) -> None:
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise Gone(obj.get("message", "too old resource version"))
            raise ApiError(int(obj.get("code") or 500), str(obj.get("reason", "")), str(obj))
        version = obj.get("metadata", {}).get("resourceVersion")
        if kind == "BOOKMARK":
            if version:
                self.resource_version = str(version)
            return
        key = self.key(obj)
        if kind == "DELETED":
            old = self.cache.pop(key, None)
            self._reindex(key, old, None)
            self._notify(Change.DELETED, obj, old)
        elif kind in (Change.ADDED, Change.MODIFIED):
            old = self.cache.get(key)
            self.cache[key] = obj
            self._reindex(key, old, obj)
            self._notify(Change.ADDED if old is None else Change.MODIFIED, obj, old)
        if version:
            self.resource_version = str(version)

    async def _watch(self) -> None:
        async for event in self.client.watch(
            self.resource,
            self.resource_version,
            self.namespace,
            label_selector=self.label_selector,
            timeout_seconds=self.watch_timeout,
        ):
            self._apply(event)

    async def run(self) -> None:
        """List and watch until cancelled."""
        delay = self.retry_initial
        must_list = True
        while True:
            try:
                if must_list:
                    await self._list()
                    must_list = False
                    self.last_error = None
                    self.unserved.clear()
                    self.synced.set()
                await self._watch()
                delay = self.retry_initial
            except Gone as gone:
                log.info("%s: watch expired (%s), listing again", self.name, gone)
                must_list = True
            except ApiError as error:
                # 504 Too large resource version: the server never reached ours (its
                # store was reset); only a list resynchronises.
                must_list = must_list or error.status in (410, 504)
                self.last_error = str(error)
                if must_list and error.not_found:
                    self.unserved.set()
                log.warning("%s: %s; retrying in %.1fs", self.name, error, delay)
                await asyncio.sleep(delay)
                delay = min(self.retry_max, delay * 2)
            except UNREACHABLE as error:
                log.warning(
                    "%s: watch broken (%s); resuming in %.1fs",
                    self.name,
                    type(error).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(self.retry_max, delay * 2)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"reflector {self.name}")

    async def wait_synced(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self.synced.wait(), timeout)

    async def wait_listed_or_unserved(self, timeout: float | None = None) -> None:
        """Synced, or told by the server that it does not serve the resource."""
        waits = [
            asyncio.ensure_future(self.synced.wait()),
            asyncio.ensure_future(self.unserved.wait()),
        ]
        try:
            done, _ = await asyncio.wait(
                waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waits:
                waiter.cancel()
        if not done:
            raise TimeoutError(f"{self.name} did not sync in {timeout}s")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class IndexView:
    """One index value's part of a reflector's cache (a `Cache`); no copy, no watch of its own."""

    def __init__(self, reflector: Reflector, index: str, value: str) -> None:
        self.reflector = reflector
        self.index = index
        self.value = value

    def get(self, namespace: str, name: str) -> KubeObject | None:
        if not self.reflector.indexed_as(self.index, self.value, (namespace, name)):
            return None
        return self.reflector.get(namespace, name)

    def objects(self) -> Iterator[KubeObject]:
        return iter(self.reflector.by_index(self.index, self.value))

    def add_handler(self, handler: Handler) -> None:
        self.reflector.add_value_handler(self.index, self.value, handler)
