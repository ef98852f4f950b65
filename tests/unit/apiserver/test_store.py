"""One suite, both stores: the in-memory one and SQLite in WAL mode."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_syncer.apiserver.store import (
    CompactedError,
    KeyExistsError,
    KeyNotFoundError,
    ObjectKey,
    RevisionConflictError,
    Store,
    StoreFailedError,
    WatchEvent,
)
from pytest_syncer.apiserver.store.memory import MemoryStore
from pytest_syncer.apiserver.store.sqlite import SQLiteStore

PODS = "core/pods"


def _key(name: str, namespace: str = "default", cluster: str = "c1") -> ObjectKey:
    return ObjectKey(PODS, cluster, namespace, name)


def _obj(name: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"name": name}, **extra}


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "db")
    yield opened
    opened.close()


def test_revisions_are_global_and_become_resource_versions(store: Store) -> None:
    first = store.create(_key("a"), _obj("a"))
    second = store.create(ObjectKey("apps/deployments", "c2", "ns", "d"), _obj("d"))
    assert (first.revision, second.revision) == (1, 2)
    assert store.revision == 2
    fetched = store.get(_key("a"))
    assert fetched is not None
    assert fetched["metadata"]["resourceVersion"] == "1"


def test_create_twice_is_refused(store: Store) -> None:
    store.create(_key("a"), _obj("a"))
    with pytest.raises(KeyExistsError):
        store.create(_key("a"), _obj("a"))
    assert store.revision == 1


def test_update_checks_the_expected_revision(store: Store) -> None:
    store.create(_key("a"), _obj("a"))
    with pytest.raises(RevisionConflictError):
        store.update(_key("a"), _obj("a", spec=1), expected_revision=7)
    event = store.update(_key("a"), _obj("a", spec=2), expected_revision=1)
    assert event.type == "MODIFIED"
    assert event.previous is not None
    assert "spec" not in event.previous
    with pytest.raises(KeyNotFoundError):
        store.update(_key("missing"), _obj("missing"))


def test_delete_emits_the_object_at_the_deletion_revision(store: Store) -> None:
    store.create(_key("a"), _obj("a"))
    event = store.delete(_key("a"))
    assert event.type == "DELETED"
    assert event.object["metadata"]["resourceVersion"] == "2"
    assert store.get(_key("a")) is None
    with pytest.raises(KeyNotFoundError):
        store.delete(_key("a"))


def test_list_is_indexed_by_cluster_and_namespace(store: Store) -> None:
    for cluster, namespace, name in [
        ("c2", "b", "x"),
        ("c1", "b", "y"),
        ("c1", "a", "z"),
        ("c1", "a", "w"),
    ]:
        store.create(_key(name, namespace, cluster), _obj(name))
    store.create(ObjectKey("core/configmaps", "c1", "a", "other"), _obj("other"))

    def names(cluster: str | None = None, namespace: str | None = None) -> list[str]:
        return [o["metadata"]["name"] for o in store.list_objects(PODS, cluster, namespace)]

    assert names() == ["w", "z", "y", "x"]
    assert names("c1") == ["w", "z", "y"]
    assert names("c1", "a") == ["w", "z"]
    assert names(None, "b") == ["y", "x"]
    assert names("c3") == []


def test_events_since_returns_only_later_events_of_the_resource(store: Store) -> None:
    store.create(_key("a"), _obj("a"))
    store.create(ObjectKey("core/configmaps", "c1", "default", "cm"), _obj("cm"))
    store.update(_key("a"), _obj("a", spec=1))
    store.delete(_key("a"))
    events = store.events_since(PODS, 1)
    assert [(e.type, e.revision) for e in events] == [("MODIFIED", 3), ("DELETED", 4)]
    assert events[0].previous is not None
    assert store.events_since(PODS, 4) == []
    assert b'"type":"DELETED"' in events[1].line


def test_compaction_expires_old_revisions(store: Store) -> None:
    store.create(_key("a"), _obj("a"))
    store.create(_key("b"), _obj("b"))
    removed = store.compact(time.time() + 1)
    assert removed == 2
    assert store.compacted == 2
    with pytest.raises(CompactedError):
        store.events_since(PODS, 1)
    assert store.events_since(PODS, 2) == []
    store.create(_key("c"), _obj("c"))
    assert [e.revision for e in store.events_since(PODS, 2)] == [3]
    assert store.get(_key("a")) is not None


def test_listeners_hear_every_write_in_order(store: Store) -> None:
    heard: list[WatchEvent] = []
    store.add_listener(heard.append)
    store.create(_key("a"), _obj("a"))
    store.update(_key("a"), _obj("a", spec=1))
    store.delete(_key("a"))
    assert [(e.type, e.revision) for e in heard] == [("ADDED", 1), ("MODIFIED", 2), ("DELETED", 3)]


def test_sqlite_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    first = SQLiteStore(path)
    first.create(_key("a"), _obj("a"))
    first.create(_key("b"), _obj("b"))
    first.delete(_key("b"))
    first.close()
    second = SQLiteStore(path)
    try:
        assert second.revision == 3
        assert [o["metadata"]["name"] for o in second.list_objects(PODS)] == ["a"]
        assert [e.type for e in second.events_since(PODS, 1)] == ["ADDED", "DELETED"]
        assert second.create(_key("c"), _obj("c")).revision == 4
        assert second.compact(time.time() + 1) == 4
    finally:
        second.close()
    third = SQLiteStore(path)
    try:
        assert (third.revision, third.compacted) == (4, 4)
    finally:
        third.close()


def test_sqlite_commits_a_loop_iterations_writes_together(tmp_path: Path) -> None:
    """Group commit: writes of one loop iteration share a transaction, and what an answer
    awaits (``pending_commit``) resolves only once they are committed."""
    store = SQLiteStore(tmp_path / "db")

    async def write() -> tuple[int, bool, int]:
        for name in "abc":
            store.create(_key(name), _obj(name))
        pending = store.pending_commit()
        assert pending is not None
        assert not pending.done()
        commits_before = store.commits
        await pending
        return commits_before, store.pending_commit() is None, store.commits

    try:
        assert asyncio.run(write()) == (0, True, 1)
    finally:
        store.close()
    reopened = SQLiteStore(tmp_path / "db")
    try:
        assert [o["metadata"]["name"] for o in reopened.list_objects(PODS)] == ["a", "b", "c"]
    finally:
        reopened.close()


def test_a_write_failing_inside_a_shared_transaction_fails_the_store(tmp_path: Path) -> None:
    """The group's earlier writes are applied in memory but can no longer commit: the store
    refuses later writes and acknowledges none (etcd stops when its backend cannot commit);
    a restart has none of them. The database is kept from growing (``max_page_count``) so the
    second write of the transaction finds it full."""
    store = SQLiteStore(tmp_path / "db")

    async def write() -> None:
        store.create(_key("small"), _obj("small"))
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(sqlite3.DatabaseError):
            store.create(_key("big"), _obj("big", spec={"blob": "x" * 200_000}))
        with pytest.raises(StoreFailedError):
            store.pending_commit()
        with pytest.raises(StoreFailedError):
            store.create(_key("later"), _obj("later"))

    try:
        asyncio.run(write())
    finally:
        store.close()
    reopened = SQLiteStore(tmp_path / "db")
    try:
        assert reopened.list_objects(PODS) == []
        assert reopened.revision == 0
    finally:
        reopened.close()


operations = st.lists(
    st.tuples(st.sampled_from(["create", "update", "delete"]), st.sampled_from("abc")),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(operations)
def test_both_stores_agree_on_any_sequence_of_writes(ops: list[tuple[str, str]]) -> None:
    """The same writes give the same objects, revisions and event log in both stores."""
    memory = MemoryStore()
    sqlite = SQLiteStore(Path(":memory:"))
    try:
        outcomes = []
        for target in (memory, sqlite):
            results: list[tuple[str, int, dict[str, Any]]] = []
            for op, name in ops:
                try:
                    if op == "create":
                        event = target.create(_key(name), _obj(name))
                    elif op == "update":
                        event = target.update(_key(name), _obj(name, spec=len(results)))
                    else:
                        event = target.delete(_key(name))
                    results.append((event.type, event.revision, event.object))
                except (KeyExistsError, KeyNotFoundError) as exc:
                    results.append((type(exc).__name__, 0, {}))
            log = [(e.type, e.revision, e.object) for e in target.events_since(PODS, 0)]
            outcomes.append((results, target.list_objects(PODS), log, target.revision))
        assert outcomes[0] == outcomes[1]
    finally:
        memory.close()
        sqlite.close()
