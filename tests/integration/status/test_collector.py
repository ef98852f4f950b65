"""The collector against an embedded API server: a downstream copy's status into its SyncStatus."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.contract.naming import CLUSTER_LABEL, LOCATOR_ANNOTATION, SYNC_TARGET_KEY_LABEL
from pytest_syncer.contract.objects import NamespaceLocator, SyncTarget
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import (
    NAMESPACES,
    SYNC_STATUSES,
    SYNC_TARGETS,
    KubeClient,
    Resource,
)
from pytest_syncer.kubeclient.reflector import Reflector
from pytest_syncer.status.objects import deployment, sync_status, sync_target
from pytest_syncer.syncer.engine.settings import StatusMode
from pytest_syncer.syncer.engine.spec import UPSTREAM_GENERATION_ANNOTATION
from pytest_syncer.syncer.engine.status_collector import StatusCollector, status_annotation
from pytest_syncer.syncer.interfaces import StatusCollector as StatusCollectorInterface

UPSTREAM = "upstream"
DOWNSTREAM = "downstream"
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    with BackgroundAPIServer([UPSTREAM, DOWNSTREAM], tmp_path_factory.mktemp("kc")) as running:
        yield running


@pytest.fixture
async def clients(server: BackgroundAPIServer) -> AsyncIterator[tuple[KubeClient, KubeClient]]:
    async with (
        await KubeClient.from_kubeconfig(server.kubeconfigs[UPSTREAM]) as up,
        await KubeClient.from_kubeconfig(server.kubeconfigs[DOWNSTREAM]) as down,
    ):
        yield up, down


async def place(up: KubeClient, down: KubeClient, target_name: str, namespace: str) -> Any:
    """What the engine would have done: the workload, its SyncStatus and its copy below."""
    found = await up.create(SYNC_TARGETS, sync_target(target_name))
    target = SyncTarget(target_name, UPSTREAM, found["metadata"]["uid"])
    await up.create(
        NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    )
    workload = await up.create(DEPLOYMENTS, deployment("web", namespace, [target.key]))
    await up.create(SYNC_STATUSES, sync_status(workload, target_name, target.key, None))
    locator = NamespaceLocator(target, UPSTREAM, namespace)
    below = locator.downstream_namespace
    await down.create(
        NAMESPACES,
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": below,
                "labels": {CLUSTER_LABEL: target.key},
                "annotations": {LOCATOR_ANNOTATION: locator.to_json()},
            },
        },
    )
    copy = deployment("web", below, [])
    copy["metadata"]["labels"] = {CLUSTER_LABEL: target.key}
    copy["metadata"]["annotations"] = {UPSTREAM_GENERATION_ANNOTATION: "1"}
    await down.create(DEPLOYMENTS, copy)
    return target, below


def downstream_status(observed: int, ready: int, message: str = "") -> dict[str, Any]:
    return {
        "status": {
            "observedGeneration": observed,
            "replicas": 3,
            "readyReplicas": ready,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "R", "message": message}
            ],
        }
    }


async def test_status_goes_up_in_upstream_terms(clients: tuple[KubeClient, KubeClient]) -> None:
    up, down = clients
    target, below = await place(up, down, "collect-a", "shop")
    collector = StatusCollector(target, up, down, [DEPLOYMENTS], coalesce_delay=0.02)
    # Ours meets the StatusCollector protocol a branch author's collector implements (mypy checks).
    interface: StatusCollectorInterface = collector
    await interface.start()
    try:
        await collector.wait_synced(10)
        await down.patch(
            DEPLOYMENTS,
            "web",
            downstream_status(1, 3, f"pods in {below} ready"),
            below,
            subresource="status",
        )

        async def collected() -> dict[str, Any]:
            obj = await up.get(SYNC_STATUSES, "deployments.web.collect-a", "shop")
            found: dict[str, Any] = (obj.get("status") or {}).get("downstreamStatus") or {}
            return found

        status = await await_until(
            collected, lambda s: s.get("readyReplicas") == 3, what="the collected status"
        )
        assert status["observedGeneration"] == 1
        assert status["conditions"][0]["message"] == "pods in shop ready"

        # The engine applies upstream generation 4: the copy's own generation moves to 2.
        await down.patch(
            DEPLOYMENTS,
            "web",
            {
                "metadata": {"annotations": {UPSTREAM_GENERATION_ANNOTATION: "4"}},
                "spec": {"replicas": 5},
            },
            below,
        )
        await down.patch(DEPLOYMENTS, "web", downstream_status(1, 2), below, subresource="status")
        status = await await_until(
            collected, lambda s: s.get("readyReplicas") == 2, what="a rollout in progress"
        )
        assert status["observedGeneration"] == 1
        await down.patch(DEPLOYMENTS, "web", downstream_status(2, 5), below, subresource="status")
        status = await await_until(
            collected, lambda s: s.get("readyReplicas") == 5, what="the rollout observed"
        )
        assert status["observedGeneration"] == 4

        writes = collector.writes
        for ready in range(10):
            await down.patch(
                DEPLOYMENTS, "web", downstream_status(2, ready), below, subresource="status"
            )
        await await_until(
            collected, lambda s: s.get("readyReplicas") == 9, what="the last of a burst"
        )
        assert collector.writes - writes < 10
    finally:
        await collector.close()


async def test_annotation_mode_writes_kcps_annotation(
    clients: tuple[KubeClient, KubeClient],
) -> None:
    up, down = clients
    target, below = await place(up, down, "collect-b", "cart")
    collector = StatusCollector(
        target, up, down, [DEPLOYMENTS], mode=StatusMode.ANNOTATION, coalesce_delay=0.02
    )
    await collector.start()
    try:
        await collector.wait_synced(10)
        await down.patch(DEPLOYMENTS, "web", downstream_status(1, 3), below, subresource="status")

        async def annotation() -> dict[str, Any]:
            obj = await up.get(DEPLOYMENTS, "web", "cart")
            text = (obj["metadata"].get("annotations") or {}).get(status_annotation(target.key))
            found: dict[str, Any] = json.loads(text) if text else {}
            return found

        status = await await_until(
            annotation, lambda s: s.get("readyReplicas") == 3, what="kcp's status annotation"
        )
        assert status["observedGeneration"] == 1
        sync_status_obj = await up.get(SYNC_STATUSES, "deployments.web.collect-b", "cart")
        assert "downstreamStatus" not in sync_status_obj.get("status", {})
    finally:
        await collector.close()


async def test_shared_informers_already_synced_are_replayed(
    clients: tuple[KubeClient, KubeClient],
) -> None:
    """A syncer restart: the engine's informers hold copies whose status was never collected."""
    up, down = clients
    target, below = await place(up, down, "collect-c", "till")
    await down.patch(DEPLOYMENTS, "web", downstream_status(1, 2), below, subresource="status")
    own = f"{CLUSTER_LABEL}={target.key}"
    engine_informers = [
        Reflector(down, DEPLOYMENTS, label_selector=own),
        Reflector(down, NAMESPACES, label_selector=own),
        Reflector(up, SYNC_STATUSES, label_selector=f"{SYNC_TARGET_KEY_LABEL}={target.key}"),
    ]
    for informer in engine_informers:
        await informer.start()
    copies, namespaces, statuses = engine_informers
    collector = StatusCollector(
        target,
        up,
        down,
        [DEPLOYMENTS],
        downstream_reflectors={DEPLOYMENTS: copies},
        namespaces=namespaces,
        sync_statuses=statuses,
        coalesce_delay=0.02,
    )
    try:
        for informer in engine_informers:
            await informer.wait_synced(10)
        await collector.start()

        async def collected() -> dict[str, Any]:
            obj = await up.get(SYNC_STATUSES, "deployments.web.collect-c", "till")
            found: dict[str, Any] = (obj.get("status") or {}).get("downstreamStatus") or {}
            return found

        status = await await_until(
            collected, lambda s: s.get("readyReplicas") == 2, what="the replayed copy's status"
        )
        assert status["observedGeneration"] == 1
    finally:
        await collector.close()
        for informer in engine_informers:
            await informer.stop()
