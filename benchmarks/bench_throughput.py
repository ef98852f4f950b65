"""Sustained placed writes: the highest rate of creates, updates and deletes on N targets at
which sync p99 stays under 1 s.

Starts the embedded API server and the reference syncer pooled as `bench_sync.py` does (one
process per 25 targets, two downstream clusters). Then ramps: at each offered rate (placed
writes per second) workloads are started open-loop, each a ConfigMap placed on all N targets
that is created, updated and deleted, every write waiting until all N targets show it (a copy
at the new revision, or the copy gone), seen through watches on the downstream clusters. A
step holds when its sync p99 is under 1 s, no write timed out and the achieved rate kept up
with the offered one; the ramp stops at the second step that does not.

Beside it, from the same run: the API requests one placement (create, update, delete) cost,
from the server's `/metrics` (watches and heartbeats aside, the benchmark's own three writes
included), and the API server's own write rate (unplaced creates, updates and deletes from
concurrent clients): the floor the synced rate compares with; and the machine's speed over the
run, `pytest_syncer.bench.reference_work` sampled every 2 s. The last stdout line is
``{"throughput": {targets, sustained_writes_per_s, p99_ms, ...}, "steps": [...],
"reference_work": {median_ms, low_ms, high_ms, samples}, "requests_per_placement": ...,
"apiserver": {writes_per_s}}``.

    python benchmarks/bench_throughput.py [--targets N] [--step S] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pytest_syncer.apiserver.http.metrics import REQUESTS, parse
from pytest_syncer.apiserver.server import ADMIN_KUBECONFIG
from pytest_syncer.bench.reference_work import ReferenceSamples
from pytest_syncer.contract.naming import placement_label, sync_target_key
from pytest_syncer.kubeclient.client import KubeClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sync import (  # type: ignore[import-not-found]
    CONFIGMAPS,
    DOWNSTREAMS,
    NAMESPACE,
    UPSTREAM,
    api_server,
    create_targets,
    percentile,
    start_syncers,
)

RATES = (2, 4, 6, 8, 10, 12, 15, 18, 22, 26, 30, 35, 40)
SYNC_BAR_MS = 1000.0
WRITE_TIMEOUT = 10.0
GONE = "gone"


def progress(message: str) -> None:
    print(f"bench_throughput: {message}", file=sys.stderr, flush=True)


class Sightings:
    """Every downstream watch event of a ConfigMap in a target's namespace: (target, name,
    rev or GONE) -> when; waiters wake on each."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], dict[str, float]] = {}
        self.changed = asyncio.Condition()

    async def watch(self, client: KubeClient, namespaces: dict[str, str]) -> None:
        version = (await client.list(CONFIGMAPS))["metadata"]["resourceVersion"]
        while True:
            async for event in client.watch(CONFIGMAPS, version):
                obj = event.get("object") or {}
                metadata = obj.get("metadata") or {}
                version = metadata.get("resourceVersion", version)
                target = namespaces.get(metadata.get("namespace", ""))
                if target is None:
                    continue
                kind = event.get("type")
                rev = GONE if kind == "DELETED" else (obj.get("data") or {}).get("rev", "")
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    stamps = self.seen.setdefault((metadata["name"], rev), {})
                    stamps.setdefault(target, time.perf_counter())
                    async with self.changed:
                        self.changed.notify_all()

    async def wait(self, name: str, rev: str, targets: int) -> float:
        """When the last of `targets` targets showed (name, rev); TimeoutError past the limit."""

        def done() -> bool:
            return len(self.seen.get((name, rev), {})) >= targets

        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(done), WRITE_TIMEOUT)
        return max(self.seen.pop((name, rev)).values())


async def lifecycle(
    upstream: KubeClient,
    sightings: Sightings,
    labels: dict[str, str],
    name: str,
    targets: int,
    latencies: list[float],
) -> int:
    """Create, update, delete one placed ConfigMap, each write synced before the next; the
    writes that synced in time."""
    metadata = {"name": name, "namespace": NAMESPACE, "labels": labels}
    writes = (
        ("0", lambda: upstream.create(CONFIGMAPS, {"metadata": metadata, "data": {"rev": "0"}})),
        ("1", lambda: upstream.patch(CONFIGMAPS, name, {"data": {"rev": "1"}}, NAMESPACE)),
        (GONE, lambda: upstream.delete(CONFIGMAPS, name, NAMESPACE)),
    )
    synced = 0
    for rev, write in writes:
        start = time.perf_counter()
        await write()
        try:
            seen = await sightings.wait(name, rev, targets)
        except TimeoutError:
            latencies.append(float("inf"))
            return synced
        latencies.append((seen - start) * 1000)
        synced += 1
    return synced


async def step(
    upstream: KubeClient,
    sightings: Sightings,
    labels: dict[str, str],
    targets: int,
    rate: float,
    duration: float,
    prefix: str,
) -> dict[str, Any]:
    """Offer `rate` placed writes/s (a new workload every 3/rate s) for `duration` seconds."""
    latencies: list[float] = []
    tasks = []
    started = time.perf_counter()
    index = 0
    while (now := time.perf_counter()) < started + duration:
        name = f"{prefix}-{index}"
        tasks.append(
            asyncio.create_task(lifecycle(upstream, sightings, labels, name, targets, latencies))
        )
        index += 1
        await asyncio.sleep(max(0.0, started + index * 3 / rate - now))
    synced = sum(await asyncio.gather(*tasks))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    p99 = percentile(ordered, 0.99)
    achieved = synced / elapsed
    holds = p99 < SYNC_BAR_MS and achieved >= 0.8 * rate
    return {
        "offered_writes_per_s": rate,
        "achieved_writes_per_s": round(achieved, 2),
        "writes": len(latencies),
        "timeouts": sum(1 for value in latencies if value == float("inf")),
        "p50_ms": round(percentile(ordered, 0.5), 1),
        "p99_ms": round(p99, 1) if p99 != float("inf") else None,
        "holds": holds,
        "load_average": round(os.getloadavg()[0], 1),
    }


async def request_count(admin: KubeClient) -> float:
    """Requests so far, long-lived watches and SyncTarget heartbeats aside."""
    return sum(
        value
        for name, labels, value in parse(await admin.metrics())
        if name == REQUESTS and labels["verb"] != "WATCH" and labels["resource"] != "synctargets"
    )


async def apiserver_writes(upstream: KubeClient, duration: float, clients: int = 8) -> float:
    """The API server's own rate of unplaced creates, updates and deletes, `clients` at once."""
    done = 0
    deadline = time.perf_counter() + duration

    async def client(number: int) -> None:
        nonlocal done
        index = 0
        while time.perf_counter() < deadline:
            name = f"direct-{number}-{index}"
            body = {"metadata": {"name": name, "namespace": NAMESPACE}, "data": {"rev": "0"}}
            await upstream.create(CONFIGMAPS, body)
            await upstream.patch(CONFIGMAPS, name, {"data": {"rev": "1"}}, NAMESPACE)
            await upstream.delete(CONFIGMAPS, name, NAMESPACE)
            done += 3
            index += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(number) for number in range(clients)))
    return done / (time.perf_counter() - started)


async def sample_reference(reference: ReferenceSamples) -> None:
    """The machine's speed through the run, a slice of the reference work every 2 s."""
    while True:
        reference.take()
        await asyncio.sleep(2.0)


def reference_json(reference: ReferenceSamples) -> dict[str, Any] | None:
    figure = reference.figure()
    if figure is None:
        return None
    return {
        "median_ms": round(figure.median_ms, 1),
        "low_ms": round(figure.low_ms, 1),
        "high_ms": round(figure.high_ms, 1),
        "samples": figure.samples,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    names = [f"target-{index:03d}" for index in range(args.targets)]
    reference = ReferenceSamples()
    labels = {placement_label(sync_target_key(UPSTREAM, n)): "Sync" for n in names}
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        workdir = Path(tmp)
        async with api_server(workdir) as kubeconfigs, contextlib.AsyncExitStack() as stack:
            stack.callback(asyncio.create_task(sample_reference(reference)).cancel)
            upstream = await KubeClient.from_kubeconfig(kubeconfigs[UPSTREAM])
            stack.push_async_callback(upstream.close)
            # `/metrics` is the admin's to read, as a real server's is system:masters'.
            admin_kubeconfig = workdir / "kubeconfigs" / ADMIN_KUBECONFIG
            admin = await KubeClient.from_kubeconfig(admin_kubeconfig, context=UPSTREAM)
            stack.push_async_callback(admin.close)
            namespaces = await create_targets(upstream, names)
            syncers = start_syncers(workdir, kubeconfigs, names, "configmaps")
            stack.callback(lambda: [syncer.stop() for syncer in syncers])
            sightings = Sightings()
            watches = []
            for cluster in DOWNSTREAMS:
                client = await KubeClient.from_kubeconfig(kubeconfigs[cluster])
                stack.push_async_callback(client.close)
                watches.append(asyncio.create_task(sightings.watch(client, namespaces[cluster])))
            try:
                # One placement first: every target's namespace below exists from here on.
                warm: list[float] = []
                await lifecycle(upstream, sightings, labels, "warm", len(names), warm)
                before = await request_count(admin)
                steps: list[dict[str, Any]] = []
                placements = 0
                for number, rate in enumerate(RATES):
                    result = await step(
                        upstream, sightings, labels, len(names), rate, args.step, f"w{number}"
                    )
                    placements += result["writes"] // 3
                    steps.append(result)
                    progress(json.dumps(result))
                    if sum(1 for s in steps if not s["holds"]) >= 2:
                        break
                after = await request_count(admin)
            finally:
                for task in watches:
                    task.cancel()
            direct = await apiserver_writes(upstream, args.step / 2)
    sustained = max(
        (s for s in steps if s["holds"]), key=lambda s: s["offered_writes_per_s"], default=None
    )
    per_placement = (after - before) / placements if placements else None
    return {
        "throughput": {
            "targets": len(names),
            "sustained_writes_per_s": sustained["achieved_writes_per_s"] if sustained else 0.0,
            "offered_writes_per_s": sustained["offered_writes_per_s"] if sustained else 0,
            "p99_ms": sustained["p99_ms"] if sustained else None,
            "load_average": round(os.getloadavg()[0], 1),
        },
        "steps": steps,
        "reference_work": reference_json(reference),
        "requests_per_placement": round(per_placement, 1) if per_placement else None,
        "requests_per_placement_per_target": (
            round(per_placement / len(names), 2) if per_placement else None
        ),
        "apiserver": {"writes_per_s": round(direct, 1)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--step", type=float, default=10.0, help="seconds per offered rate")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    text = json.dumps(result, sort_keys=True)
    if args.json is not None:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
