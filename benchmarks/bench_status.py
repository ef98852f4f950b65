"""Status aggregation across N targets: from the last target's change to a right upstream status.

Starts the embedded API server and the hub (whose aggregator is under test) as real processes.
For each size N it places one Deployment on N SyncTargets with fresh heartbeats, writes their N
SyncStatus objects itself (as N syncers would: this isolates the aggregator from the syncers
and the simulator), lets the aggregate settle, then changes every target's downstream status at
once and measures, through a watch on the Deployment:

- converge_s: last SyncStatus write acknowledged -> the upstream status equals the aggregate
  computed here independently (all replicas ready, Available true, observedGeneration 1);
- correct: whether it got there within the deadline;
- upstream_writes: Deployment status writes during the change (watch events), against N.

With `--through-syncers` the change goes the whole way instead: `pytest-syncer syncer`
processes, pooled as the harness pools them (25 targets each, at most 10 processes: 1000
targets are 10 pools of 100), on four downstream clusters, copy the Deployment down, the
benchmark writes the N copies' status below (as a kubelet and the controllers would), and each
syncer's collector carries it up to its SyncStatus; converge_s is then from the last
downstream status write acknowledged (default sizes 50 and 100).

The comparison figure from the same run: the API server's own latency for one `/status` write,
and how long the burst of N writes took. The last stdout line is one JSON object.

    python benchmarks/bench_status.py [--targets N] [--through-syncers] [--duration S]
        [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pytest_syncer.contract.naming import CLUSTER_LABEL, sync_target_key
from pytest_syncer.harness.config import pool_size_for
from pytest_syncer.kubeclient.client import SYNC_STATUSES, SYNC_TARGETS, KubeClient, Resource
from pytest_syncer.process.parent import ServiceProcess
from pytest_syncer.status.objects import (
    deployment,
    deployment_status,
    heartbeat,
    sync_status,
    sync_target,
)

UPSTREAM = "upstream"
DOWNSTREAMS = [f"down-{index}" for index in range(4)]
REPLICAS = 2
CONCURRENCY = 16
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)


def progress(message: str) -> None:
    print(f"bench_status: {message}", file=sys.stderr, flush=True)


async def bounded(calls: list[Any], limit: int = CONCURRENCY) -> None:
    """Run coroutines with at most `limit` in flight, as N syncers would write at once."""
    gate = asyncio.Semaphore(limit)

    async def run(call: Any) -> None:
        async with gate:
            await call

    await asyncio.gather(*(run(call) for call in calls))


def is_expected(status: dict[str, Any], targets: int, ready: int) -> bool:
    """The aggregate of `targets` targets that each report `ready` of REPLICAS ready."""
    conditions = {c.get("type"): c for c in status.get("conditions") or ()}
    all_ready = ready == REPLICAS
    return (
        status.get("replicas") == targets * REPLICAS
        and status.get("readyReplicas", 0) == targets * ready
        and status.get("observedGeneration") == 1
        and conditions.get("Available", {}).get("status") == ("True" if all_ready else "False")
    )


class Size:
    """One workload on `targets` targets in a namespace of its own."""

    def __init__(self, client: KubeClient, targets: int) -> None:
        self.client = client
        self.count = targets
        self.namespace = f"bench-{targets}"
        self.names = [f"b{targets}-{index:04}" for index in range(targets)]
        self.workload: dict[str, Any] = {}

    async def set_up(self) -> None:
        client = self.client
        await client.create(
            NAMESPACES,
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}},
        )
        now = time.time()

        async def add_target(name: str) -> None:
            await client.create(SYNC_TARGETS, sync_target(name))
            await client.patch(SYNC_TARGETS, name, heartbeat(now), subresource="status")

        await bounded([add_target(name) for name in self.names])
        keys = [sync_target_key(UPSTREAM, name) for name in self.names]
        self.workload = await client.create(
            DEPLOYMENTS, deployment("web", self.namespace, keys, REPLICAS)
        )
        initial = deployment_status(1, REPLICAS, 0, False)

        async def add_status(name: str) -> None:
            obj = sync_status(self.workload, name, sync_target_key(UPSTREAM, name), initial)
            await client.create(SYNC_STATUSES, obj)
            await client.patch(
                SYNC_STATUSES,
                obj["metadata"]["name"],
                {"status": obj["status"]},
                self.namespace,
                subresource="status",
            )

        await bounded([add_status(name) for name in self.names])

    async def status(self) -> dict[str, Any]:
        obj = await self.client.get(DEPLOYMENTS, "web", self.namespace)
        found: dict[str, Any] = obj.get("status") or {}
        return found

    async def settle(self, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if is_expected(await self.status(), self.count, 0):
                return True
            await asyncio.sleep(0.1)
        return False

    async def change_all(self) -> float:
        """Every target reports all replicas ready; returns when the last write was acknowledged."""
        ready = deployment_status(1, REPLICAS, REPLICAS, True)

        async def report(name: str) -> None:
            obj = sync_status(self.workload, name, sync_target_key(UPSTREAM, name), ready)
            await self.client.patch(
                SYNC_STATUSES,
                obj["metadata"]["name"],
                {"status": obj["status"]},
                self.namespace,
                subresource="status",
            )

        await bounded([report(name) for name in self.names])
        return time.monotonic()

    async def measure(self, timeout: float) -> dict[str, Any]:
        listing = await self.client.list(DEPLOYMENTS, self.namespace)
        version = listing["metadata"]["resourceVersion"]
        writes = 0
        converged_at: list[float] = []

        async def follow() -> None:
            nonlocal writes
            async for event in self.client.watch(
                DEPLOYMENTS, version, self.namespace, timeout_seconds=int(timeout) + 5
            ):
                if event.get("type") != "MODIFIED":
                    continue
                writes += 1
                if is_expected(event["object"].get("status") or {}, self.count, REPLICAS):
                    converged_at.append(time.monotonic())
                    return

        watcher = asyncio.create_task(follow())
        started = time.monotonic()
        last_change = await self.change_all()
        burst_s = last_change - started
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watcher, timeout)
        correct = bool(converged_at) and is_expected(await self.status(), self.count, REPLICAS)
        converge_s = max(0.0, converged_at[0] - last_change) if converged_at else None
        return {
            "converge_s": round(converge_s, 3) if converge_s is not None else None,
            "correct": correct,
            "upstream_writes": writes,
            "status_writes": self.count,
            "burst_s": round(burst_s, 3),
        }


class ThroughSyncers(Size):
    """The same workload, but its status travels from the copies below through real syncers."""

    def __init__(
        self, client: KubeClient, targets: int, work: Path, kubeconfigs: dict[str, Path]
    ) -> None:
        super().__init__(client, targets)
        self.work = work
        self.kubeconfigs = kubeconfigs
        self.syncers: list[ServiceProcess] = []
        self.below: dict[str, KubeClient] = {}
        self.copies: list[tuple[str, str, int]] = []
        """(downstream cluster, namespace, generation) of each copy below."""

    def cluster_of(self, index: int) -> str:
        return DOWNSTREAMS[index % len(DOWNSTREAMS)]

    async def set_up(self) -> None:
        await self.client.create(
            NAMESPACES,
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}},
        )
        now = time.time()

        async def add_target(name: str) -> None:
            await self.client.create(SYNC_TARGETS, sync_target(name))
            await self.client.patch(SYNC_TARGETS, name, heartbeat(now), subresource="status")

        await bounded([add_target(name) for name in self.names])
        pool = pool_size_for(self.count)
        await asyncio.gather(
            *(
                asyncio.to_thread(self.start_pool, index, pool)
                for index in range(0, self.count, pool)
            )
        )
        keys = [sync_target_key(UPSTREAM, name) for name in self.names]
        self.workload = await self.client.create(
            DEPLOYMENTS, deployment("web", self.namespace, keys, REPLICAS)
        )
        for cluster in DOWNSTREAMS:
            self.below[cluster] = await KubeClient.from_kubeconfig(self.kubeconfigs[cluster])
        deadline = time.monotonic() + 60
        while len(self.copies) < self.count and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            self.copies = await self.find_copies(set(keys))
        progress(f"{self.count} targets: {len(self.copies)} copies below")
        await self.report_below(0)

    def start_pool(self, first: int, size: int) -> None:
        names = self.names[first : first + size]
        pool = self.work / f"pool-{names[0]}.json"
        pool.write_text(
            json.dumps(
                [
                    {
                        "name": name,
                        "downstream_kubeconfig": str(
                            self.kubeconfigs[self.cluster_of(first + offset)]
                        ),
                    }
                    for offset, name in enumerate(names)
                ]
            )
        )
        syncer = ServiceProcess(
            "syncer",
            [
                f"--upstream-kubeconfig={self.kubeconfigs[UPSTREAM]}",
                f"--sync-targets-file={pool}",
                "--resources=deployments.apps",
                "--heartbeat-interval=60",
            ],
            log_path=self.work / f"syncer-{names[0]}.log",
            startup_timeout=120,
        )
        self.syncers.append(syncer)
        syncer.start()

    async def find_copies(self, keys: set[str]) -> list[tuple[str, str, int]]:
        found = []
        for cluster, client in self.below.items():
            listing = await client.list(DEPLOYMENTS)
            for item in listing["items"]:
                metadata = item["metadata"]
                if (
                    metadata["name"] == "web"
                    and metadata.get("labels", {}).get(CLUSTER_LABEL) in keys
                ):
                    found.append((cluster, metadata["namespace"], metadata.get("generation", 1)))
        return found

    async def report_below(self, ready: int) -> None:
        """Every copy's status below says `ready` of REPLICAS ready, as its controller would."""

        async def report(cluster: str, namespace: str, generation: int) -> None:
            status = deployment_status(generation, REPLICAS, ready, ready == REPLICAS)
            await self.below[cluster].patch(
                DEPLOYMENTS, "web", {"status": status}, namespace, subresource="status"
            )

        await bounded([report(*copy) for copy in self.copies])

    async def change_all(self) -> float:
        """Every copy below reports all replicas ready; returns when the last write was
        acknowledged."""
        await self.report_below(REPLICAS)
        return time.monotonic()

    async def close(self) -> None:
        for client in self.below.values():
            await client.close()
        await asyncio.gather(*(asyncio.to_thread(syncer.stop) for syncer in self.syncers))


async def single_write_ms(client: KubeClient, samples: int = 60) -> float:
    """The API server's own latency for one `/status` merge patch: the floor of any aggregate."""
    await client.create(SYNC_TARGETS, sync_target("bench-floor"))
    timings = []
    for index in range(samples):
        started = time.perf_counter()
        await client.patch(
            SYNC_TARGETS, "bench-floor", heartbeat(time.time() + index), subresource="status"
        )
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2)


async def run(
    kubeconfigs: dict[str, Path], sizes: list[int], timeout: float, work: Path | None
) -> dict[str, Any]:
    """`work` set: measure through syncer processes writing there (`--through-syncers`)."""
    async with await KubeClient.from_kubeconfig(kubeconfigs[UPSTREAM]) as client:
        floor = await single_write_ms(client)
        progress(f"single /status write: {floor} ms")
        results: dict[str, Any] = {}
        for count in sizes:
            size = (
                Size(client, count)
                if work is None
                else ThroughSyncers(client, count, work, kubeconfigs)
            )
            progress(f"{count} targets: setting up ({type(size).__name__})")
            try:
                await size.set_up()
                if not await size.settle(time.monotonic() + timeout):
                    progress(f"{count} targets: the initial aggregate never settled")
                    results[str(count)] = {
                        "converge_s": None,
                        "correct": False,
                        "upstream_writes": 0,
                    }
                    continue
                results[str(count)] = await size.measure(timeout)
            finally:
                if isinstance(size, ThroughSyncers):
                    await size.close()
            progress(f"{count} targets: {results[str(count)]}")
    if work is None:
        note = (
            "SyncStatus objects written by the benchmark as N syncers would (isolates the "
            "hub's aggregator); converge_s is from the last acknowledged write"
        )
    else:
        note = (
            "through pooled syncer processes: the benchmark writes each copy's status below, "
            "the collectors carry it up; converge_s is from the last acknowledged write below"
        )
    return {
        "sizes": results,
        "comparison": {"apiserver_single_status_write_ms": floor},
        "path": "aggregator" if work is None else "syncers",
        "note": note,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, help="one size (default: 50, 100 and 500)")
    parser.add_argument(
        "--duration", type=float, default=20.0, help="deadline in seconds for each convergence"
    )
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument(
        "--through-syncers",
        action="store_true",
        help="change the copies' status below and let real syncers carry it up "
        "(default sizes 50 and 100)",
    )
    args = parser.parse_args()
    default_sizes = [50, 100] if args.through_syncers else [50, 100, 500]
    sizes = [args.targets] if args.targets else default_sizes
    clusters = [UPSTREAM, *DOWNSTREAMS] if args.through_syncers else [UPSTREAM]
    with tempfile.TemporaryDirectory(prefix="bench-status-") as scratch:
        work = Path(scratch)
        secret = work / "secret"
        secret.write_text(secrets.token_hex(32))
        with ServiceProcess(
            "apiserver",
            [f"--clusters={','.join(clusters)}", f"--kubeconfig-dir={work / 'kubeconfigs'}"],
            log_path=work / "apiserver.log",
        ) as api:
            kubeconfigs = {name: Path(path) for name, path in api.ready["kubeconfigs"].items()}
            kubeconfig = kubeconfigs[UPSTREAM]
            with ServiceProcess(
                "hub",
                [
                    f"--upstream-kubeconfig={kubeconfig}",
                    f"--token-secret-file={secret}",
                    "--insecure-http",
                    "--heartbeat-threshold=600",
                ],
                log_path=work / "hub.log",
            ):
                result = asyncio.run(
                    run(kubeconfigs, sizes, args.duration, work if args.through_syncers else None)
                )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
