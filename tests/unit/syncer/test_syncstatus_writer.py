"""The SyncStatus writer's bookkeeping holds nothing of workloads that came and went.

Its sets (`_unseen`: created here, not cached yet; `_gone`: deleted here, deletion not cached
yet; `_woken`: this target's SyncStatus was a workload's last) used to keep an entry per
workload forever once the cache had answered, or when a watch event came before the write's
answer. The caches here are real reflectors fed watch events in the orders a server can send
them; the client answers as a server does (a create returns the object with a uid).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from pytest_syncer.contract.objects import KubeObject, SyncTarget
from pytest_syncer.kubeclient.client import SYNC_STATUSES, Resource
from pytest_syncer.kubeclient.reflector import Reflector
from pytest_syncer.syncer.engine.syncstatus import SyncStatusWriter
from pytest_syncer.syncer.engine.upstream import SharedUpstream

CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
TARGET = SyncTarget("t1", "root", "target-uid")


class Server:
    """Answers creates and deletes, and keeps what it answered to feed the watches."""

    def __init__(self) -> None:
        self.versions = itertools.count(1)
        self.created: list[KubeObject] = []
        self.deleted: list[str] = []
        self.before_answer: Reflector | None = None
        """When set, the watch event of a write reaches this cache before the write's answer."""

    async def create(self, resource: Resource, obj: KubeObject) -> KubeObject:
        version = next(self.versions)
        metadata = {**obj["metadata"], "uid": f"uid-{version}", "resourceVersion": str(version)}
        created = {**obj, "metadata": metadata}
        self.created.append(created)
        if self.before_answer is not None:
            self.before_answer._apply({"type": "ADDED", "object": created})
        return created

    async def delete(self, resource: Resource, name: str, namespace: str) -> KubeObject:
        self.deleted.append(name)
        gone = next(obj for obj in reversed(self.created) if obj["metadata"]["name"] == name)
        if self.before_answer is not None:
            self.before_answer._apply({"type": "DELETED", "object": gone})
        return {"kind": "Status", "status": "Success"}


def _workload(name: str, uid: str) -> KubeObject:
    return {"metadata": {"name": name, "namespace": "ns", "uid": uid}}


def _writer(server: Server) -> tuple[SyncStatusWriter, Reflector, SharedUpstream, set[Any]]:
    client: Any = server
    cache = Reflector(client, SYNC_STATUSES)
    shared = SharedUpstream(client, [CONFIGMAPS], "root", ["t1", "t2"])
    woken: set[tuple[str, str]] = set()
    writer = SyncStatusWriter(client, cache, TARGET, shared, woken)
    return writer, cache, shared, woken


async def test_nothing_is_kept_of_a_workload_once_the_cache_saw_it_come_and_go() -> None:
    server = Server()
    writer, cache, _, _ = _writer(server)
    for index in range(20):
        workload = _workload(f"w{index}", f"wu{index}")
        assert await writer.ensure(CONFIGMAPS, workload)
        cache._apply({"type": "ADDED", "object": server.created[-1]})
        await writer.delete(CONFIGMAPS, "ns", f"w{index}")
        cache._apply({"type": "DELETED", "object": server.created[-1]})
    assert len(server.deleted) == 20
    assert (writer._unseen, writer._gone) == (set(), set())


async def test_nothing_is_kept_when_the_watch_event_comes_before_the_answer() -> None:
    server = Server()
    writer, cache, _, _ = _writer(server)
    server.before_answer = cache
    for index in range(20):
        assert await writer.ensure(CONFIGMAPS, _workload(f"w{index}", f"wu{index}"))
        await writer.delete(CONFIGMAPS, "ns", f"w{index}")
    assert len(server.deleted) == 20
    assert (writer._unseen, writer._gone) == (set(), set())


async def test_a_status_created_but_not_cached_yet_is_still_deleted_once() -> None:
    server = Server()
    writer = _writer(server)[0]
    assert await writer.ensure(CONFIGMAPS, _workload("w", "wu"))
    await writer.delete(CONFIGMAPS, "ns", "w")
    await writer.delete(CONFIGMAPS, "ns", "w")
    assert server.deleted == [writer.record_name(CONFIGMAPS, "ns", "w")]
    assert writer._unseen == set()


async def test_a_wake_is_forgotten_when_its_workload_leaves_the_upstream_cache() -> None:
    server = Server()
    _, _, shared, woken = _writer(server)
    upstream = shared.reflectors[CONFIGMAPS.qualified_name]
    for index in range(20):
        workload = {**_workload(f"w{index}", f"wu{index}"), "kind": "ConfigMap"}
        workload["metadata"]["resourceVersion"] = str(index + 1)
        upstream._apply({"type": "ADDED", "object": workload})
        woken.add(("ns", f"wu{index}"))
        upstream._apply({"type": "DELETED", "object": workload})
    assert woken == set()


async def test_a_wake_outlives_a_list_that_failed_and_ends_with_one_that_answered() -> None:
    """The wake comes once (the deletion that left the process none): a list that fails must
    leave it, or the retried reconcile would never release the shared finalizer."""

    class Listing(Server):
        def __init__(self) -> None:
            super().__init__()
            self.answers: list[KubeObject | Exception] = [
                TimeoutError(),
                {"items": [], "metadata": {}},
            ]

        async def list(self, resource: Resource, namespace: str, **_: Any) -> KubeObject:
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

    writer, _, shared, woken = _writer(Listing())
    shared._seen.add("wu")
    woken.add(("ns", "wu"))
    assert writer.last_out("ns", "wu")
    with pytest.raises(TimeoutError):
        await writer.remaining("ns", "wu")
    assert writer.last_out("ns", "wu")
    assert await writer.remaining("ns", "wu") == 0
    assert not writer.last_out("ns", "wu")
