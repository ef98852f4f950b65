"""The SQLite store (WAL mode): objects and the event log survive a restart of the server.

Like kine, the log is a table whose integer key is the revision and each row remembers the
revision it replaced; a second table holds each object's current value, what a restarted server
loads. The server is the only writer, so everything it reads is in memory: the current objects,
decoded, in the memory store's index by key and by label (a selected list costs what it
returns), read without a query or a decode, and live watches are fed in-process; the log table
is read only to resume a watch from an older revision.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from pytest_syncer.apiserver.store import (
    CompactedError,
    EventType,
    KeyExistsError,
    KeyNotFoundError,
    LabelTerm,
    ObjectKey,
    RevisionConflictError,
    Store,
    StoreFailedError,
    WatchEvent,
    revision_of,
    set_revision,
)
from pytest_syncer.apiserver.store.index import ObjectIndex

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    resource TEXT NOT NULL,
    cluster TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (resource, cluster, namespace, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    revision INTEGER PRIMARY KEY AUTOINCREMENT,
    resource TEXT NOT NULL,
    cluster TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    value BLOB NOT NULL,
    prev_revision INTEGER,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_resource ON events (resource, revision);
CREATE INDEX IF NOT EXISTS events_by_time ON events (created);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

#: The label table earlier versions kept: the label index is in memory now. Dropped, and its
#: "filled" mark with it, so an earlier version opening this database fills it again.
_FORMER_LABELS = """
DROP TABLE IF EXISTS labels;
DELETE FROM meta WHERE key = 'labels_indexed';
"""

DATABASE_FILE = "store.sqlite"

logger = logging.getLogger(__name__)


class SQLiteStore(Store):
    """Objects and events in one SQLite database in WAL mode (``synchronous=OFF``).

    Every write runs on the server's event loop, so the time SQLite waits on the disk stalls
    every request: with ``OFF`` a commit hands the WAL to the operating system without waiting
    (0.38 ms -> 0.10 ms of wall time per write here at load 8, for 0.08 -> 0.06 ms of CPU). A
    killed server loses nothing committed (its restart and fault tests kill the process); only
    an operating system crash could, and a test environment does not outlive one. Reads never
    touch SQLite: the current objects are also kept decoded in memory, indexed as the memory
    store indexes them.

    Group commit: the writes of one event-loop iteration share one transaction, committed by a
    callback the first of them schedules (a commit and its WAL pages cost as much as the two
    statements of a write). Until then a write is applied in memory and announced to listeners
    but not acknowledged: the server awaits :meth:`pending_commit` before any answer or watch
    event leaves, so a server killed at any moment has kept every write a client was told of.
    Without a running loop (a script, a unit test) each write commits at once.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.executescript(_SCHEMA)
        self._db.executescript(_FORMER_LABELS)
        sequence = self._db.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'events'"
        ).fetchone()
        self._revision = int(sequence[0]) if sequence else 0
        #: Transactions committed since opening (a batch is one, a loop iteration's writes one).
        self.commits = 0
        self._batching = False
        self._in_transaction = False
        #: Resolved by the next commit; created only when an answer waits for one.
        self._commit_waiter: asyncio.Future[None] | None = None
        self._failure: StoreFailedError | None = None
        self._compacted = self._meta("compacted")
        self._index = ObjectIndex()
        rows = self._db.execute("SELECT resource, cluster, namespace, name, value FROM objects")
        for resource, cluster, namespace, name, raw in rows.fetchall():
            self._index.put(ObjectKey(resource, cluster, namespace, name), orjson.loads(raw))

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

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

    def _write(
        self,
        event_type: EventType,
        key: ObjectKey,
        obj: dict[str, Any],
        previous: dict[str, Any] | None,
    ) -> WatchEvent:
        revision = self._revision + 1
        set_revision(obj, revision)
        raw = orjson.dumps(obj)
        now = time.time()
        prev_revision = None if previous is None else revision_of(previous)
        with self._statements():
            self._db.execute(
                "INSERT INTO events (revision, resource, cluster, namespace, name, type, value,"
                " prev_revision, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (revision, *key, event_type, raw, prev_revision, now),
            )
            if event_type == "DELETED":
                self._db.execute(
                    "DELETE FROM objects "
                    "WHERE resource = ? AND cluster = ? AND namespace = ? AND name = ?",
                    key,
                )
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?)",
                    (*key, revision, raw),
                )
        self._revision = revision
        if event_type == "DELETED":
            self._index.remove(key)
        else:
            self._index.put(key, obj)
        event = WatchEvent(event_type, revision, key, obj, previous, raw=raw, at=now)
        self._notify(event)
        return event

    @contextlib.contextmanager
    def _statements(self) -> Iterator[None]:
        """Run one write's statements in the open transaction, or in a new one whose commit is
        scheduled. A failure in a transaction of its own rolls it back and loses nothing; one
        that joined other writes (already applied in memory) leaves the store failed."""
        if self._failure is not None:
            raise self._failure
        opened = not self._in_transaction
        if opened:
            self._db.execute("BEGIN")
            self._in_transaction = True
        try:
            yield
        except BaseException as exc:
            if opened:
                self._rollback()
            else:
                self._fail(exc)
            raise
        if opened and not self._batching:
            self._schedule_commit()

    def _schedule_commit(self) -> None:
        """Commit at the end of this loop iteration's callbacks, or now without a loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._commit()
            return
        loop.call_soon(self._commit)

    def _commit(self) -> None:
        """Commit the open transaction (not while a batch holds it) and wake its waiters."""
        if not self._in_transaction or self._batching or self._failure is not None:
            return
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._fail(exc)
            return
        self._in_transaction = False
        self.commits += 1
        self._answer_waiter()

    def _rollback(self) -> None:
        self._in_transaction = False
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _fail(self, exc: BaseException) -> None:
        """Writes applied in memory can no longer be committed: refuse every later write and
        acknowledge none (the server answers 500); a restart reads what was committed."""
        logger.error("the store failed to commit; it takes no more writes: %s", exc)
        self._failure = StoreFailedError(f"the store failed to commit: {exc}")
        self._rollback()
        self._answer_waiter(self._failure)

    def _answer_waiter(self, failure: StoreFailedError | None = None) -> None:
        """Tell what awaits the open transaction's commit that it is done, or failed."""
        waiter, self._commit_waiter = self._commit_waiter, None
        if waiter is None or waiter.done():
            return
        if failure is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(failure)

    def pending_commit(self) -> asyncio.Future[None] | None:
        if self._failure is not None:
            raise self._failure
        if not self._in_transaction:
            return None
        if self._commit_waiter is None:
            self._commit_waiter = asyncio.get_running_loop().create_future()
        return self._commit_waiter

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for every write inside: at start-up, where the bootstrap objects of
        1000 clusters are ~64000 writes, their commits cost a quarter of the start. Writes are
        indexed and announced as they happen, so a failure inside must end the server (it
        does: start-up fails), not carry on."""
        if self._batching:
            yield
            return
        if self._in_transaction:
            self._commit()
        self._batching = True
        try:
            yield
        except BaseException:
            self._batching = False
            self._rollback()
            raise
        self._batching = False
        self._commit()

    def create(self, key: ObjectKey, obj: dict[str, Any]) -> WatchEvent:
        if self._index.get(key) is not None:
            raise KeyExistsError(key, f"{key} already exists")
        return self._write("ADDED", key, obj, None)

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
        return self._write("MODIFIED", key, obj, current)

    def delete(self, key: ObjectKey, *, expected_revision: int | None = None) -> WatchEvent:
        current = self._existing(key, expected_revision)
        final = {**current, "metadata": dict(current["metadata"])}
        return self._write("DELETED", key, final, current)

    def events_since(self, resource: str, revision: int) -> list[WatchEvent]:
        if revision < self._compacted:
            raise CompactedError(revision, self._compacted)
        rows = self._db.execute(
            "SELECT e.revision, e.cluster, e.namespace, e.name, e.type, e.value, e.created,"
            " p.value FROM events e LEFT JOIN events p ON p.revision = e.prev_revision"
            " WHERE e.resource = ? AND e.revision > ? ORDER BY e.revision",
            (resource, revision),
        )
        events = []
        for rev, cluster, namespace, name, event_type, raw, created, previous in rows:
            key = ObjectKey(resource, cluster, namespace, name)
            old = None if previous is None else orjson.loads(previous)
            events.append(
                WatchEvent(event_type, rev, key, orjson.loads(raw), old, raw=bytes(raw), at=created)
            )
        return events

    def compact(self, older_than: float) -> int:
        row = self._db.execute(
            "SELECT max(revision), count(*) FROM events WHERE created < ?", (older_than,)
        ).fetchone()
        if not row or row[0] is None:
            return 0
        newest, count = int(row[0]), int(row[1])
        with self._statements():
            self._db.execute("DELETE FROM events WHERE revision <= ?", (newest,))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('compacted', ?)", (newest,))
        self._compacted = max(self._compacted, newest)
        return count

    def close(self) -> None:
        self._commit()
        self._listeners.clear()
        self._db.close()
