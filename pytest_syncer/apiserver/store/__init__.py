"""The object store behind the API server: one interface, an in-memory and a SQLite implementation.

Modelled on kine (etcd over SQL): one global revision counter numbers every write and is the
objects' ``resourceVersion``; every write appends an event to a log that watches read from a
revision onwards; events older than the retention window are compacted away, and a watch from
before the compaction point is told its resourceVersion is too old (410 Expired).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, NamedTuple

import orjson

EventType = Literal["ADDED", "MODIFIED", "DELETED"]


class ObjectKey(NamedTuple):
    """Where an object lives: resource (``group/resource``), logical cluster, namespace, name.

    ``namespace`` is ``""`` for cluster-scoped objects.
    """

    resource: str
    cluster: str
    namespace: str
    name: str


LabelTerm = tuple[str, tuple[str, ...] | None]
"""A label an object must carry: the key, with one of the values, or with any (``None``)."""


class StoreError(Exception):
    """A store precondition failed; the server turns it into a Kubernetes Status."""

    def __init__(self, key: ObjectKey, message: str) -> None:
        super().__init__(message)
        self.key = key


class KeyExistsError(StoreError):
    pass


class KeyNotFoundError(StoreError):
    pass


class RevisionConflictError(StoreError):
    pass


class StoreFailedError(Exception):
    """The store could not commit writes it had already applied in memory: it takes no more
    writes and acknowledges none, as etcd stops when its backend cannot commit."""


class CompactedError(Exception):
    """The requested revision is older than the oldest event the log still holds."""

    def __init__(self, revision: int, compacted: int) -> None:
        super().__init__(f"revision {revision} is compacted (compaction point {compacted})")
        self.revision = revision
        self.compacted = compacted


class WatchEvent:
    """One committed write. Its wire form is encoded once, however many watchers receive it."""

    __slots__ = ("_line", "_raw", "key", "object", "previous", "revision", "time", "type")

    def __init__(
        self,
        type: EventType,
        revision: int,
        key: ObjectKey,
        obj: dict[str, Any],
        previous: dict[str, Any] | None,
        *,
        raw: bytes | None = None,
        at: float | None = None,
    ) -> None:
        self.type = type
        self.revision = revision
        self.key = key
        self.object = obj
        self.previous = previous
        self.time = time.time() if at is None else at
        self._raw = raw
        self._line: bytes | None = None

    @property
    def raw_object(self) -> bytes:
        if self._raw is None:
            self._raw = orjson.dumps(self.object)
        return self._raw

    @property
    def line(self) -> bytes:
        """The newline-terminated watch event, as every watcher of this type receives it."""
        if self._line is None:
            self._line = encode_event_line(self.type, self.raw_object)
        return self._line

    def __repr__(self) -> str:
        return f"WatchEvent({self.type} {self.key} rv={self.revision})"


def encode_event_line(event_type: str, raw_object: bytes) -> bytes:
    return b'{"type":"' + event_type.encode() + b'","object":' + raw_object + b"}\n"


Listener = Callable[[WatchEvent], None]


def set_revision(obj: dict[str, Any], revision: int) -> None:
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)


def revision_of(obj: dict[str, Any]) -> int:
    """The revision a stored object was written at (:func:`set_revision` put it there)."""
    return int(obj["metadata"]["resourceVersion"])


class Store(abc.ABC):
    """Objects by key plus the revisioned event log; listeners hear every committed write.

    The store takes ownership of the dicts passed to it and hands out dicts that callers must
    not mutate (copy first): that keeps the hot path free of copies.
    """

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        #: Kept by each store's writes (and by its compaction); read through the properties.
        self._revision = 0
        self._compacted = 0

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, event: WatchEvent) -> None:
        for listener in self._listeners:
            listener(event)

    @property
    def revision(self) -> int:
        """The newest revision handed out (0 for an empty store)."""
        return self._revision

    @property
    def compacted(self) -> int:
        """Events up to this revision are gone; watches must start at or after it."""
        return self._compacted

    @abc.abstractmethod
    def get(self, key: ObjectKey) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    def list_objects(
        self,
        resource: str,
        cluster: str | None = None,
        namespace: str | None = None,
        labels: Sequence[LabelTerm] = (),
    ) -> list[dict[str, Any]]:
        """Objects of ``resource`` ordered by (cluster, namespace, name); ``None`` means all.

        Only objects meeting every label term are returned, found through a label index so
        that objects the terms drop are neither read nor decoded.
        """

    @abc.abstractmethod
    def all_objects(self) -> Iterator[tuple[ObjectKey, dict[str, Any]]]:
        """Every object with its key, in no particular order: what fills a watch cache."""

    @abc.abstractmethod
    def create(self, key: ObjectKey, obj: dict[str, Any]) -> WatchEvent:
        """Store a new object; raises KeyExistsError."""

    @abc.abstractmethod
    def update(
        self, key: ObjectKey, obj: dict[str, Any], *, expected_revision: int | None = None
    ) -> WatchEvent:
        """Replace an object; raises KeyNotFoundError, or RevisionConflictError when stale."""

    @abc.abstractmethod
    def delete(self, key: ObjectKey, *, expected_revision: int | None = None) -> WatchEvent:
        """Remove an object; the DELETED event carries it with the deletion's revision."""

    @abc.abstractmethod
    def events_since(self, resource: str, revision: int) -> list[WatchEvent]:
        """Events of ``resource`` after ``revision``; raises CompactedError when too old."""

    @abc.abstractmethod
    def compact(self, older_than: float) -> int:
        """Drop events written before the ``older_than`` epoch time; return how many."""

    @abc.abstractmethod
    def close(self) -> None: ...

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Writes inside commit together (a store on disk: one transaction, not one each);
        for the bootstrap objects of every cluster at start-up. A memory store has nothing
        to commit."""
        yield

    def pending_commit(self) -> asyncio.Future[None] | None:
        """What to await before answering: the commit of the writes made so far, or None when
        every write is committed (a memory store commits nothing). Raises StoreFailedError
        once a commit has failed."""
        return None


async def committed(store: Store) -> None:
    """Return once every write so far is committed: an answer or a watch event sent before
    could tell a client of a write that a killed server then forgets."""
    pending = store.pending_commit()
    if pending is not None:
        await pending
