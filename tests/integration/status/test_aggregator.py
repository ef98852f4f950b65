"""The aggregator against a real (embedded) API server over HTTPS: SyncStatus in, `.status` out."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.contract.naming import placement_label, sync_target_key
from pytest_syncer.contract.objects import ObjectReference, SyncPhase, SyncStatusRecord
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.hub.aggregator import StatusAggregator
from pytest_syncer.kubeclient.client import SYNC_STATUSES, SYNC_TARGETS, KubeClient, Resource
from pytest_syncer.status.objects import (
    deployment,
    deployment_status,
    heartbeat,
    sync_status,
    sync_target,
)
from pytest_syncer.status.rules import SYNC_TARGETS_READY
from pytest_syncer.syncer.engine.status_collector import status_annotation
from pytest_syncer.syncer.interfaces import StatusAggregator as StatusAggregatorInterface

CLUSTER = "upstream"
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
_counter = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundAPIServer]:
    with BackgroundAPIServer([CLUSTER], tmp_path_factory.mktemp("kubeconfigs")) as running:
        yield running


@pytest.fixture
async def client(server: BackgroundAPIServer) -> AsyncIterator[KubeClient]:
    async with await KubeClient.from_kubeconfig(server.kubeconfigs[CLUSTER]) as opened:
        yield opened


HEARTBEAT_THRESHOLD = 300.0
"""Far longer than a test: a heartbeat written when a scenario starts stays fresh to its end
(with 2 s, a test slowed by a loaded machine saw its targets go stale mid-way, and the writes
that staleness causes broke its count of writes). The stale test plants an hour-old beat."""


@pytest.fixture
async def aggregator(server: BackgroundAPIServer) -> AsyncIterator[StatusAggregator]:
    running = StatusAggregator(
        Path(server.kubeconfigs[CLUSTER]),
        heartbeat_threshold=HEARTBEAT_THRESHOLD,
        coalesce_delay=0.05,
    )
    await running.start()
    try:
        await running.wait_synced(10)
        yield running
    finally:
        await running.close()


class Scenario:
    """One namespace, some targets with heartbeats, one Deployment placed on them."""

    def __init__(self, client: KubeClient, targets: int) -> None:
        self.client = client
        self.id = next(_counter)
        self.namespace = f"agg-{self.id}"
        self.targets = [f"agg{self.id}-t{index}" for index in range(targets)]
        self.keys = {name: sync_target_key(CLUSTER, name) for name in self.targets}
        self.workload: dict[str, Any] = {}

    async def create(self, beats: dict[str, float] | None = None) -> None:
        await self.client.create(
            NAMESPACES,
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}},
        )
        for name in self.targets:
            await self.client.create(SYNC_TARGETS, sync_target(name))
            beat = (beats or {}).get(name, time.time())
            await self.client.patch(SYNC_TARGETS, name, heartbeat(beat), subresource="status")
        self.workload = await self.client.create(
            DEPLOYMENTS, deployment("web", self.namespace, self.keys.values())
        )

    async def report(self, target: str, status: dict[str, Any]) -> None:
        obj = sync_status(self.workload, target, self.keys[target], status)
        existing = await self.client.get_or_none(
            SYNC_STATUSES, obj["metadata"]["name"], self.namespace
        )
        if existing is None:
            existing = await self.client.create(SYNC_STATUSES, obj)
        await self.client.patch(
            SYNC_STATUSES,
            obj["metadata"]["name"],
            {"status": obj["status"]},
            self.namespace,
            subresource="status",
        )

    async def upstream_status(self) -> dict[str, Any]:
        obj = await self.client.get(DEPLOYMENTS, "web", self.namespace)
        status: dict[str, Any] = obj.get("status") or {}
        return status


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    for found in status.get("conditions") or ():
        if found["type"] == kind:
            return dict(found)
    return {}


async def test_statuses_of_all_targets_fold_into_the_workload(
    client: KubeClient, aggregator: StatusAggregator
) -> None:
    scenario = Scenario(client, 3)
    await scenario.create()
    healthy, failing, third = scenario.targets
    await scenario.report(healthy, deployment_status(1, 3, 3, True))
    await scenario.report(failing, deployment_status(1, 3, 1, False))
    await scenario.report(third, deployment_status(1, 3, 3, True))
    status = await await_until(
        scenario.upstream_status,
        lambda s: s.get("readyReplicas") == 7 and s.get("observedGeneration") == 1,
        what="the aggregate of three targets",
        timeout=15,
    )
    assert status["replicas"] == 9
    assert status["unavailableReplicas"] == 2
    available = condition(status, "Available")
    assert available["status"] == "False"
    assert failing in available["message"]
    assert healthy not in available["message"]
    assert condition(status, SYNC_TARGETS_READY)["status"] == "True"

    await scenario.report(failing, deployment_status(1, 3, 3, True))
    status = await await_until(
        scenario.upstream_status,
        lambda s: condition(s, "Available").get("status") == "True",
        what="Available once the failing target recovered",
        timeout=15,
    )
    assert status["readyReplicas"] == 9

    # The interface answer, from the records as they are on the server, is what was written.
    interface: StatusAggregatorInterface = aggregator
    workload = await client.get(DEPLOYMENTS, "web", scenario.namespace)
    listing = await client.list(SYNC_STATUSES, scenario.namespace)
    records = [SyncStatusRecord.from_object(item) for item in listing["items"]]
    assert interface.aggregate({**workload, "kind": "Deployment"}, records) == workload["status"]


async def test_a_burst_of_target_changes_costs_few_writes_and_no_change_costs_none(
    client: KubeClient, aggregator: StatusAggregator
) -> None:
    scenario = Scenario(client, 20)
    await scenario.create()
    for target in scenario.targets:
        await scenario.report(target, deployment_status(1, 2, 2, True))
    await _settled(scenario, aggregator, 40, "the aggregate of twenty targets")
    before = aggregator.stats.writes
    for target in scenario.targets:
        await scenario.report(target, deployment_status(1, 2, 1, False))
    await _settled(scenario, aggregator, 20, "the aggregate after every target changed")
    burst_writes = aggregator.stats.writes - before
    assert 1 <= burst_writes < len(scenario.targets)

    reconciles = aggregator.stats.reconciles
    writes = aggregator.stats.writes
    await scenario.report(scenario.targets[0], deployment_status(1, 2, 1, False))
    await await_until(
        _returns(aggregator, reconciles),
        bool,
        what="a reconcile of an unchanged status",
        timeout=10,
    )
    assert aggregator.stats.writes == writes


async def _settled(
    scenario: Scenario,
    aggregator: StatusAggregator,
    ready_replicas: int,
    what: str,
) -> None:
    """Wait for the upstream aggregate's `readyReplicas`, then for the aggregator's queue to
    drain: whatever it will write for the reports so far is written."""
    await await_until(
        scenario.upstream_status,
        lambda status: status.get("readyReplicas") == ready_replicas,
        what=what,
        timeout=15,
    )
    await await_until(
        lambda: _quiet(aggregator), bool, what="the aggregator's queue to drain", timeout=10
    )


async def _quiet(aggregator: StatusAggregator) -> bool:
    controller = aggregator._controller
    return (
        controller is not None and len(controller.queue) == 0 and controller.queue.processing == 0
    )


def _returns(aggregator: StatusAggregator, reconciles: int) -> Any:
    async def observe() -> bool:
        return aggregator.stats.reconciles > reconciles and await _quiet(aggregator)

    return observe


async def test_a_stale_heartbeat_is_reported_not_counted(
    client: KubeClient, aggregator: StatusAggregator
) -> None:
    scenario = Scenario(client, 2)
    fresh, stale = scenario.targets
    await scenario.create({stale: time.time() - 3600})
    await scenario.report(fresh, deployment_status(1, 3, 3, True))
    await scenario.report(stale, deployment_status(1, 3, 3, True))
    # Both in one wait: the aggregate may be written before the fresh target's report is in
    # the aggregator's cache, and the stale one must never be counted, whatever the order.
    status = await await_until(
        scenario.upstream_status,
        lambda s: (
            condition(s, SYNC_TARGETS_READY).get("reason") == "HeartbeatStale"
            and s.get("readyReplicas") == 3
        ),
        what="the stale target reported stale and only the fresh one's 3 ready replicas counted",
        timeout=15,
    )
    assert stale in condition(status, SYNC_TARGETS_READY)["message"]

    await client.patch(SYNC_TARGETS, stale, heartbeat(time.time()), subresource="status")
    status = await await_until(
        scenario.upstream_status,
        lambda s: s.get("readyReplicas") == 6,
        what="the target counted again after a fresh heartbeat",
        timeout=15,
    )
    assert condition(status, SYNC_TARGETS_READY)["status"] == "True"


async def test_removing_a_target_from_placement_removes_its_share(
    client: KubeClient, aggregator: StatusAggregator
) -> None:
    scenario = Scenario(client, 3)
    await scenario.create()
    for target in scenario.targets:
        await scenario.report(target, deployment_status(1, 3, 3, True))
    await await_until(
        scenario.upstream_status,
        lambda s: s.get("replicas") == 9,
        what="three targets' replicas",
        timeout=15,
    )
    dropped = scenario.targets[1]
    await client.patch(
        DEPLOYMENTS,
        "web",
        {"metadata": {"labels": {placement_label(scenario.keys[dropped]): None}}},
        scenario.namespace,
    )
    status = await await_until(
        scenario.upstream_status,
        lambda s: s.get("replicas") == 6,
        what="two targets' replicas after one left the placement",
        timeout=15,
    )
    assert condition(status, SYNC_TARGETS_READY)["message"].startswith("all 2 targets")


async def test_kcp_status_annotations_aggregate_too(
    client: KubeClient, aggregator: StatusAggregator
) -> None:
    """`--status-mode annotation`: the targets' statuses sit in kcp's annotations instead."""
    scenario = Scenario(client, 2)
    await scenario.create()
    first, second = scenario.targets
    annotations = {
        status_annotation(scenario.keys[first]): json.dumps(deployment_status(1, 3, 3, True)),
        status_annotation(scenario.keys[second]): json.dumps(deployment_status(1, 3, 0, False)),
    }
    await client.patch(
        DEPLOYMENTS, "web", {"metadata": {"annotations": annotations}}, scenario.namespace
    )
    status = await await_until(
        scenario.upstream_status,
        lambda s: s.get("replicas") == 6 and s.get("readyReplicas") == 3,
        what="the aggregate of two annotated targets",
        timeout=15,
    )
    assert second in condition(status, "Available")["message"]
    assert condition(status, SYNC_TARGETS_READY)["status"] == "True"


CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")


async def test_a_kind_without_a_status_subresource_costs_no_status_write(
    client: KubeClient, aggregator: StatusAggregator
) -> None:
    """A ConfigMap has no `status` subresource: Kubernetes' discovery of v1 lists `pods/status`
    but no `configmaps/status` (kubernetes/kubernetes `api/discovery/api__v1.json`), so a PATCH
    there is answered 404. Its SyncStatus objects must not make the hub send one."""
    scenario = Scenario(client, 3)
    await scenario.create()
    for target in scenario.targets:
        await scenario.report(target, deployment_status(1, 3, 3, True))
    await _settled(scenario, aggregator, 9, "three targets' ready replicas")
    patches, writes = aggregator.stats.patches, aggregator.stats.writes

    settings = await client.create(
        CONFIGMAPS,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "settings",
                "namespace": scenario.namespace,
                "labels": {placement_label(key): "Sync" for key in scenario.keys.values()},
            },
            "data": {"mode": "fast"},
        },
    )
    for target in scenario.targets:
        record = SyncStatusRecord(
            workload=ObjectReference(
                api_version="v1",
                kind="ConfigMap",
                resource="configmaps",
                name="settings",
                namespace=scenario.namespace,
                uid=settings["metadata"]["uid"],
            ),
            target_name=target,
            target_key=scenario.keys[target],
            phase=SyncPhase.SYNCED,
        )
        await client.create(SYNC_STATUSES, record.to_object())
    await await_until(
        lambda: _without_status(aggregator),
        lambda kinds: kinds == ["configmaps"],
        what="discovery to say configmaps have no status subresource",
        timeout=10,
    )
    # After the ConfigMap's reports, one Deployment change: once it is written and the queue
    # is quiet, the ConfigMap's reports were handled too, and every PATCH sent must be that one.
    await scenario.report(scenario.targets[0], deployment_status(1, 3, 1, False))
    await _settled(scenario, aggregator, 7, "the Deployment's aggregate after one target changed")
    assert aggregator.stats.writes - writes >= 1
    assert aggregator.stats.patches - patches == aggregator.stats.writes - writes
    assert "status" not in await client.get(CONFIGMAPS, "settings", scenario.namespace)


async def _without_status(aggregator: StatusAggregator) -> list[str]:
    return list(aggregator.stats.without_status)
