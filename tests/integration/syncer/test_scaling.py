"""Nothing quadratic: what one placement costs the API server grows no faster than its targets.

Sixteen targets in one pooled syncer process (as `pytest-syncer up` pools them). A ConfigMap is
placed on 4 of them, synced, deleted and gone; then another on all 16. The server's
`/metrics` counts the requests (heartbeats and long-lived watches aside), the SyncStatus lists
and the objects lists return between the two ends, less the test's own polling. Per target,
the bigger placement may cost a little more (noise, a resync) but not 4 times more, no more
than the five writes a target's share needs and a little spare, and the
number of lists must not grow with the targets: a list per deletion per target (the SyncStatus
count the syncer used to take) returns O(targets) objects each time, O(targets^2) per
placement, and fails here. Nor the watches: the process watches SyncStatus objects once for
all its targets, where it used to open one more per target.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.apiserver.http.metrics import LIST_RETURNED, REQUESTS, parse, total
from pytest_syncer.contract.naming import WORKLOAD_UID_LABEL
from pytest_syncer.contract.objects import SyncPhase
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

TARGETS = tuple(TargetInfo(f"s{index:02}", f"down-{index % 2 + 1}") for index in range(16))
SMALL, LARGE = 4, 16
#: How much more one target's share of a placement may cost at 16 targets than at 4.
SLACK = 1.5
#: What one target's share of a placement needs (docs/syncer.md): its SyncStatus created, its
#: status written, and deleted; the copy below created and deleted. An Event per plain creation,
#: a second create and GET below, or a second status write (9 per target before) exceed it.
WRITES_PER_TARGET = 5
#: Room for what the workload costs once (its create and delete, the shared finalizer's two
#: writes, the SyncStatus lists) spread over the targets, and a retried write.
SPARE_PER_TARGET = 1.5


@pytest.fixture(scope="module")
def environment(
    apiserver: BackgroundAPIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SyncerProcessRig]:
    env = setup_environment(apiserver.kubeconfigs, tmp_path_factory.mktemp("syncers"), TARGETS)
    try:
        env.syncer([target.name for target in TARGETS]).start()
        yield env
    finally:
        env.stop()


def _counts(page: str) -> tuple[float, float, float]:
    """Requests (but heartbeats and watches), SyncStatus lists and objects lists returned."""
    samples = parse(page)
    requests = sum(
        value
        for name, labels, value in samples
        if name == REQUESTS and labels["resource"] != "synctargets" and labels["verb"] != "WATCH"
    )
    status_lists = sum(
        value
        for name, labels, value in samples
        if name == REQUESTS and labels["resource"] == "syncstatuses" and labels["verb"] == "LIST"
    )
    returned = sum(value for name, _, value in samples if name == LIST_RETURNED)
    return requests, status_lists, returned


async def _placement_cost(
    upstream: KubeClient, admin: KubeClient, ns: str, name: str, count: int
) -> tuple[int, int, int]:
    """(requests, SyncStatus lists, list objects returned) to place a ConfigMap on `count`
    targets, see every SyncStatus Synced, delete it and see it gone, less the test's own."""
    own_requests = own_lists = own_returned = 0

    async def statuses(uid: str) -> list[str]:
        nonlocal own_requests, own_lists, own_returned
        listing = await upstream.list(
            SYNC_STATUSES, ns, label_selector=f"{WORKLOAD_UID_LABEL}={uid}"
        )
        own_requests += 1
        own_lists += 1
        own_returned += len(listing["items"])
        return [(item.get("status") or {}).get("phase", "") for item in listing["items"]]

    async def present() -> bool:
        nonlocal own_requests
        own_requests += 1
        return await upstream.get_or_none(KNOWN_RESOURCES["configmaps"], name, ns) is not None

    before = _counts(await admin.metrics())
    labels = {target.label: "Sync" for target in TARGETS[:count]}
    created = await upstream.create(
        KNOWN_RESOURCES["configmaps"], workload("configmaps", ns, name, labels)
    )
    uid = created["metadata"]["uid"]
    await await_until(
        lambda: statuses(uid),
        lambda phases: phases.count(SyncPhase.SYNCED) == count,
        what=f"{name} Synced on {count} targets",
        timeout=60,
        interval=0.5,
    )
    await upstream.delete(KNOWN_RESOURCES["configmaps"], name, ns)
    await await_until(
        present, lambda found: not found, what=f"{name} gone", timeout=60, interval=0.5
    )
    after = _counts(await admin.metrics())
    own_requests += 2
    return (
        int(after[0] - before[0] - own_requests),
        int(after[1] - before[1] - own_lists),
        int(after[2] - before[2] - own_returned),
    )


async def test_one_placement_costs_linear_requests_in_its_targets(
    environment: SyncerProcessRig, apiserver: BackgroundAPIServer
) -> None:
    admin = await KubeClient.from_kubeconfig(apiserver.admin_kubeconfig, context=UPSTREAM)
    async with environment.clients(UPSTREAM) as clients, admin:
        upstream = clients[UPSTREAM]
        await upstream.create(NAMESPACES, namespace("scaling"))
        # A first placement warms every target's caches and namespaces below.
        await _placement_cost(upstream, admin, "scaling", "warm", LARGE)
        small = await _placement_cost(upstream, admin, "scaling", "small", SMALL)
        large = await _placement_cost(upstream, admin, "scaling", "large", LARGE)
    requests_small, lists_small, returned_small = small
    requests_large, lists_large, returned_large = large
    assert requests_small > 0
    assert requests_large / LARGE <= WRITES_PER_TARGET + SPARE_PER_TARGET, (small, large)
    assert requests_large / LARGE <= SLACK * requests_small / SMALL, (small, large)
    assert returned_large / LARGE <= SLACK * max(returned_small, SMALL) / SMALL, (small, large)
    # No list per deletion per target: whether a workload is left anywhere is a cache lookup.
    assert lists_large <= lists_small + 2, (small, large)


async def test_the_pooled_process_watches_syncstatuses_once_for_all_its_targets(
    environment: SyncerProcessRig, apiserver: BackgroundAPIServer
) -> None:
    """Sixteen targets, one process, one SyncStatus watch (a watch that reached its 300 s
    timeout is resumed: one more); a watch per target would be seventeen."""
    admin = await KubeClient.from_kubeconfig(apiserver.admin_kubeconfig, context=UPSTREAM)
    async with admin:
        page = await admin.metrics()
    watches = total(page, REQUESTS, verb="WATCH", resource="syncstatuses")
    assert 1 <= watches <= 2, watches
