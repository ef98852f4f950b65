"""Status end to end with real processes: 60 targets, pooled syncers, the simulator, the hub.

One embedded API server process serves the upstream workspace and 60 target clusters; three
pooled syncer processes (25 targets each at most) copy one Deployment down and collect its
status; the simulator plays each cluster's controllers with mixed profiles; the hub's
aggregator folds the 60 SyncStatus objects into the upstream Deployment's status.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import signal
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_syncer.contract.naming import placement_label, sync_target_key
from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.client import SYNC_TARGETS, KubeClient, Resource
from pytest_syncer.process.parent import ServiceProcess
from pytest_syncer.status.objects import deployment, sync_target
from pytest_syncer.status.rules import SYNC_TARGETS_READY
from pytest_syncer.syncer.engine.finalizer import SHARED_FINALIZER

UPSTREAM = "upstream"
TARGETS = [f"t{index:02}" for index in range(60)]
POOL = 25
REPLICAS = 4
SLOW = TARGETS[:5]
PARTIAL = TARGETS[5:10]
NEVER_READY = TARGETS[10]
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")


def profiles_for(never_ready: str | None) -> dict[str, Any]:
    clusters = dict.fromkeys(SLOW, "slow")
    clusters.update(dict.fromkeys(PARTIAL, "partially-ready"))
    if never_ready is not None:
        clusters[never_ready] = "never-ready"
    return {"default": "healthy", "clusters": clusters}


def write_json(path: Path, data: Any) -> None:
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(data))
    staging.replace(path)


@dataclass
class Environment:
    work: Path
    upstream_kubeconfig: Path
    profiles: Path
    processes: list[ServiceProcess]


async def create_sync_targets(kubeconfig: Path) -> None:
    """The syncers announce themselves ready once their SyncTargets exist."""
    async with await KubeClient.from_kubeconfig(kubeconfig) as client:
        for name in TARGETS:
            await client.create(SYNC_TARGETS, sync_target(name))


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    work = tmp_path_factory.mktemp("status-flow")
    processes: list[ServiceProcess] = []

    def start(command: str, args: list[str], log: str) -> dict[str, Any]:
        process = ServiceProcess(command, args, log_path=work / f"{log}.log", startup_timeout=60)
        processes.append(process)
        return process.start()

    try:
        api = start(
            "apiserver",
            [
                f"--clusters={','.join([UPSTREAM, *TARGETS])}",
                f"--kubeconfig-dir={work / 'kubeconfigs'}",
            ],
            "apiserver",
        )
        kubeconfigs = {name: Path(path) for name, path in api["kubeconfigs"].items()}
        upstream = kubeconfigs[UPSTREAM]
        secret = work / "hub-secret"
        secret.write_text(secrets.token_hex(32))
        start(
            "hub",
            [
                f"--upstream-kubeconfig={upstream}",
                f"--token-secret-file={secret}",
                "--insecure-http",
                "--heartbeat-threshold=4",
            ],
            "hub",
        )
        asyncio.run(create_sync_targets(upstream))
        profiles = work / "profiles.json"
        write_json(profiles, profiles_for(NEVER_READY))
        listing = work / "clusters.txt"
        listing.write_text("".join(f"{kubeconfigs[name]}\n" for name in TARGETS))
        start(
            "simulate",
            [
                f"--kubeconfig-list={listing}",
                f"--profiles-file={profiles}",
                "--time-scale=0.5",
                "--resources=deployments.apps",
            ],
            "simulate",
        )
        for index in range(0, len(TARGETS), POOL):
            pool = work / f"pool-{index // POOL}.json"
            write_json(
                pool,
                [
                    {"name": name, "downstream_kubeconfig": str(kubeconfigs[name])}
                    for name in TARGETS[index : index + POOL]
                ],
            )
            start(
                "syncer",
                [
                    f"--upstream-kubeconfig={upstream}",
                    f"--sync-targets-file={pool}",
                    "--resources=deployments.apps",
                    "--heartbeat-interval=1",
                ],
                f"syncer-{index // POOL}",
            )
        yield Environment(work, upstream, profiles, processes)
    finally:
        for process in reversed(processes):
            process.stop()


@pytest.fixture
async def upstream(environment: Environment) -> AsyncIterator[KubeClient]:
    async with await KubeClient.from_kubeconfig(environment.upstream_kubeconfig) as client:
        yield client


def summary(obj: dict[str, Any]) -> dict[str, Any]:
    """What the waits compare, and what a failed wait prints."""
    status = obj.get("status") or {}
    conditions = {c["type"]: c for c in status.get("conditions") or ()}
    available = conditions.get("Available", {})
    return {
        "generation": obj["metadata"].get("generation"),
        "observedGeneration": status.get("observedGeneration"),
        "replicas": status.get("replicas"),
        "readyReplicas": status.get("readyReplicas"),
        "availableReplicas": status.get("availableReplicas"),
        "Available": available.get("status"),
        "AvailableMessage": available.get("message", ""),
        "SyncTargetsReady": conditions.get(SYNC_TARGETS_READY, {}).get("message"),
    }


def expected(placed: list[str], never_ready: str | None) -> dict[str, Any]:
    """The aggregate computed from the profiles alone, independently of the rules' code."""
    ready = 0
    for name in placed:
        if name == never_ready:
            continue
        ready += 3 if name in PARTIAL else REPLICAS
    return {
        "generation": 1,
        "observedGeneration": 1,
        "replicas": REPLICAS * len(placed),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "Available": "False" if never_ready in placed else "True",
    }


def matches(want: dict[str, Any]) -> Any:
    return lambda seen: all(seen.get(key) == value for key, value in want.items())


def _metadata_without_server_fields(obj: dict[str, Any]) -> dict[str, Any]:
    server_fields = {"resourceVersion", "managedFields", "generation"}
    return {k: v for k, v in obj["metadata"].items() if k not in server_fields}


async def test_one_workload_on_sixty_targets_costs_one_write_per_syncer_process(
    environment: Environment, upstream: KubeClient
) -> None:
    """The scale note (docs/architecture.md): the syncers never write status or per-target marks
    onto the shared upstream object (60 targets x 60 watchers would be 3600 events), only the
    shared finalizer, once per process; everything else each target says goes into its
    SyncStatus."""
    keys = [sync_target_key(UPSTREAM, name) for name in TARGETS]
    created = await upstream.create(DEPLOYMENTS, deployment("shared", "default", keys, 1))
    versions: list[dict[str, Any]] = [created]

    async def record() -> None:
        async for event in upstream.watch(
            DEPLOYMENTS, created["metadata"]["resourceVersion"], "default"
        ):
            obj = event.get("object") or {}
            if event.get("type") == "MODIFIED" and obj["metadata"]["name"] == "shared":
                versions.append(obj)

    watching = asyncio.create_task(record())

    async def ready_message() -> str:
        conditions = versions[-1].get("status", {}).get("conditions") or ()
        return next((c["message"] for c in conditions if c["type"] == SYNC_TARGETS_READY), "")

    try:
        await await_until(
            ready_message,
            lambda message: message == "all 60 targets have a fresh heartbeat and are synced",
            what="the shared workload synced on all 60 targets, as the hub sees it",
            timeout=60,
        )
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    metadata_writes = [
        after["metadata"].get("finalizers")
        for before, after in itertools.pairwise(versions)
        if _metadata_without_server_fields(before) != _metadata_without_server_fields(after)
    ]
    assert len(metadata_writes) <= len(TARGETS) // POOL + 1, metadata_writes
    assert versions[-1]["metadata"]["finalizers"] == [SHARED_FINALIZER]
    assert all(before["spec"] == after["spec"] for before, after in itertools.pairwise(versions))
    await upstream.delete(DEPLOYMENTS, "shared", "default")


async def test_sixty_targets_aggregate_recover_and_leave(
    environment: Environment, upstream: KubeClient
) -> None:
    keys = {name: sync_target_key(UPSTREAM, name) for name in TARGETS}
    await upstream.create(DEPLOYMENTS, deployment("web", "default", keys.values(), REPLICAS))

    async def observe() -> dict[str, Any]:
        return summary(await upstream.get(DEPLOYMENTS, "web", "default"))

    seen = await await_until(
        observe,
        matches(expected(TARGETS, NEVER_READY)),
        what="the aggregate of 60 targets with one never ready",
        timeout=60,
    )
    assert seen["AvailableMessage"] == (
        f"not Available on 1 of 60 ready targets: {NEVER_READY} (MinimumReplicasUnavailable)"
    )
    assert seen["SyncTargetsReady"] == "all 60 targets have a fresh heartbeat and are synced"

    write_json(environment.profiles, profiles_for(None))
    seen = await await_until(
        observe,
        matches(expected(TARGETS, None)),
        what="the aggregate once the never-ready target recovered",
        timeout=30,
    )
    assert seen["AvailableMessage"] == "Available on all 60 ready targets"

    leaving = TARGETS[-1]
    await upstream.patch(
        DEPLOYMENTS,
        "web",
        {"metadata": {"labels": {placement_label(keys[leaving]): None}}},
        "default",
    )
    remaining = TARGETS[:-1]
    seen = await await_until(
        observe,
        matches(expected(remaining, None)),
        what="the aggregate without the target that left the placement",
        timeout=30,
    )
    assert seen["AvailableMessage"] == "Available on all 59 ready targets"

    # The last pool's syncer dies: its targets' heartbeats go stale; they are named, not counted.
    last_pool = environment.processes[-1]
    silent = [name for name in TARGETS[POOL * 2 :] if name in remaining]
    last_pool.signal(signal.SIGKILL)
    alive = [name for name in remaining if name not in silent]
    seen = await await_until(
        observe,
        lambda s: (
            s["readyReplicas"] == expected(alive, None)["readyReplicas"]
            and s["SyncTargetsReady"].startswith(f"stale heartbeat on {len(silent)}: ")
        ),
        what="the silent pool's targets reported stale and left out of the counters",
        timeout=30,
    )
    assert seen["Available"] == "True"
    assert seen["AvailableMessage"] == f"Available on all {len(alive)} ready targets"
