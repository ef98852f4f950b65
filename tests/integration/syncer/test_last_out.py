"""Who releases the shared finalizer when each process sees only its own targets' SyncStatus.

Two syncer processes' upstream halves against a real API server: `A` pools targets a1 and a2
(a set-based selector), `B` serves b1 alone (the equality selector). Each process's cache holds
its own targets' SyncStatus objects only, so its last one out is woken by its own cache and
confirms with a fresh list of every process's. Whatever the order of the deletions and the
lists, the process that lists last sees none left: each deletes before it lists.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.contract.objects import KubeObject, SyncTarget
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import NAMESPACES, KubeClient
from pytest_syncer.syncer.engine.settings import KNOWN_RESOURCES
from pytest_syncer.syncer.engine.syncstatus import SyncStatusWriter
from pytest_syncer.syncer.engine.upstream import SharedUpstream, target_key
from tests.integration.syncer.environment import UPSTREAM
from tests.integration.syncer.workloads import namespace, workload

CONFIGMAPS = KNOWN_RESOURCES["configmaps"]
NS = "last-out"


@dataclass
class Target:
    writer: SyncStatusWriter
    woken: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Process:
    shared: SharedUpstream
    targets: dict[str, Target]


def _waker(woken: set[tuple[str, str]]) -> Callable[[str, str, KubeObject], None]:
    """What the engine's wake does first (`TargetSyncer._last_status_gone`): remember it."""

    def wake(namespace: str, uid: str, status: KubeObject) -> None:
        woken.add((namespace, uid))

    return wake


def _process(client: KubeClient, names: list[str]) -> Process:
    shared = SharedUpstream(client, [CONFIGMAPS], UPSTREAM, names)
    targets = {}
    for name in names:
        sync_target = SyncTarget(name, UPSTREAM, f"uid-{name}")
        woken: set[tuple[str, str]] = set()
        writer = SyncStatusWriter(
            client, shared.target_statuses(sync_target.key), sync_target, shared, woken
        )
        shared.on_last_status(sync_target.key, _waker(woken))
        targets[name] = Target(writer, woken)
    return Process(shared, targets)


@pytest.fixture
async def processes(apiserver: BackgroundAPIServer) -> AsyncIterator[tuple[Process, Process]]:
    async with await KubeClient.from_kubeconfig(apiserver.kubeconfigs[UPSTREAM]) as client:
        if await client.get_or_none(NAMESPACES, NS) is None:
            await client.create(NAMESPACES, namespace(NS))
        a, b = _process(client, ["a1", "a2"]), _process(client, ["b1"])
        for process in (a, b):
            await process.shared.start()
            await process.shared.statuses.wait_synced(30)
        try:
            yield a, b
        finally:
            for process in (a, b):
                await process.shared.stop()


async def _placed_everywhere(processes: tuple[Process, Process], name: str) -> KubeObject:
    """A ConfigMap with a SyncStatus from each of the three targets, seen by its own cache."""
    a, b = processes
    client = a.shared.statuses.client
    obj = await client.create(CONFIGMAPS, workload("configmaps", NS, name, {}))
    for process in (a, b):
        for target in process.targets.values():
            assert await target.writer.ensure(CONFIGMAPS, obj)

    async def held() -> list[int]:
        uid = obj["metadata"]["uid"]
        return [a.shared.remaining(NS, uid), b.shared.remaining(NS, uid)]

    await await_until(held, lambda counts: counts == [2, 1], what=f"{name}: A holds 2, B 1")
    return obj


async def _woken(process: Process, uid: str) -> list[str]:
    return [name for name, t in process.targets.items() if (NS, uid) in t.woken]


async def test_each_process_caches_only_its_own_targets_statuses(
    processes: tuple[Process, Process],
) -> None:
    a, b = processes
    obj = await _placed_everywhere(processes, "own-only")
    keys = {
        name: (target.writer.record(CONFIGMAPS, obj).name, target.writer)
        for process in (a, b)
        for name, target in process.targets.items()
    }
    for process in (a, b):
        served = {SyncTarget(name, UPSTREAM, "").key for name in process.targets}
        cached = {target_key(status)[0] for status in process.shared.statuses.objects()}
        assert cached == served
    a1 = a.targets["a1"].writer
    assert a1.cached(NS, keys["a1"][0]) is not None
    assert a1.cached(NS, keys["a2"][0]) is None, "a target's view shows another target's"
    assert a1.cached(NS, keys["b1"][0]) is None


async def test_a_process_that_lists_first_leaves_the_release_to_the_other(
    processes: tuple[Process, Process],
) -> None:
    """A finishes first: its last target out is woken, lists, sees b1's and does nothing
    more; B's deletion then wakes b1, whose list sees none left."""
    a, b = processes
    obj = await _placed_everywhere(processes, "one-after-other")
    uid = obj["metadata"]["uid"]
    for name in ("a1", "a2"):
        await a.targets[name].writer.delete(CONFIGMAPS, NS, "one-after-other")
    await await_until(
        lambda: _woken(a, uid), lambda names: names == ["a2"], what="a2 woken, a1 not"
    )
    a2 = a.targets["a2"].writer
    assert a2.last_out(NS, uid)
    assert await a2.remaining(NS, uid) == 1
    assert not a2.last_out(NS, uid), "the wake outlived the list that answered it"
    assert not a.targets["a1"].writer.last_out(NS, uid)
    await b.targets["b1"].writer.delete(CONFIGMAPS, NS, "one-after-other")
    await await_until(lambda: _woken(b, uid), lambda names: names == ["b1"], what="b1 woken")
    b1 = b.targets["b1"].writer
    assert b1.last_out(NS, uid)
    assert await b1.remaining(NS, uid) == 0


async def test_processes_that_finish_together_both_see_none_left(
    processes: tuple[Process, Process],
) -> None:
    """Both delete before either lists: both are woken and both lists see none left."""
    a, b = processes
    obj = await _placed_everywhere(processes, "together")
    uid = obj["metadata"]["uid"]
    for process in (a, b):
        for target in process.targets.values():
            await target.writer.delete(CONFIGMAPS, NS, "together")
    for process in (a, b):
        await await_until(
            functools.partial(_woken, process, uid),
            lambda names: len(names) == 1,
            what="one target of each process woken",
        )
    listers = [
        target.writer
        for process in (a, b)
        for target in process.targets.values()
        if target.writer.last_out(NS, uid)
    ]
    assert len(listers) == 2
    assert [await writer.remaining(NS, uid) for writer in listers] == [0, 0]
