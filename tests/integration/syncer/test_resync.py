"""The resync period: every placed object is looked at again, and a healthy one costs no write."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.contract.naming import WORKLOAD_UID_LABEL
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import NAMESPACES, SYNC_STATUSES, KubeClient
from pytest_syncer.syncer.engine.settings import KNOWN_RESOURCES
from tests.integration.syncer.environment import (
    UPSTREAM,
    SyncerProcessRig,
    TargetInfo,
    setup_environment,
)
from tests.integration.syncer.workloads import namespace, workload

TARGET = TargetInfo("rs1", "down-1")
CONFIGMAPS = KNOWN_RESOURCES["configmaps"]
RESYNC_LINE = "target=rs1 resync: every placed object and every copy below queued"


@pytest.fixture(scope="module")
def environment(
    apiserver: BackgroundAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SyncerProcessRig]:
    env = setup_environment(apiserver.kubeconfigs, tmp_path_factory.mktemp("resync"), [TARGET])
    try:
        env.syncer([TARGET.name], "--resync-period", "0.5").start()
        yield env
    finally:
        env.stop()


async def test_resyncs_of_a_healthy_workload_write_nothing(
    environment: SyncerProcessRig, clients: dict[str, KubeClient]
) -> None:
    upstream, below = clients[UPSTREAM], clients[TARGET.downstream]
    ns = "resync"
    await upstream.create(NAMESPACES, namespace(ns))
    created = await upstream.create(
        CONFIGMAPS, workload("configmaps", ns, "steady", {TARGET.label: "Sync"})
    )
    selector = f"{WORKLOAD_UID_LABEL}={created['metadata']['uid']}"

    async def versions() -> tuple[str, str, str, str]:
        """(upstream, copy below, SyncStatus, its phase) resourceVersions and phase."""
        above = await upstream.get(CONFIGMAPS, "steady", ns)
        copy = await below.get_or_none(CONFIGMAPS, "steady", TARGET.namespace_below(ns))
        statuses = (await upstream.list(SYNC_STATUSES, ns, label_selector=selector))["items"]
        status = statuses[0] if statuses else {"metadata": {}}
        return (
            above["metadata"]["resourceVersion"],
            (copy or {"metadata": {}})["metadata"].get("resourceVersion", ""),
            status["metadata"].get("resourceVersion", ""),
            (status.get("status") or {}).get("phase", ""),
        )

    await await_until(
        versions,
        lambda found: found[3] == "Synced",
        what="the workload synced below with a Synced SyncStatus",
        timeout=15,
    )
    log = environment.processes[0].log_path

    async def resyncs_after(count: int) -> int:
        return await await_until(
            lambda: asyncio.to_thread(lambda: log.read_text().count(RESYNC_LINE)),
            lambda seen: seen >= count,
            what=f"{count} resyncs in the syncer's log",
            timeout=15,
        )

    seen = await resyncs_after(1)
    settled = await versions()
    await resyncs_after(seen + 3)
    assert await versions() == settled, "a resync of a healthy workload wrote something"
