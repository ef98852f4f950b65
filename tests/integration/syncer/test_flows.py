"""Placement, update, relabel and delete for every handled kind, with real syncer processes.

Three targets: `t1` alone in a process on `down-1`; `t2` and `t3` pooled in one process,
both on `down-2` (two targets sharing one physical cluster). No hub runs: the shared finalizer
flow works without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.contract.naming import (
    CLUSTER_LABEL,
    LOCATOR_ANNOTATION,
    SOFT_FINALIZER_ANNOTATION_PREFIX,
    WORKLOAD_UID_LABEL,
)
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import (
    EVENTS,
    NAMESPACES,
    SYNC_STATUSES,
    SYNC_TARGETS,
    KubeClient,
)
from pytest_syncer.syncer.engine.finalizer import SHARED_FINALIZER
from pytest_syncer.syncer.engine.settings import KNOWN_RESOURCES
from pytest_syncer.syncer.engine.spec import UPSTREAM_GENERATION_ANNOTATION
from tests.integration.syncer.environment import (
    UPSTREAM,
    SyncerProcessRig,
    TargetInfo,
    setup_environment,
)
from tests.integration.syncer.workloads import WORKLOADS, namespace, workload

TARGETS = (TargetInfo("t1", "down-1"), TargetInfo("t2", "down-2"), TargetInfo("t3", "down-2"))


@pytest.fixture(scope="module")
def environment(
    apiserver: BackgroundAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SyncerProcessRig]:
    env = setup_environment(apiserver.kubeconfigs, tmp_path_factory.mktemp("syncers"), TARGETS)
    try:
        env.syncer(["t1"]).start()
        env.syncer(["t2", "t3"]).start()
        yield env
    finally:
        env.stop()


async def _copy(
    clients: dict[str, KubeClient], target: TargetInfo, resource: str, ns: str, name: str
) -> dict[str, Any] | None:
    return await clients[target.downstream].get_or_none(
        KNOWN_RESOURCES[resource], name, target.namespace_below(ns)
    )


async def _copies(
    clients: dict[str, KubeClient],
    env: SyncerProcessRig,
    resource: str,
    ns: str,
    name: str,
) -> dict[str, dict[str, Any] | None]:
    return {
        target.name: await _copy(clients, target, resource, ns, name)
        for target in env.targets.values()
    }


async def _statuses(upstream: KubeClient, ns: str, uid: str) -> dict[str, str]:
    listing = await upstream.list(SYNC_STATUSES, ns, label_selector=f"{WORKLOAD_UID_LABEL}={uid}")
    return {
        item["spec"]["syncTarget"]["name"]: (item.get("status") or {}).get("phase", "")
        for item in listing["items"]
    }


@pytest.mark.parametrize("resource", sorted(WORKLOADS))
async def test_every_kind_is_placed_updated_relabelled_and_deleted(
    environment: SyncerProcessRig, clients: dict[str, KubeClient], resource: str
) -> None:
    upstream = clients[UPSTREAM]
    targets = environment.targets
    ns = f"flow-{resource.split('.')[0]}"
    await upstream.create(NAMESPACES, namespace(ns))
    kind = KNOWN_RESOURCES[resource]
    labels = {target.label: "Sync" for target in targets.values()}
    created = await upstream.create(kind, workload(resource, ns, "w", labels))
    uid = created["metadata"]["uid"]

    copies = await await_until(
        lambda: _copies(clients, environment, resource, ns, "w"),
        lambda found: all(found.values()),
        what=f"a copy of {resource} {ns}/w on every target",
        timeout=15,
    )
    for name, copy in copies.items():
        assert copy is not None
        assert copy["metadata"]["labels"][CLUSTER_LABEL] == targets[name].key
        assert not any(
            label.startswith("state.workload.kcp.io/") for label in copy["metadata"]["labels"]
        )
        assert copy["metadata"]["annotations"][UPSTREAM_GENERATION_ANNOTATION] == str(
            created["metadata"].get("generation", 0)
        )
    below = await clients["down-2"].get(NAMESPACES, targets["t2"].namespace_below(ns))
    assert CLUSTER_LABEL in below["metadata"]["labels"]
    assert '"name":"t2"' in below["metadata"]["annotations"][LOCATOR_ANNOTATION]
    placed = await upstream.get(kind, "w", ns)
    assert placed["metadata"]["finalizers"] == [SHARED_FINALIZER]
    await await_until(
        lambda: _statuses(upstream, ns, uid),
        lambda phases: phases == {"t1": "Synced", "t2": "Synced", "t3": "Synced"},
        what="a Synced SyncStatus per target",
        timeout=10,
    )

    await upstream.patch(kind, "w", {"metadata": {"labels": {"rev": "2"}}}, ns)
    await await_until(
        lambda: _copies(clients, environment, resource, ns, "w"),
        lambda found: all(c and c["metadata"]["labels"].get("rev") == "2" for c in found.values()),
        what="the update on every copy",
        timeout=10,
    )

    await upstream.patch(kind, "w", {"metadata": {"labels": {targets["t3"].label: None}}}, ns)
    await await_until(
        lambda: _copies(clients, environment, resource, ns, "w"),
        lambda found: found["t3"] is None and found["t1"] is not None and found["t2"] is not None,
        what="the copy on t3 gone after its label was dropped, the others kept",
        timeout=10,
    )
    await await_until(
        lambda: _statuses(upstream, ns, uid),
        lambda phases: set(phases) == {"t1", "t2"},
        what="t3's SyncStatus gone",
        timeout=10,
    )

    await upstream.delete(kind, "w", ns)
    await await_until(
        lambda: upstream.get_or_none(kind, "w", ns),
        lambda obj: obj is None,
        what="the upstream object released by the shared finalizer",
        timeout=10,
    )
    assert await _copies(clients, environment, resource, ns, "w") == {
        "t1": None,
        "t2": None,
        "t3": None,
    }, "the upstream object went before every copy below was gone"
    assert await _statuses(upstream, ns, uid) == {}


async def test_the_finalizer_holds_the_object_until_every_copy_is_gone(
    environment: SyncerProcessRig, clients: dict[str, KubeClient]
) -> None:
    upstream = clients[UPSTREAM]
    t1, t2, t3 = (environment.targets[name] for name in ("t1", "t2", "t3"))
    ns = "held"
    await upstream.create(NAMESPACES, namespace(ns))
    configmaps = KNOWN_RESOURCES["configmaps"]
    soft = SOFT_FINALIZER_ANNOTATION_PREFIX + t3.key
    labels = {t.label: "Sync" for t in (t1, t2, t3)}
    body = workload("configmaps", ns, "held", labels)
    body["metadata"]["annotations"] = {soft: "the test holds it"}
    await upstream.create(configmaps, body)
    await await_until(
        lambda: _copies(clients, environment, "configmaps", ns, "held"),
        lambda found: all(found.values()),
        what="copies on every target",
        timeout=10,
    )
    await upstream.delete(configmaps, "held", ns)
    await await_until(
        lambda: _copies(clients, environment, "configmaps", ns, "held"),
        lambda found: found["t1"] is None and found["t2"] is None and found["t3"] is not None,
        what="t1 and t2 copies deleted, t3's held by its soft finalizer",
        timeout=10,
    )
    held = await upstream.get(configmaps, "held", ns)
    assert held["metadata"]["deletionTimestamp"]
    assert held["metadata"]["finalizers"] == [SHARED_FINALIZER]

    await upstream.patch(configmaps, "held", {"metadata": {"annotations": {soft: None}}}, ns)
    await await_until(
        lambda: upstream.get_or_none(configmaps, "held", ns),
        lambda obj: obj is None,
        what="the object gone once the soft finalizer let go",
        timeout=10,
    )
    assert await _copy(clients, t3, "configmaps", ns, "held") is None
    await await_until(
        lambda: clients["down-2"].get_or_none(NAMESPACES, t3.namespace_below(ns)),
        lambda found: found is None,
        what="the empty namespace below cleaned up",
        timeout=10,
    )


async def test_drift_below_is_reverted_and_a_deleted_copy_recreated(
    environment: SyncerProcessRig, clients: dict[str, KubeClient]
) -> None:
    upstream = clients[UPSTREAM]
    t1 = environment.targets["t1"]
    ns = "drift"
    await upstream.create(NAMESPACES, namespace(ns))
    configmaps = KNOWN_RESOURCES["configmaps"]
    created = await upstream.create(configmaps, workload("configmaps", ns, "d", {t1.label: "Sync"}))
    below = clients["down-1"]
    ns_below = t1.namespace_below(ns)
    await await_until(
        lambda: below.get_or_none(configmaps, "d", ns_below),
        lambda copy: copy is not None,
        what="the copy below",
        timeout=10,
    )
    await below.patch(configmaps, "d", {"data": {"key": "drifted"}}, ns_below)
    await await_until(
        lambda: below.get(configmaps, "d", ns_below),
        lambda copy: copy["data"] == created["data"],
        what="the drift reverted",
        timeout=10,
    )
    await below.delete(configmaps, "d", ns_below)
    await await_until(
        lambda: below.get_or_none(configmaps, "d", ns_below),
        lambda copy: copy is not None,
        what="the deleted copy recreated",
        timeout=10,
    )
    uid = created["metadata"]["uid"]

    async def reasons() -> set[tuple[str, str, str]]:
        events = await upstream.list(EVENTS, ns)
        return {
            (e["reason"], e["involvedObject"]["name"], e["involvedObject"]["uid"])
            for e in events["items"]
        }

    found = await await_until(
        reasons,
        lambda found: {("DriftReverted", "d", uid), ("Recreated", "d", uid)} <= found,
        what="an Event for the reverted drift and the recreation",
        timeout=10,
    )
    # The plain first creation is on the SyncStatus only: Events are for notable decisions.
    assert ("Created", "d", uid) not in found


async def test_each_syncer_beats_its_sync_target(
    environment: SyncerProcessRig, clients: dict[str, KubeClient]
) -> None:
    upstream = clients[UPSTREAM]

    async def beats() -> dict[str, Any]:
        return {
            name: (await upstream.get(SYNC_TARGETS, name)).get("status", {})
            for name in environment.targets
        }

    first = await await_until(
        beats,
        lambda status: all(s.get("lastSyncerHeartbeatTime") for s in status.values()),
        what="a heartbeat on every SyncTarget",
        timeout=10,
    )
    for status in first.values():
        assert {c["type"]: c["status"] for c in status["conditions"]} == {"Ready": "True"}
    await await_until(
        beats,
        lambda status: all(
            s["lastSyncerHeartbeatTime"] != first[name]["lastSyncerHeartbeatTime"]
            for name, s in status.items()
        ),
        what="the heartbeat to advance",
        timeout=10,
    )


async def test_moving_a_workload_between_targets_keeps_the_finalizer(
    environment: SyncerProcessRig, clients: dict[str, KubeClient]
) -> None:
    upstream = clients[UPSTREAM]
    t1, t2 = environment.targets["t1"], environment.targets["t2"]
    ns = "moving"
    await upstream.create(NAMESPACES, namespace(ns))
    configmaps = KNOWN_RESOURCES["configmaps"]
    created = await upstream.create(configmaps, workload("configmaps", ns, "m", {t1.label: "Sync"}))
    uid = created["metadata"]["uid"]
    here, there = t1, t2
    for _ in range(4):
        only_here = {here.name: "Synced"}
        await await_until(
            lambda: _statuses(upstream, ns, uid),
            lambda phases: phases == only_here,  # noqa: B023 (awaited in this iteration)
            what=f"the workload synced on {here.name} alone",
            timeout=10,
        )
        move = {"metadata": {"labels": {here.label: None, there.label: "Sync"}}}
        await upstream.patch(configmaps, "m", move, ns)
        here, there = there, here
        placed = {here.name}
        await await_until(
            lambda: _copies(clients, environment, "configmaps", ns, "m"),
            lambda found: {n for n, copy in found.items() if copy} == placed,  # noqa: B023
            what=f"the copy only on {here.name}",
            timeout=10,
        )
        await await_until(
            lambda: upstream.get(configmaps, "m", ns),
            lambda obj: obj["metadata"].get("finalizers") == [SHARED_FINALIZER],
            what="the shared finalizer on the moved workload",
            timeout=10,
        )
    await upstream.delete(configmaps, "m", ns)
    await await_until(
        lambda: upstream.get_or_none(configmaps, "m", ns),
        lambda obj: obj is None,
        what="the moved workload deleted",
        timeout=10,
    )
    assert await _copies(clients, environment, "configmaps", ns, "m") == {
        "t1": None,
        "t2": None,
        "t3": None,
    }


def test_every_engine_line_of_the_pool_names_its_target(environment: SyncerProcessRig) -> None:
    """The pooled process serves t2 and t3: each line its engine logs says which."""
    lines = environment.processes[1].log_path.read_text().splitlines()
    engine = [line for line in lines if " pytest_syncer.syncer.engine." in line]
    unnamed = [line for line in engine if not ("target=t2 " in line or "target=t3 " in line)]
    assert unnamed == []
    named = {target for target in ("t2", "t3") if any(f"target={target} " in x for x in engine)}
    assert named == {"t2", "t3"}
