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

The comparison figure from the same run: the API server's own latency for one `/status` write,
and how long the burst of N writes took. The last stdout line is one JSON object.

    python benchmarks/bench_status.py [--targets N] [--duration S] [--json FILE]
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

from pytest_syncer.processes import ServiceProcess
from pytest_syncer.status.objects import (
    deployment,
    deployment_status,
    heartbeat,
    sync_status,
    sync_target,
)
from pytest_syncer.syncer.client import SYNC_STATUSES, SYNC_TARGETS, KubeClient, Resource
from pytest_syncer.syncer.transform.naming import sync_target_key

UPSTREAM = "upstream"
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


async def run(kubeconfig: Path, sizes: list[int], timeout: float) -> dict[str, Any]:
    async with await KubeClient.from_kubeconfig(kubeconfig) as client:
        floor = await single_write_ms(client)
        progress(f"single /status write: {floor} ms")
        results: dict[str, Any] = {}
        for count in sizes:
            size = Size(client, count)
            progress(f"{count} targets: writing SyncTargets, the Deployment, SyncStatus objects")
            await size.set_up()
            if not await size.settle(time.monotonic() + timeout):
                progress(f"{count} targets: the initial aggregate never settled")
                results[str(count)] = {"converge_s": None, "correct": False, "upstream_writes": 0}
                continue
            results[str(count)] = await size.measure(timeout)
            progress(f"{count} targets: {results[str(count)]}")
    return {
        "sizes": results,
        "comparison": {"apiserver_single_status_write_ms": floor},
        "note": "SyncStatus objects written by the benchmark as N syncers would (isolates the "
        "hub's aggregator); converge_s is from the last acknowledged write",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, help="one size (default: 50, 100 and 500)")
    parser.add_argument(
        "--duration", type=float, default=20.0, help="deadline in seconds for each convergence"
    )
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    sizes = [args.targets] if args.targets else [50, 100, 500]
    with tempfile.TemporaryDirectory(prefix="bench-status-") as scratch:
        work = Path(scratch)
        secret = work / "secret"
        secret.write_text(secrets.token_hex(32))
        with ServiceProcess(
            "apiserver",
            [f"--clusters={UPSTREAM}", f"--kubeconfig-dir={work / 'kubeconfigs'}"],
            log_path=work / "apiserver.log",
        ) as api:
            kubeconfig = Path(api.ready["kubeconfigs"][UPSTREAM])
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
                result = asyncio.run(run(kubeconfig, sizes, args.duration))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
