"""The generic handler: a custom resource placed, updated, relabelled and deleted.

The Widget CRD is served upstream and by both downstream clusters; one pooled syncer process
serves `w1` (on `down-1`) and `w2` (on `down-2`) and is told to sync `widgets.example.com`
with `--resources`. No hub runs: the shared finalizer holds the upstream object alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.contract.naming import CLUSTER_LABEL, WORKLOAD_UID_LABEL
from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import NAMESPACES, SYNC_STATUSES, KubeClient
from pytest_syncer.syncer.engine.finalizer import SHARED_FINALIZER
from tests.integration.syncer.environment import (
    UPSTREAM,
    SyncerProcessRig,
    TargetInfo,
    setup_environment,
)
from tests.integration.syncer.workloads import WIDGETS, install_widgets, namespace

TARGETS = (TargetInfo("w1", "down-1"), TargetInfo("w2", "down-2"))
WAIT = 15.0


async def _install_everywhere(environment: SyncerProcessRig) -> None:
    for cluster in (UPSTREAM, "down-1", "down-2"):
        async with await environment.client(cluster) as client:
            await install_widgets(client)


@pytest.fixture(scope="module")
def environment(
    apiserver: BackgroundAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SyncerProcessRig]:
    env = setup_environment(apiserver.kubeconfigs, tmp_path_factory.mktemp("custom"), TARGETS)
    asyncio.run(_install_everywhere(env))
    try:
        env.syncer(["w1", "w2"], "--resources", "widgets.example.com").start()
        yield env
    finally:
        env.stop()


async def _copies(clients: dict[str, KubeClient], ns: str) -> dict[str, KubeObject | None]:
    return {
        target.name: await clients[target.downstream].get_or_none(
            WIDGETS, "gizmo", target.namespace_below(ns)
        )
        for target in TARGETS
    }


async def _phases(upstream: KubeClient, ns: str, uid: str) -> dict[str, str]:
    listing = await upstream.list(SYNC_STATUSES, ns, label_selector=f"{WORKLOAD_UID_LABEL}={uid}")
    return {
        item["spec"]["syncTarget"]["name"]: (item.get("status") or {}).get("phase", "")
        for item in listing["items"]
    }


def _sizes(found: dict[str, KubeObject | None]) -> dict[str, Any]:
    return {name: copy and copy["spec"]["size"] for name, copy in found.items()}


async def test_a_custom_resource_is_placed_updated_relabelled_and_deleted(
    environment: SyncerProcessRig, clients: dict[str, KubeClient]
) -> None:
    upstream = clients[UPSTREAM]
    w1, w2 = TARGETS
    ns = "custom-flow"
    await upstream.create(NAMESPACES, namespace(ns))
    body = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {
            "name": "gizmo",
            "namespace": ns,
            "labels": {w1.label: "Sync", w2.label: "Sync"},
        },
        "spec": {"size": 3, "colour": "red"},
    }
    created = await upstream.create(WIDGETS, body)
    uid = created["metadata"]["uid"]

    copies = await await_until(
        lambda: _copies(clients, ns),
        lambda found: _sizes(found) == {"w1": 3, "w2": 3},
        what="a copy of the widget on both targets",
        timeout=WAIT,
    )
    for target in TARGETS:
        copy = copies[target.name]
        assert copy is not None
        assert copy["spec"] == {"size": 3, "colour": "red"}
        assert copy["metadata"]["labels"][CLUSTER_LABEL] == target.key
    held = await upstream.get(WIDGETS, "gizmo", ns)
    assert held["metadata"]["finalizers"] == [SHARED_FINALIZER]
    await await_until(
        lambda: _phases(upstream, ns, uid),
        lambda phases: phases == {"w1": "Synced", "w2": "Synced"},
        what="a Synced SyncStatus per target",
        timeout=WAIT,
    )

    await upstream.patch(WIDGETS, "gizmo", {"spec": {"size": 5}}, ns)
    await await_until(
        lambda: _copies(clients, ns),
        lambda found: _sizes(found) == {"w1": 5, "w2": 5},
        what="the spec update on both copies",
        timeout=WAIT,
    )

    await upstream.patch(WIDGETS, "gizmo", {"metadata": {"labels": {w2.label: None}}}, ns)
    await await_until(
        lambda: _copies(clients, ns),
        lambda found: _sizes(found) == {"w1": 5, "w2": None},
        what="w2's copy gone once its label was dropped, w1's kept",
        timeout=WAIT,
    )
    await await_until(
        lambda: _phases(upstream, ns, uid),
        lambda phases: phases == {"w1": "Synced"},
        what="w2's SyncStatus gone",
        timeout=WAIT,
    )

    await upstream.delete(WIDGETS, "gizmo", ns)
    await await_until(
        lambda: upstream.get_or_none(WIDGETS, "gizmo", ns),
        lambda obj: obj is None,
        what="the widget released by the shared finalizer",
        timeout=WAIT,
    )
    assert await _copies(clients, ns) == {"w1": None, "w2": None}, (
        "the upstream widget went before its copy below"
    )
    assert await _phases(upstream, ns, uid) == {}
    await await_until(
        lambda: clients["down-1"].get_or_none(NAMESPACES, w1.namespace_below(ns)),
        lambda found: found is None,
        what="the empty namespace below cleaned up",
        timeout=WAIT,
    )
