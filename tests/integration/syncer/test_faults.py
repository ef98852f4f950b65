"""Faults on real processes: a syncer killed mid-burst, the API server restarted under it.

One real `pytest-syncer apiserver` process with `--data-dir` serves the module, so it can be
restarted on the same port with the same credentials while a syncer keeps running.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_syncer.contract.naming import CLUSTER_LABEL, SYNC_TARGET_KEY_LABEL, WORKLOAD_UID_LABEL
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import NAMESPACES, SYNC_STATUSES, KubeClient
from pytest_syncer.process.parent import ServiceProcess
from pytest_syncer.syncer.engine.finalizer import SHARED_FINALIZER
from pytest_syncer.syncer.engine.settings import KNOWN_RESOURCES
from tests.integration.syncer.environment import (
    UPSTREAM,
    SyncerProcessRig,
    TargetInfo,
    setup_environment,
)
from tests.integration.syncer.workloads import namespace, workload

CONFIGMAPS = KNOWN_RESOURCES["configmaps"]


class RestartableAPIServer:
    """A real API server process on a data dir; `restart` keeps its port and credentials."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ready: dict[str, Any] = {}
        self.process: ServiceProcess | None = None

    def start(self) -> dict[str, Any]:
        port = self.ready["url"].rsplit(":", 1)[1] if self.ready else None
        args = [
            "--clusters",
            f"{UPSTREAM},down-1",
            "--kubeconfig-dir",
            str(self.directory / "kubeconfigs"),
            "--data-dir",
            str(self.directory / "data"),
        ]
        if port is not None:
            args += ["--port", port]
        self.process = ServiceProcess("apiserver", args, log_path=self.directory / "apiserver.log")
        self.ready = self.process.start()
        return self.ready

    def stop(self, signum: int = signal.SIGTERM) -> None:
        if self.process is not None:
            if signum != signal.SIGTERM:
                self.process.signal(signum)
            self.process.stop()


@pytest.fixture(scope="module")
def apiserver_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableAPIServer]:
    server = RestartableAPIServer(tmp_path_factory.mktemp("apiserver-process"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def environment(
    apiserver_process: RestartableAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SyncerProcessRig]:
    kubeconfigs = {
        name: Path(path) for name, path in apiserver_process.ready["kubeconfigs"].items()
    }
    env = setup_environment(
        kubeconfigs,
        tmp_path_factory.mktemp("fault-syncers"),
        [TargetInfo("k1", "down-1"), TargetInfo("r1", "down-1")],
    )
    try:
        yield env
    finally:
        env.stop()


async def _state(
    clients: dict[str, KubeClient], target: TargetInfo, ns: str
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(upstream data by name, copies' data by name, this target's namespaces below)."""
    above = await clients[UPSTREAM].list(CONFIGMAPS, ns, label_selector=target.label)
    below = await clients["down-1"].list(CONFIGMAPS, label_selector=f"{CLUSTER_LABEL}={target.key}")
    spaces = await clients["down-1"].list(
        NAMESPACES, label_selector=f"{CLUSTER_LABEL}={target.key}"
    )
    return (
        {item["metadata"]["name"]: item for item in above["items"]},
        {item["metadata"]["name"]: item["data"] for item in below["items"]},
        [item["metadata"]["name"] for item in spaces["items"]],
    )


def _converged(
    state: tuple[dict[str, Any], dict[str, Any], list[str]], target: TargetInfo, ns: str
) -> bool:
    above, below, spaces = state
    alive = {
        name: obj["data"]
        for name, obj in above.items()
        if not obj["metadata"].get("deletionTimestamp")
    }
    return (
        below == alive
        and len(above) == len(alive)
        and all(obj["metadata"].get("finalizers") == [SHARED_FINALIZER] for obj in above.values())
        and spaces == [target.namespace_below(ns)]
    )


async def test_a_syncer_killed_mid_burst_converges_after_restart(
    environment: SyncerProcessRig, clients: dict[str, KubeClient]
) -> None:
    upstream = clients[UPSTREAM]
    target = environment.targets["k1"]
    ns = "burst"
    await upstream.create(NAMESPACES, namespace(ns))
    syncer = environment.syncer(["k1"])
    syncer.start()

    async def write(index: int, revision: int) -> None:
        name = f"cm-{index}"
        if revision == 0:
            body = workload("configmaps", ns, name, {target.label: "Sync"})
            body["data"] = {"rev": "0"}
            await upstream.create(CONFIGMAPS, body)
        else:
            await upstream.patch(CONFIGMAPS, name, {"data": {"rev": str(revision)}}, ns)

    burst = asyncio.gather(*(write(index, 0) for index in range(80)))
    copies_at_kill = await await_until(
        lambda: _state(clients, target, ns),
        lambda found: len(found[1]) >= 5,
        what="the burst under way below",
        timeout=15,
        interval=0.01,
    )
    syncer.signal(signal.SIGKILL)
    await burst
    assert len(copies_at_kill[1]) < 80, "the syncer finished the burst before it was killed"
    await asyncio.gather(*(write(index, 1) for index in range(0, 80, 2)))
    await asyncio.gather(*(write(index, 2) for index in range(0, 80, 4)))
    await asyncio.gather(*(upstream.delete(CONFIGMAPS, f"cm-{i}", ns) for i in range(1, 80, 5)))
    await asyncio.gather(*(write(index, 0) for index in range(80, 90)))
    syncer.stop()

    restarted = environment.syncer(["k1"])
    restarted.start()
    state = await await_until(
        lambda: _state(clients, target, ns),
        lambda found: _converged(found, target, ns),
        what="every live object below with its last data, the deleted ones gone from both sides",
        timeout=20,
    )
    above, below, _ = state
    assert len(below) == 90 - 16
    assert below["cm-0"] == {"rev": "2"}
    assert below["cm-2"] == {"rev": "1"}
    assert "cm-1" not in above
    assert "cm-1" not in below
    restarted.stop()


async def test_the_syncer_rides_out_an_api_server_restart(
    environment: SyncerProcessRig,
    clients: dict[str, KubeClient],
    apiserver_process: RestartableAPIServer,
) -> None:
    upstream = clients[UPSTREAM]
    target = environment.targets["r1"]
    ns = "restart"
    await upstream.create(NAMESPACES, namespace(ns))
    syncer = environment.syncer(["r1"])
    syncer.start()
    for index in range(5):
        body = workload("configmaps", ns, f"before-{index}", {target.label: "Sync"})
        await upstream.create(CONFIGMAPS, body)
    await await_until(
        lambda: _state(clients, target, ns),
        lambda found: _converged(found, target, ns) and len(found[1]) == 5,
        what="the first objects synced",
        timeout=15,
    )

    apiserver_process.stop(signal.SIGKILL)
    apiserver_process.start()
    assert syncer.running
    for name, stale in list(clients.items()):
        await stale.close()
        clients[name] = await environment.client(name)
    upstream = clients[UPSTREAM]
    await upstream.patch(CONFIGMAPS, "before-0", {"data": {"key": "after-restart"}}, ns)
    await upstream.delete(CONFIGMAPS, "before-1", ns)
    for index in range(5):
        body = workload("configmaps", ns, f"after-{index}", {target.label: "Sync"})
        await upstream.create(CONFIGMAPS, body)
    state = await await_until(
        lambda: _state(clients, target, ns),
        lambda found: _converged(found, target, ns) and len(found[1]) == 9,
        what="every change made after the restart synced",
        timeout=30,
    )
    assert state[1]["before-0"] == {"key": "after-restart"}
    assert syncer.running
    syncer.stop()


async def test_a_syncstatus_left_without_a_copy_is_removed_when_the_syncer_starts_again(
    environment: SyncerProcessRig, clients: dict[str, KubeClient]
) -> None:
    """A syncer stopped after writing its SyncStatus and before the copy below (the soak's
    kill_syncer hit that window) left nothing that points the workload back to its target
    once the workload was unplaced and deleted meanwhile: no placement label, no copy. The
    SyncStatus held the shared finalizer, and the deletion, for good. Started again, the
    syncer removes it and, as the last target out, releases the finalizer."""
    upstream = clients[UPSTREAM]
    target = environment.targets["k1"]
    ns = "left-behind"
    await upstream.create(NAMESPACES, namespace(ns))
    body = workload("configmaps", ns, "unplaced", {})
    body["metadata"]["finalizers"] = [SHARED_FINALIZER]
    created = await upstream.create(CONFIGMAPS, body)
    uid = created["metadata"]["uid"]
    status_name = f"configmaps.unplaced.{target.name}"
    await upstream.create(
        SYNC_STATUSES,
        {
            "apiVersion": "workload.kcp.io/v1alpha1",
            "kind": "SyncStatus",
            "metadata": {
                "name": status_name,
                "namespace": ns,
                "labels": {SYNC_TARGET_KEY_LABEL: target.key, WORKLOAD_UID_LABEL: uid},
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "name": "unplaced", "uid": uid}
                ],
            },
            "spec": {
                "workload": {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "resource": "configmaps",
                    "name": "unplaced",
                    "uid": uid,
                },
                "syncTarget": {"name": target.name, "key": target.key},
            },
        },
    )
    await upstream.delete(CONFIGMAPS, "unplaced", ns)
    held = await upstream.get(CONFIGMAPS, "unplaced", ns)
    assert held["metadata"].get("deletionTimestamp"), "the finalizer should hold the deletion"

    async def left() -> tuple[bool, bool]:
        status = await upstream.get_or_none(SYNC_STATUSES, status_name, ns)
        held = await upstream.get_or_none(CONFIGMAPS, "unplaced", ns)
        return status is not None, held is not None

    syncer = environment.syncer(["k1"])
    syncer.start()
    try:
        await await_until(
            left,
            lambda found: found == (False, False),
            what="(SyncStatus left, workload left) == (False, False): the SyncStatus removed, "
            "the finalizer released and the workload gone",
            timeout=20,
        )
    finally:
        syncer.stop()
