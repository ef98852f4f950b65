"""An upstream and downstream logical clusters in one API server, SyncTargets, syncer processes.

Shared by the syncer integration tests: each module builds one environment (one API server,
one or a few real `pytest-syncer syncer` processes) and its tests use distinct namespaces.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pytest_syncer.contract.naming import placement_label, sync_target_key
from pytest_syncer.contract.objects import NamespaceLocator, SyncTarget
from pytest_syncer.kubeclient.client import SYNC_TARGETS, ApiError, KubeClient
from pytest_syncer.process.parent import ServiceProcess

UPSTREAM = "upstream"
FAST_FLAGS = (
    "--heartbeat-interval",
    "1",
    "--namespace-cleanup-delay",
    "0.5",
    "--resync-period",
    "30",
    "--log-level",
    "DEBUG",
)


@dataclass
class TargetInfo:
    """A SyncTarget upstream and the logical cluster that plays its physical cluster."""

    name: str
    downstream: str
    uid: str = ""

    @property
    def key(self) -> str:
        return sync_target_key(UPSTREAM, self.name)

    @property
    def label(self) -> str:
        return placement_label(self.key)

    def namespace_below(self, upstream_namespace: str) -> str:
        target = SyncTarget(self.name, UPSTREAM, self.uid)
        return NamespaceLocator(target, UPSTREAM, upstream_namespace).downstream_namespace


@dataclass
class SyncerProcessRig:
    """Logical clusters of one API server, SyncTargets upstream, and the real syncer processes
    started against them. Not the harness's SyncerEnvironment: no hub, no provider, no status
    simulator; the syncer integration tests drive one process at a time."""

    kubeconfigs: dict[str, Path]
    workdir: Path
    targets: dict[str, TargetInfo] = field(default_factory=dict)
    processes: list[ServiceProcess] = field(default_factory=list)

    async def client(self, cluster: str) -> KubeClient:
        return await KubeClient.from_kubeconfig(self.kubeconfigs[cluster])

    @contextlib.asynccontextmanager
    async def clients(self, *clusters: str) -> AsyncIterator[dict[str, KubeClient]]:
        """A client per named cluster, all closed when the block ends."""
        opened: dict[str, KubeClient] = {}
        try:
            for name in clusters:
                opened[name] = await self.client(name)
            yield opened
        finally:
            for client in opened.values():
                await client.close()

    async def create_targets(self, targets: Sequence[TargetInfo]) -> None:
        async with await self.client(UPSTREAM) as upstream:
            for target in targets:
                body = {
                    "apiVersion": "workload.kcp.io/v1alpha1",
                    "kind": "SyncTarget",
                    "metadata": {"name": target.name},
                    "spec": {},
                }
                try:
                    created = await upstream.create(SYNC_TARGETS, body)
                except ApiError as error:
                    if not error.already_exists:
                        raise
                    created = await upstream.get(SYNC_TARGETS, target.name)
                target.uid = created["metadata"]["uid"]
                self.targets[target.name] = target

    def syncer(self, names: Sequence[str], *extra: str) -> ServiceProcess:
        """A syncer process (not started) for one target, or pooled for several."""
        label = "-".join(names)
        args = ["--upstream-kubeconfig", str(self.kubeconfigs[UPSTREAM]), *FAST_FLAGS, *extra]
        if len(names) == 1:
            target = self.targets[names[0]]
            args += [
                "--sync-target",
                target.name,
                "--downstream-kubeconfig",
                str(self.kubeconfigs[target.downstream]),
            ]
        else:
            pool = self.workdir / f"pool-{label}.yaml"
            entries = [
                {
                    "name": name,
                    "downstream_kubeconfig": str(self.kubeconfigs[self.targets[name].downstream]),
                }
                for name in names
            ]
            pool.write_text(yaml.safe_dump(entries))
            args += ["--sync-targets-file", str(pool)]
        process = ServiceProcess(
            "syncer", args, log_path=self.workdir / f"syncer-{label}.log", startup_timeout=60
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


def setup_environment(
    kubeconfigs: dict[str, Path], workdir: Path, targets: Sequence[TargetInfo]
) -> SyncerProcessRig:
    environment = SyncerProcessRig(dict(kubeconfigs), workdir)
    asyncio.run(environment.create_targets(targets))
    return environment
