"""Sync latency: an upstream write until the copy is visible on every target, for N targets.

Starts the embedded API server (an upstream and two downstream logical clusters, HTTPS) and
the reference syncer pooled as the harness runs it (one process per 25 targets; the
targets share two downstream clusters, as 50 targets share two kind clusters), places one
ConfigMap on all N targets, then creates and updates it round after round. The latency of each
(write, target) is measured by watching the downstream clusters, not by polling. In the same
run, the API server's own create latency ("direct") gives the floor. Progress goes to stderr;
the last stdout line is
``{"sync": {targets, p50_ms, p99_ms, ...}, "direct": {create_p50_ms, create_p99_ms}}``; `sync`
also splits creates from updates and gives the machine's load average, since on a shared
machine the figures follow it.

    python benchmarks/bench_sync.py [--targets N] [--duration S] [--json FILE]
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
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import yaml

from pytest_syncer.contract.naming import placement_label, sync_target_key
from pytest_syncer.contract.objects import NamespaceLocator, SyncTarget
from pytest_syncer.kubeclient.client import NAMESPACES, SYNC_TARGETS, KubeClient, Resource
from pytest_syncer.process.parent import ServiceProcess

UPSTREAM = "upstream"
DOWNSTREAMS = ("down-1", "down-2")
NAMESPACE = "bench"
TARGETS_PER_PROCESS = 25
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
ROUND_TIMEOUT = 10.0


def progress(message: str) -> None:
    print(f"bench_sync: {message}", file=sys.stderr, flush=True)


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


class DownstreamWatcher:
    """Watches ConfigMaps on one downstream cluster; tells when (target, name, rev) appeared."""

    def __init__(self, client: KubeClient, namespaces: dict[str, str]) -> None:
        self.client = client
        self.namespaces = namespaces
        self.seen: dict[tuple[str, str, str], float] = {}
        self.changed = asyncio.Event()

    async def run(self) -> None:
        listing = await self.client.list(CONFIGMAPS)
        version = listing["metadata"]["resourceVersion"]
        while True:
            async for event in self.client.watch(CONFIGMAPS, version):
                obj = event.get("object") or {}
                metadata = obj.get("metadata") or {}
                version = metadata.get("resourceVersion", version)
                target = self.namespaces.get(metadata.get("namespace", ""))
                if event.get("type") in ("ADDED", "MODIFIED") and target is not None:
                    rev = (obj.get("data") or {}).get("rev", "")
                    self.seen.setdefault((target, metadata["name"], rev), time.perf_counter())
                    self.changed.set()


async def wait_seen(
    watchers: list[DownstreamWatcher], targets: list[str], name: str, rev: str
) -> list[float]:
    """Times at which every target saw (name, rev); raises TimeoutError after a round's limit."""
    deadline = time.perf_counter() + ROUND_TIMEOUT
    while True:
        times = [
            stamp
            for watcher in watchers
            for (target, seen_name, seen_rev), stamp in watcher.seen.items()
            if seen_name == name and seen_rev == rev and target in targets
        ]
        if len(times) >= len(targets):
            return times
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError(f"{name} rev {rev} reached {len(times)} of {len(targets)} targets")
        for watcher in watchers:
            watcher.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.wait(
                    [asyncio.create_task(w.changed.wait()) for w in watchers],
                    return_when=asyncio.FIRST_COMPLETED,
                ),
                remaining,
            )


@contextlib.asynccontextmanager
async def api_server(workdir: Path) -> AsyncIterator[dict[str, Path]]:
    """The embedded API server as a real process; yields its kubeconfigs."""
    process = ServiceProcess(
        "apiserver",
        [
            "--clusters",
            ",".join([UPSTREAM, *DOWNSTREAMS]),
            "--kubeconfig-dir",
            str(workdir / "kubeconfigs"),
        ],
        log_path=workdir / "apiserver.log",
    )
    ready = process.start()
    try:
        yield {name: Path(path) for name, path in ready["kubeconfigs"].items()}
    finally:
        process.stop()


def downstream_of(index: int) -> str:
    return DOWNSTREAMS[index % len(DOWNSTREAMS)]


async def create_targets(upstream: KubeClient, names: list[str]) -> dict[str, dict[str, str]]:
    """SyncTargets upstream; per downstream cluster, namespace below -> target name."""
    await upstream.create(
        NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    )
    namespaces: dict[str, dict[str, str]] = {d: {} for d in DOWNSTREAMS}
    for index, name in enumerate(names):
        body = {"apiVersion": "workload.kcp.io/v1alpha1", "kind": "SyncTarget"}
        created = await upstream.create(SYNC_TARGETS, {**body, "metadata": {"name": name}})
        target = SyncTarget(name, UPSTREAM, created["metadata"]["uid"])
        below = NamespaceLocator(target, UPSTREAM, NAMESPACE).downstream_namespace
        namespaces[downstream_of(index)][below] = name
    return namespaces


def start_syncers(
    workdir: Path, kubeconfigs: dict[str, Path], names: list[str], resources: str
) -> list[ServiceProcess]:
    """Pooled syncers, one process per TARGETS_PER_PROCESS targets, as the harness runs them."""
    syncers: list[ServiceProcess] = []
    try:
        for first in range(0, len(names), TARGETS_PER_PROCESS):
            pool = names[first : first + TARGETS_PER_PROCESS]
            pool_file = workdir / f"pool-{first}.yaml"
            entries = [
                {"name": name, "downstream_kubeconfig": str(kubeconfigs[downstream_of(first + i)])}
                for i, name in enumerate(pool)
            ]
            pool_file.write_text(yaml.safe_dump(entries))
            args = ["--upstream-kubeconfig", str(kubeconfigs[UPSTREAM])]
            args += ["--sync-targets-file", str(pool_file), "--resources", resources]
            syncer = ServiceProcess(
                "syncer", args, log_path=workdir / f"syncer-{first}.log", startup_timeout=120
            )
            syncers.append(syncer)
            syncer.start()
    except BaseException:
        for syncer in syncers:
            syncer.stop()
        raise
    return syncers


async def measure_sync(
    upstream: KubeClient, watchers: list[DownstreamWatcher], names: list[str], duration: float
) -> dict[str, list[float]]:
    """Rounds of create + two updates of one workload placed on every target, for `duration`."""
    labels = {placement_label(sync_target_key(UPSTREAM, n)): "Sync" for n in names}
    by_write: dict[str, list[float]] = {"create": [], "update": []}
    deadline = time.perf_counter() + duration
    round_ = 0
    while time.perf_counter() < deadline:
        name = f"workload-{round_}"
        metadata = {"name": name, "namespace": NAMESPACE, "labels": labels}
        for rev in range(3):
            start = time.perf_counter()
            if rev == 0:
                await upstream.create(CONFIGMAPS, {"metadata": metadata, "data": {"rev": "0"}})
            else:
                patch = {"data": {"rev": str(rev)}}
                await upstream.patch(CONFIGMAPS, name, patch, NAMESPACE)
            times = await wait_seen(watchers, names, name, str(rev))
            by_write["create" if rev == 0 else "update"] += [(t - start) * 1000 for t in times]
        round_ += 1
        if round_ % 5 == 0:
            ordered = sorted(by_write["create"] + by_write["update"])
            p50, p99 = percentile(ordered, 0.5), percentile(ordered, 0.99)
            progress(f"{round_} rounds, {len(ordered)} samples, p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    return by_write


async def measure_direct(upstream: KubeClient, count: int) -> list[float]:
    """The API server's own create latency, one request at a time, in the same run."""
    latencies = []
    for index in range(count):
        body = {"metadata": {"name": f"direct-{index}", "namespace": NAMESPACE}, "data": {}}
        start = time.perf_counter()
        await upstream.create(CONFIGMAPS, body)
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def summary(values: list[float], prefix: str = "") -> dict[str, float]:
    ordered = sorted(values)
    return {
        f"{prefix}p50_ms": round(percentile(ordered, 0.5), 1),
        f"{prefix}p99_ms": round(percentile(ordered, 0.99), 1),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    names = [f"target-{index:03d}" for index in range(args.targets)]
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        workdir = Path(tmp)
        async with api_server(workdir) as kubeconfigs, contextlib.AsyncExitStack() as stack:
            upstream = await KubeClient.from_kubeconfig(kubeconfigs[UPSTREAM])
            stack.push_async_callback(upstream.close)
            namespaces = await create_targets(upstream, names)
            started = time.perf_counter()
            syncers = start_syncers(workdir, kubeconfigs, names, args.resources)
            stack.callback(lambda: [syncer.stop() for syncer in syncers])
            progress(
                f"{len(names)} targets in {len(syncers)} syncer processes ready in "
                f"{time.perf_counter() - started:.1f}s"
            )
            watchers = []
            for cluster in DOWNSTREAMS:
                client = await KubeClient.from_kubeconfig(kubeconfigs[cluster])
                stack.push_async_callback(client.close)
                watchers.append(DownstreamWatcher(client, namespaces[cluster]))
            tasks = [asyncio.create_task(watcher.run()) for watcher in watchers]
            try:
                by_write = await measure_sync(upstream, watchers, names, args.duration)
            finally:
                for task in tasks:
                    task.cancel()
            direct = await measure_direct(upstream, 200)
    samples = by_write["create"] + by_write["update"]
    return {
        "sync": {
            "targets": len(names),
            **summary(samples),
            "samples": len(samples),
            "resources": args.resources,
            "load_average": round(os.getloadavg()[0], 1),
            **summary(by_write["create"], "create_"),
            **summary(by_write["update"], "update_"),
        },
        "direct": {f"create_{key}": value for key, value in summary(direct).items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of write rounds")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--resources", default="configmaps", help="what the syncers watch")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    text = json.dumps(result, sort_keys=True)
    if args.json is not None:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
