"""`SyncerEnvironment`: the clusters, the SyncTargets, the hub with its tunnels, the syncers and
(on the embedded provider) the simulator, started in that order and stopped in reverse.

Everything it starts is a real process it stops again, on success, failure or Ctrl-C: `close`
runs from the session fixture's finalizer and from an `atexit` guard.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client as k8s_client

from pytest_syncer.contract.heartbeat import last_heartbeat
from pytest_syncer.contract.naming import placement_label, sync_target_key
from pytest_syncer.contract.objects import NamespaceLocator, SyncTarget
from pytest_syncer.contract.wiring import TargetWiring
from pytest_syncer.harness.clusters.base import ClusterProvider, FaultNotSupported, ProvidedClusters
from pytest_syncer.harness.config import POOL_SIZE, HarnessConfig
from pytest_syncer.harness.custom_resources import (
    CustomResource,
    install_crds,
    learn_kinds,
    load_crds,
    syncer_resources,
)
from pytest_syncer.harness.environment_file import EnvironmentFacts, TargetFacts, WildcardFacts
from pytest_syncer.harness.kube import SYNC_TARGETS, Cluster, KubeObject
from pytest_syncer.harness.netfaults.proxy import FaultProxy
from pytest_syncer.harness.netfaults.wiring import proxied
from pytest_syncer.harness.run_stats import RunStats
from pytest_syncer.harness.syncers import SyncerFleet, heartbeat_interval_for
from pytest_syncer.harness.waiting import WaitTimeout, wait_until
from pytest_syncer.process.parent import ServiceProcess
from pytest_syncer.process.proc import resident_kib
from pytest_syncer.tunnel.auth import TokenAuthority

HEARTBEAT_THRESHOLD = 5.0
"""The hub calls a target stale after this many seconds without a heartbeat (tests: small),
up to 50 targets; with more it grows as the heartbeat interval does (`heartbeat_threshold_for`)."""
TOKEN_TTL = 24 * 3600.0
HUB_PING_INTERVAL = 2.0
"""The hub pings an idle tunnel after this many seconds and drops it when no pong comes within
half of it (aiohttp's heartbeat): a silent syncer is found within 3 s (tests: small)."""


def heartbeat_threshold_for(targets: int) -> float:
    """The hub's staleness threshold for `targets` targets: five heartbeat intervals (5 s up to
    50 targets), so a slower heartbeat at scale is not taken for a dead syncer."""
    return HEARTBEAT_THRESHOLD * heartbeat_interval_for(targets)


@dataclass
class TargetHandle:
    """One sync target: its name and key, its cluster (official client at `.api`), and where
    its copies of an upstream namespace live."""

    name: str
    key: str
    uid: str
    upstream_cluster: str
    cluster: Cluster

    @property
    def label(self) -> str:
        """The placement label that puts a workload on this target."""
        return placement_label(self.key)

    @property
    def api(self) -> k8s_client.ApiClient:
        return self.cluster.api

    def namespace(self, upstream_namespace: str) -> str:
        """The downstream namespace of an upstream namespace on this target."""
        target = SyncTarget(self.name, self.upstream_cluster, self.uid)
        locator = NamespaceLocator(target, self.upstream_cluster, upstream_namespace)
        return locator.downstream_namespace


@dataclass
class SyncerEnvironment:
    """A running environment of `size` targets; build it with `SyncerEnvironment.start`."""

    config: HarnessConfig
    workdir: Path
    provider: ClusterProvider
    clusters: ProvidedClusters
    upstream: Cluster
    targets: dict[str, TargetHandle]
    hub: ServiceProcess
    syncers: SyncerFleet
    _cleanup: contextlib.ExitStack = field(repr=False)
    _closed: bool = field(default=False, repr=False)
    stats: RunStats = field(default_factory=RunStats, repr=False)
    """What the waits, faults and conflicts observed on this environment."""
    failed: bool = field(default=False, repr=False)
    """A test that used this environment failed (`--syncer-keep on-failure` keeps it)."""
    shared: bool = field(default=False, repr=False)
    """Attached to an environment other processes use too (`--syncer-xdist shared`): its
    processes are not this object's to stop, kill or reconfigure."""
    custom_resources: list[CustomResource] = field(default_factory=list)
    """The CRDs of `--syncer-crds`, served upstream and on every target, and synced."""
    network: FaultProxy | None = None
    """With `--syncer-network-faults on`: the proxy every syncer link goes through."""

    @property
    def size(self) -> int:
        return len(self.targets)

    @property
    def heartbeat_threshold(self) -> float:
        """Seconds without a heartbeat after which the hub calls a target stale."""
        return heartbeat_threshold_for(self.size)

    @property
    def hub_url(self) -> str:
        return str(self.hub.ready["url"])

    @property
    def hub_ca(self) -> Path:
        return Path(str(self.hub.ready["ca"]))

    def target_list(self) -> list[TargetHandle]:
        return list(self.targets.values())

    def syncers_exited(self, targets: Iterable[str]) -> str | None:
        """Why a wait on these targets can no longer hold: the syncer processes of some of
        them have exited (killed by a test, or crashed); None while every one runs, or is not
        this object's to know (an attached environment)."""
        gone = []
        for target in sorted(targets):
            try:
                process = self.syncers.process_of(target)
            except KeyError:
                continue
            if not process.running:
                gone.append(target)
        return f"the syncer process of {', '.join(gone)} exited" if gone else None

    @classmethod
    def start(
        cls,
        config: HarnessConfig,
        provider: ClusterProvider,
        workdir: Path,
        *,
        pool_size: int = POOL_SIZE,
    ) -> SyncerEnvironment:
        names = [f"target-{index:03d}" for index in range(config.targets)]
        crds = load_crds(config.crds)
        learn_kinds(crds)
        workdir.mkdir(parents=True, exist_ok=True)
        cleanup = contextlib.ExitStack()
        atexit.register(cleanup.close)
        try:
            cleanup.callback(provider.stop)
            clusters = provider.start(workdir, names)
            upstream = Cluster("upstream", clusters.upstream_kubeconfig)
            cleanup.callback(upstream.close)
            install_crds(upstream, crds, config.timeout)
            targets = _create_sync_targets(upstream, clusters, names)
            for target in targets.values():
                cleanup.callback(target.cluster.close)
            for below in {id(t.cluster): t.cluster for t in targets.values()}.values():
                install_crds(below, crds, config.timeout)
            resources = syncer_resources(crds)
            secret = workdir / "hub-secret"
            secret.write_text(secrets.token_hex(32))
            secret.chmod(0o600)
            hub_args = [
                f"--upstream-kubeconfig={clusters.upstream_kubeconfig}",
                f"--token-secret-file={secret}",
                f"--state-dir={workdir / 'hub-state'}",
                f"--heartbeat-threshold={heartbeat_threshold_for(len(names)):g}",
                f"--ping-interval={HUB_PING_INTERVAL:g}",
            ]
            hub = ServiceProcess("hub", hub_args, log_path=workdir / "hub.log", startup_timeout=60)
            cleanup.callback(hub.stop)
            hub.start()
            hub.argv.append(f"--port={str(hub.ready['url']).rsplit(':', 1)[1]}")
            stats = RunStats()
            network: FaultProxy | None = None
            if config.network_faults:
                network = FaultProxy(
                    config.seed,
                    lambda kind: stats.record_fault(f"link-{kind}", (), None),
                    config.network_latency,
                )
                cleanup.callback(network.close)
            authority = TokenAuthority.from_file(secret)
            tokens = workdir / "tunnel-tokens"
            tokens.mkdir(exist_ok=True)
            wirings: dict[str, TargetWiring] = {}
            for name in names:
                token_file = tokens / name
                token_file.write_text(
                    authority.mint(clusters.upstream_cluster, name, ttl=TOKEN_TTL)
                )
                token_file.chmod(0o600)
                wiring = TargetWiring(
                    target=name,
                    upstream_kubeconfig=clusters.upstream_kubeconfig,
                    upstream_cluster=clusters.upstream_cluster,
                    downstream_kubeconfig=clusters.downstream_kubeconfigs[name],
                    tunnel_url=str(hub.ready["url"]),
                    tunnel_token_file=token_file,
                    tunnel_ca_file=Path(str(hub.ready["ca"])),
                    resources=resources,
                )
                wirings[name] = (
                    wiring if network is None else proxied(network, wiring, workdir / "links")
                )

            def wait_ready(ready_targets: Sequence[str]) -> None:
                _wait_heartbeats(
                    upstream,
                    ready_targets,
                    startup_deadline(config),
                    lambda: any(process.running for process in syncers.processes),
                )

            syncers = SyncerFleet.for_config(
                config, wirings, workdir, pool_size=pool_size, wait_ready=wait_ready
            )
            cleanup.callback(syncers.stop)
            syncers.start()
        except BaseException:
            cleanup.close()
            raise
        return cls(
            config,
            workdir,
            provider,
            clusters,
            upstream,
            targets,
            hub,
            syncers,
            cleanup,
            stats=stats,
            custom_resources=crds,
            network=network,
        )

    @classmethod
    def attach(cls, config: HarnessConfig, directory: Path) -> SyncerEnvironment:
        """The environment another process built and described in `directory`'s
        `environment.json`: clients for its clusters, no hold on its processes."""
        facts = EnvironmentFacts.read(directory)
        crds = load_crds(config.crds)
        learn_kinds(crds)
        clusters = ProvidedClusters(
            upstream_kubeconfig=Path(facts.upstream_kubeconfig),
            upstream_cluster=facts.upstream_cluster,
            downstream_kubeconfigs={
                name: Path(target.kubeconfig) for name, target in facts.targets.items()
            },
            profiles_file=Path(facts.profiles_file) if facts.profiles_file else None,
            facts={"shared": str(directory)},
        )
        cleanup = contextlib.ExitStack()
        upstream = Cluster("upstream", clusters.upstream_kubeconfig)
        cleanup.callback(upstream.close)
        downstream: dict[Path, Cluster] = {}
        targets: dict[str, TargetHandle] = {}
        for name, target in facts.targets.items():
            path = clusters.downstream_kubeconfigs[name]
            if path not in downstream:
                downstream[path] = Cluster(path.stem, path)
                cleanup.callback(downstream[path].close)
            targets[name] = TargetHandle(
                name, target.key, target.uid, facts.upstream_cluster, downstream[path]
            )
        hub = ServiceProcess("hub", [], log_path=directory / "hub.log")
        hub.ready = dict(facts.hub)
        syncers = SyncerFleet.for_config(
            config, {}, directory, pool_size=POOL_SIZE, wait_ready=lambda _: None
        )
        return cls(
            config.with_targets(len(targets)),
            directory,
            SharedProvider(facts.provider),
            clusters,
            upstream,
            targets,
            hub,
            syncers,
            cleanup,
            shared=True,
            custom_resources=crds,
        )

    def restart_hub(self) -> None:
        """SIGKILL the hub and start it again on its port and CA: every tunnel drops and the
        syncers dial again."""
        self.hub.signal(signal.SIGKILL)
        self.hub.stop()
        self.hub.start()

    def pids(self) -> list[int]:
        """Every process of this environment that runs now."""
        syncers = [process.pid for process in self.syncers.processes]
        hub = [self.hub.pid] if self.hub.running else []
        return [*self.provider.pids(), *hub, *(pid for pid in syncers if pid is not None)]

    def named_pids(self) -> dict[str, int]:
        """Every running process by name: the provider's by their command (`apiserver`,
        `simulate`), `hub`, and each syncer process by its log's name (`syncer-pool1`)."""
        named: dict[str, int] = {}
        seen: dict[str, int] = {}
        for pid in self.provider.pids():
            command = _command_name(pid)
            count = seen[command] = seen.get(command, -1) + 1
            # The second API server process is `apiserver-1`, as its log is.
            named[f"{command}-{count}" if count else command] = pid
        if self.hub.running:
            named["hub"] = self.hub.pid
        for process in self.syncers.processes:
            if process.pid is not None:
                named[process.log_path.stem] = process.pid
        return named

    def resident_memory(self) -> dict[str, dict[str, int]]:
        """Each running process's pid and resident memory now (KiB, /proc VmRSS)."""
        memory = {}
        for name, pid in self.named_pids().items():
            rss = resident_kib(pid)
            if rss is not None:
                memory[name] = {"pid": pid, "rss_kib": rss}
        return memory

    def facts(self) -> dict[str, Any]:
        """What the report header and failure messages say about this environment."""
        custom = [crd.resource for crd in self.custom_resources]
        return {
            "provider": self.provider.name,
            "targets": self.size,
            "syncer processes": len(self.syncers.processes),
            "syncer": self.config.command or "reference (pooled)",
            "hub": self.hub_url,
            **({"custom resources": ", ".join(custom)} if custom else {}),
            **({"network faults": "a proxied link per target and peer"} if self.network else {}),
            **self.clusters.facts,
        }

    def log_paths(self) -> list[Path]:
        """Every process's log: API server, simulator, hub, each syncer process."""
        return sorted(self.workdir.glob("*.log"))

    def syncer_log_paths(self) -> list[Path]:
        return sorted(self.workdir.glob("syncer-*.log"))

    def describe(
        self, directory: Path, owner: int, ready_seconds: float | None = None
    ) -> EnvironmentFacts:
        """What `environment.json` says about this environment: its processes, owned by
        `owner`, with their memory now, how long it took to start when known, and every
        kubeconfig (copied under `directory` when it lives elsewhere)."""
        kubeconfigs = _collect_kubeconfigs(
            directory,
            {
                "upstream": self.clusters.upstream_kubeconfig,
                **self.clusters.downstream_kubeconfigs,
            },
        )
        profiles = self.clusters.profiles_file
        return EnvironmentFacts(
            pid=owner,
            process_groups=self.pids(),
            provider=self.provider.name,
            started=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            hub={"url": self.hub_url, "ca": str(self.hub_ca)},
            upstream={
                "cluster": self.clusters.upstream_cluster,
                "kubeconfig": str(kubeconfigs["upstream"]),
            },
            targets={
                name: TargetFacts(str(kubeconfigs[name]), target.key, target.label, target.uid)
                for name, target in self.targets.items()
            },
            profiles_file=str(profiles) if profiles is not None else None,
            ready_seconds=ready_seconds,
            processes=self.resident_memory(),
            wildcards=[
                WildcardFacts(str(w.kubeconfig), w.context, dict(w.targets))
                for w in self.clusters.wildcards
            ],
        )

    def keep(self) -> EnvironmentFacts:
        """Leave every process running after pytest exits, and write `environment.json`
        into the workdir, so `pytest-syncer down WORKDIR` stops it as it stops an `up`."""
        facts = self.describe(self.workdir, os.getpid())
        facts.write(self.workdir)
        self.stats.count_reconnects(self.syncer_log_paths())
        atexit.unregister(self._cleanup.close)
        self._closed = True
        return facts

    def close(self) -> None:
        """Stop every process this environment started, in reverse order."""
        if not self._closed:
            self._closed = True
            if not self.shared:
                self.stats.count_reconnects(self.syncer_log_paths())
            self._cleanup.close()


class SharedProvider:
    """The provider of an attached environment: the process that built it owns the clusters."""

    def __init__(self, name: str) -> None:
        self.name = name

    def start(self, workdir: Path, targets: Sequence[str]) -> ProvidedClusters:
        raise RuntimeError("an attached environment is already started")

    def restart_apiserver(self, cluster: str | None = None) -> list[str]:
        raise FaultNotSupported("the environment is shared between pytest-xdist workers")

    def pids(self) -> list[int]:
        return []

    def stop(self) -> None:
        """Nothing: whoever built the environment stops it."""


def _collect_kubeconfigs(directory: Path, paths: dict[str, Path]) -> dict[str, Path]:
    """Copy kubeconfigs that live elsewhere (kind, kubeconfig providers) under `directory`."""
    into = directory / "kubeconfigs"
    collected: dict[str, Path] = {}
    for name, path in paths.items():
        if path.resolve().is_relative_to(directory.resolve()):
            collected[name] = path
            continue
        into.mkdir(exist_ok=True)
        copy = into / path.name
        if not copy.exists():
            shutil.copyfile(path, copy)
            copy.chmod(0o600)
        collected[name] = copy
    return collected


def _command_name(pid: int) -> str:
    """The pytest-syncer command `pid` runs (`apiserver`, `simulate`), else `pid-<pid>`."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid-{pid}"
    if b"pytest_syncer" in args[:-1]:
        return args[args.index(b"pytest_syncer") + 1].decode()
    return f"pid-{pid}"


def _create_sync_targets(
    upstream: Cluster, clusters: ProvidedClusters, names: Sequence[str]
) -> dict[str, TargetHandle]:
    downstream: dict[Path, Cluster] = {}
    handles: dict[str, TargetHandle] = {}
    for name in names:
        body: KubeObject = {
            "apiVersion": "workload.kcp.io/v1alpha1",
            "kind": "SyncTarget",
            "metadata": {"name": name},
            "spec": {},
        }
        created = upstream.ensure(body)
        path = clusters.downstream_kubeconfigs[name]
        if path not in downstream:
            downstream[path] = Cluster(path.stem, path)
        handles[name] = TargetHandle(
            name=name,
            key=sync_target_key(clusters.upstream_cluster, name),
            uid=created["metadata"]["uid"],
            upstream_cluster=clusters.upstream_cluster,
            cluster=downstream[path],
        )
    return handles


def startup_deadline(config: HarnessConfig) -> float:
    """How long the syncers get for their first heartbeat: the wait deadline plus a second per
    target, so it scales with the environment and a syncer that never heartbeats costs one
    such deadline for the whole run."""
    return config.timeout + config.targets


class SyncerNeverReady(AssertionError):
    """The syncers under test never heartbeat: nothing any test waits on can happen, so the
    environment fails once and every test using it says so at once."""


def _wait_heartbeats(
    upstream: Cluster, names: Sequence[str], timeout: float, running: Callable[[], bool]
) -> None:
    """Every target in `names` has a heartbeat written after now: its syncer is up. Stops at
    once when every syncer process has exited, since no heartbeat can come then."""
    since = int(time.time())
    wanted = set(names)

    def stale() -> list[str]:
        beats = {
            obj["metadata"]["name"]: (last_heartbeat(obj) or 0.0)
            for obj in upstream.list(SYNC_TARGETS)
        }
        return sorted(name for name in wanted if beats.get(name, 0.0) < since)

    try:
        missing, alive = wait_until(
            lambda: (stale(), running()),
            lambda seen: not seen[0] or not seen[1],
            what=f"a fresh heartbeat from the syncers of {len(wanted)} targets (these had none)",
            timeout=timeout,
            interval=0.2,
        )
    except WaitTimeout as error:
        raise SyncerNeverReady(
            f"no heartbeat within {timeout:g}s from the syncers of {len(wanted)} targets "
            f"(last seen without one, and whether a syncer process ran: {error})"
        ) from None
    if missing and not alive:
        raise SyncerNeverReady(
            f"every syncer process exited before the first heartbeat of {', '.join(missing)}"
        )
