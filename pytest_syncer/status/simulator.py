"""`pytest-syncer simulate`: plays the controllers and kubelet of embedded clusters, kwok-style.

With `--controllers` it also makes what the workload controllers make (`workloads.py`):
ReplicaSets for Deployments, Pods for ReplicaSets.

One process serves many downstream clusters (one kubeconfig each). Given the admin kubeconfig
of their API server (`--admin-kubeconfig`, one per server process), it lists and watches each
resource of all the clusters that server serves at once, through the wildcard `/clusters/*`,
so the watches it holds do not grow with the clusters (1000 clusters cost 7 connections, not
7000); without one it watches each cluster on its own. Writes always go per cluster.

For every Deployment, ReplicaSet, StatefulSet, DaemonSet, Job and Pod it watches, it writes the
status the real controllers would show by now under the cluster's profile (`profiles.py`),
through `/status`, as a merge patch and only when it changed, then sleeps until that status
would next change.

Profiles are chosen per object by the label `simulator.pytest-syncer.io/profile`, else per
cluster by the harness (`--profile CLUSTER=NAME` or a profiles file, re-read when it changes,
so a test can make a failing cluster recover), else `--default-profile`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_syncer.contract.naming import CLUSTER_ANNOTATION
from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.kubeclient.client import CONTROLLED_WORKLOADS, ApiError, KubeClient, Resource
from pytest_syncer.kubeclient.controller import QueueController
from pytest_syncer.kubeclient.reflector import Change, ObjectKey, Reflector
from pytest_syncer.process.child import AsyncService, configure_logging, run_service
from pytest_syncer.status.conditions import rfc3339, stamp_transitions
from pytest_syncer.status.merge_patch import merge_patch_between
from pytest_syncer.status.profiles import PROFILE_LABEL, PROFILES, Profile, simulate
from pytest_syncer.status.workloads import (
    POD_OWNERS,
    SERVICES,
    reconcile_deployment,
    reconcile_endpoints,
    reconcile_pods,
)

log = logging.getLogger(__name__)

SIMULATED_RESOURCES = {
    resource.qualified_name: resource
    for resource in (*CONTROLLED_WORKLOADS, Resource("", "v1", "pods", "Pod"))
}
"""What the simulator can play, by the names `--resources` takes."""
PROFILE_FILE_POLL = 0.2
"""Seconds between looks at the profiles file."""
WILDCARD_CONTEXT = "*"
"""The admin kubeconfig's context whose server is `/clusters/*` (`apiserver/server.py`)."""
BY_NAMESPACE = "cluster/namespace"
"""The reflectors' index of objects by `<cluster>/<namespace>`."""

Clock = Callable[[], float]


@dataclass(frozen=True)
class ProfileMap:
    """Which profile each cluster plays: `{"default", "clusters": {name: profile}, "profiles"}`.

    `profiles` defines custom profiles (see `Profile.from_json`) next to the built-in ones. A
    file may also carry a `generation`, which the simulator confirms once it plays the file
    (see `applied_path`).
    """

    default: str = "healthy"
    clusters: Mapping[str, str] = field(default_factory=dict)
    custom: Mapping[str, Profile] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in [self.default, *self.clusters.values()]:
            if name not in PROFILES and name not in self.custom:
                known = sorted({*PROFILES, *self.custom})
                raise ValueError(f"unknown profile {name!r}; known: {', '.join(known)}")

    def profile(self, name: str) -> Profile | None:
        return self.custom.get(name) or PROFILES.get(name)

    def profile_for(self, cluster: str, obj: KubeObject) -> Profile:
        """The object's label first, then the cluster's entry, then the default."""
        labels = obj.get("metadata", {}).get("labels") or {}
        labelled = self.profile(str(labels.get(PROFILE_LABEL, "")))
        if labelled is not None:
            return labelled
        chosen = self.profile(self.clusters.get(cluster, self.default))
        assert chosen is not None
        return chosen

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileMap:
        unknown = set(data) - {"default", "clusters", "profiles", "generation"}
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)} in the profiles file")
        custom = {
            name: Profile.from_json(name, spec)
            for name, spec in (data.get("profiles") or {}).items()
        }
        return cls(
            default=str(data.get("default", "healthy")),
            clusters={str(k): str(v) for k, v in (data.get("clusters") or {}).items()},
            custom=custom,
        )

    @classmethod
    def from_file(cls, path: Path) -> ProfileMap:
        return cls.from_json(json.loads(path.read_text()))

    def with_clusters(self, clusters: Mapping[str, str]) -> ProfileMap:
        return ProfileMap(self.default, {**self.clusters, **clusters}, self.custom)


@dataclass(frozen=True)
class SimKey:
    cluster: str
    resource: Resource
    namespace: str
    name: str


class Simulator(AsyncService):
    """The simulated controllers of many clusters, as an async context manager."""

    def __init__(
        self,
        kubeconfigs: Sequence[Path],
        profiles: ProfileMap,
        *,
        profiles_file: Path | None = None,
        overrides: Mapping[str, str] | None = None,
        time_scale: float = 1.0,
        resources: Sequence[Resource] = tuple(SIMULATED_RESOURCES.values()),
        workers: int = 4,
        clock: Clock = time.time,
        controllers: bool = False,
        admin_kubeconfigs: Sequence[Path] = (),
    ) -> None:
        self._kubeconfigs = list(kubeconfigs)
        self._admin_kubeconfigs = list(admin_kubeconfigs)
        self._resources = list(resources)
        if controllers and SERVICES not in self._resources:
            self._resources.append(SERVICES)
        self._overrides = dict(overrides or {})
        self.profiles = profiles.with_clusters(self._overrides)
        self._profiles_file = profiles_file
        self._time_scale = time_scale
        self._workers = workers
        self._clock = clock
        #: Also make what the workload controllers make (``workloads.py``).
        self._controllers = controllers
        self.writes = 0
        self.clusters: dict[str, KubeClient] = {}
        #: The clients of the wildcard `/clusters/*` URLs, by server (scheme://host:port).
        self._wildcards: dict[str, KubeClient] = {}
        #: Which reflector source plays each cluster: a server's wildcard, or the cluster.
        self._sources: dict[str, str] = {}
        self._reflectors: dict[tuple[str, Resource], Reflector] = {}
        self._seen: dict[SimKey, tuple[int, float]] = {}
        self._controller: QueueController[SimKey] | None = None

    def ready_payload(self) -> dict[str, Any]:
        return {
            "clusters": sorted(self.clusters),
            "profiles": {name: self._cluster_profile(name) for name in sorted(self.clusters)},
        }

    def _cluster_profile(self, cluster: str) -> str:
        return self.profiles.clusters.get(cluster, self.profiles.default)

    async def _start(self) -> None:
        self._controller = QueueController(
            self._play,
            name="simulator worker",
            workers=self._workers,
            retry_on=(Exception,),
            on_retry=self._failed,
        )
        for path in self._admin_kubeconfigs:
            wildcard = await KubeClient.from_kubeconfig(path, context=WILDCARD_CONTEXT)
            self._wildcards[_server_of(wildcard)] = wildcard
        for path in self._kubeconfigs:
            client = await KubeClient.from_kubeconfig(path)
            name = client.logical_cluster or path.stem
            if name in self.clusters:
                await client.close()
                raise ValueError(f"two kubeconfigs reach cluster {name!r}")
            self.clusters[name] = client
            server = _server_of(client)
            shared = self._wildcards.get(server)
            if shared is not None:
                self._sources[name] = f"* {server}"
                self._watch(self._sources[name], shared, _annotated_key)
            else:
                self._sources[name] = name
                self._watch(name, client, _cluster_key(name))
        for reflector in self._reflectors.values():
            await reflector.start()
        for reflector in self._reflectors.values():
            await reflector.wait_synced(60.0)
        self._controller.start()
        if self._profiles_file is not None:
            self._controller.spawn(self._follow_profiles(self._profiles_file), "profiles file")
        log.info("simulating %d clusters", len(self.clusters))

    def _watch(
        self, source: str, client: KubeClient, key: Callable[[KubeObject], ObjectKey]
    ) -> None:
        """One reflector per resource for `source` (a cluster, or a server's wildcard), its
        objects keyed (cluster, namespace, name) and indexed by cluster and namespace."""
        for resource in self._resources:
            if (source, resource) in self._reflectors:
                continue
            reflector = Reflector(client, resource, name=f"{source} {resource.resource}", key=key)
            reflector.add_index(BY_NAMESPACE, _namespace_index(key))
            reflector.add_handler(self._handler(resource, key))
            self._reflectors[(source, resource)] = reflector

    @property
    def watches(self) -> int:
        """How many list-and-watch loops (each one watch connection) the simulator holds."""
        return len(self._reflectors)

    def _reflector(self, cluster: str, resource: Resource) -> Reflector | None:
        return self._reflectors.get((self._sources[cluster], resource))

    def _in_namespace(self, cluster: str, resource: Resource, namespace: str) -> list[KubeObject]:
        """The cached objects of `resource` in one namespace of one cluster."""
        reflector = self._reflector(cluster, resource)
        if reflector is None:
            return []
        return reflector.by_index(BY_NAMESPACE, f"{cluster}/{namespace}")

    async def _stop(self) -> None:
        if self._controller is not None:
            log.info("stopping after %d status writes", self.writes)
            await self._controller.close()
        for reflector in self._reflectors.values():
            await reflector.stop()
        self._reflectors.clear()
        for client in [*self.clusters.values(), *self._wildcards.values()]:
            await client.close()
        self.clusters.clear()
        self._wildcards.clear()

    def _handler(
        self, resource: Resource, object_key: Callable[[KubeObject], ObjectKey]
    ) -> Callable[[Change, KubeObject, KubeObject | None], None]:
        def handle(change: Change, obj: KubeObject, old: KubeObject | None) -> None:
            metadata = obj["metadata"]
            cluster = object_key(obj)[0]
            if cluster not in self.clusters:
                return
            key = SimKey(cluster, resource, metadata.get("namespace", ""), metadata["name"])
            if self._controllers and resource.kind == "Pod":
                self._pod_changed(cluster, change, obj)
            if change is Change.DELETED:
                self._seen.pop(key, None)
                return
            generation = metadata.get("generation") or 0
            seen = self._seen.get(key)
            if seen is None or seen[0] != generation:
                self._seen[key] = (generation, self._clock())
            elif (
                old is not None
                and (old["metadata"].get("labels") or {}) == (metadata.get("labels") or {})
                and not _terminating(obj)
            ):
                return
            if self._controller is not None:
                self._controller.enqueue(key)

        return handle

    def _pod_changed(self, cluster: str, change: Change, pod: KubeObject) -> None:
        """A Pod's change concerns the Services of its namespace, and its owner when it is
        gone (it is replaced; a Job's is not)."""
        if self._controller is None:
            return
        namespace = pod["metadata"].get("namespace", "")
        for service in self._in_namespace(cluster, SERVICES, namespace):
            name = service["metadata"]["name"]
            self._controller.enqueue(SimKey(cluster, SERVICES, namespace, name))
        if change is Change.DELETED or _terminating(pod):
            for owner in pod["metadata"].get("ownerReferences") or []:
                kind = owner.get("kind")
                if owner.get("controller") and kind in POD_OWNERS and kind != "Job":
                    group = POD_OWNERS[kind].partition("/")[0]
                    resource = SIMULATED_RESOURCES[f"{kind.lower()}s.{group}"]
                    self._controller.enqueue(SimKey(cluster, resource, namespace, owner["name"]))

    async def _follow_profiles(self, path: Path) -> None:
        """Re-read the profiles file when its content changes, replay every object under it,
        and confirm its `generation` in `applied_path(path)`: from then on every status
        written follows it (a writer that waits for that knows no object is played with the
        profiles it replaced). The content is compared, not the modification time, so two
        rewrites within the file system's timestamp resolution are both seen."""
        applied = applied_path(path)
        seen: bytes | None = None
        while True:
            content = _read(path)
            if content is not None and content != seen:
                seen = content
                try:
                    data = json.loads(content)
                    self.profiles = ProfileMap.from_json(data).with_clusters(self._overrides)
                except ValueError as error:
                    log.warning("profiles file %s not used: %s", path, error)
                else:
                    log.info("profiles now %s", dict(self.profiles.clusters))
                    assert self._controller is not None
                    for key in list(self._seen):
                        self._controller.enqueue(key)
                    _write_atomically(applied, {"generation": data.get("generation", 0)})
            await asyncio.sleep(PROFILE_FILE_POLL)

    def _failed(self, key: SimKey, error: Exception, delay: float) -> None:
        log.warning(
            "cluster=%s %s %s/%s: status not written (%s); retrying in %.2fs",
            key.cluster,
            key.resource.kind,
            key.namespace,
            key.name,
            error,
            delay,
        )

    async def _play(self, key: SimKey) -> None:
        reflector = self._reflector(key.cluster, key.resource)
        assert reflector is not None
        obj = reflector.cache.get((key.cluster, key.namespace, key.name))
        seen = self._seen.get(key)
        if obj is None or seen is None:
            return
        if key.resource.kind == "Pod" and _terminating(obj):
            await self._finish(key, obj)
            return
        if self._controllers:
            await self._reconcile(key, obj)
        now = self._clock()
        profile = self.profiles.profile_for(key.cluster, obj).scaled(self._time_scale)
        simulated = simulate(key.resource.kind, obj, profile, now - seen[1], seen[1])
        if simulated is None:
            return
        current = obj.get("status") or {}
        status = dict(simulated.status)
        if "conditions" in status:
            status["conditions"] = stamp_transitions(
                status["conditions"], current.get("conditions") or [], rfc3339(now)
            )
        patch = merge_patch_between(current, status)
        if patch:
            client = self.clusters[key.cluster]
            try:
                await client.patch(
                    key.resource,
                    key.name,
                    {"status": patch},
                    key.namespace,
                    subresource="status",
                )
            except ApiError as error:
                if not error.not_found:
                    raise
                return
            self.writes += 1
        if simulated.next_change is not None and self._controller is not None:
            self._controller.enqueue(key, simulated.next_change + 0.001)

    async def _finish(self, key: SimKey, pod: KubeObject) -> None:
        """The kubelet's part of a graceful deletion: its containers stop at once, so it
        deletes the Pod with a grace period of 0 and the Pod's uid as precondition (a Pod
        created since under the same name is left alone)."""
        client = self.clusters[key.cluster]
        try:
            await client.delete(
                key.resource,
                key.name,
                key.namespace,
                grace_period_seconds=0,
                uid=pod["metadata"]["uid"],
            )
        except ApiError as error:
            if not error.conflict:
                raise

    async def _reconcile(self, key: SimKey, obj: KubeObject) -> None:
        """What the workload controllers make for ``obj`` (``workloads.py``)."""
        client = self.clusters[key.cluster]
        if key.resource.kind == "Deployment":
            await reconcile_deployment(client, obj)
        elif key.resource.kind in POD_OWNERS:
            await reconcile_pods(client, obj, key.resource.kind)
        elif key.resource.kind == "Service":
            namespace = obj["metadata"].get("namespace", "")
            pods = self._in_namespace(key.cluster, SIMULATED_RESOURCES["pods"], namespace)
            await reconcile_endpoints(client, obj, pods)


def _server_of(client: KubeClient) -> str:
    """scheme://host:port of a client's URL: which API server process it reaches."""
    parts = urlsplit(client.server)
    return f"{parts.scheme}://{parts.netloc}"


def _cluster_key(cluster: str) -> Callable[[KubeObject], ObjectKey]:
    """Keys of one cluster's objects: (cluster, namespace, name)."""

    def key(obj: KubeObject) -> ObjectKey:
        metadata = obj["metadata"]
        return (cluster, metadata.get("namespace") or "", metadata["name"])

    return key


def _annotated_key(obj: KubeObject) -> ObjectKey:
    """Keys of a wildcard's objects: the cluster is the `kcp.io/cluster` annotation the
    server sets on every object it serves across clusters."""
    metadata = obj["metadata"]
    cluster = str((metadata.get("annotations") or {}).get(CLUSTER_ANNOTATION, ""))
    return (cluster, metadata.get("namespace") or "", metadata["name"])


def _namespace_index(key: Callable[[KubeObject], ObjectKey]) -> Callable[[KubeObject], list[str]]:
    """`<cluster>/<namespace>` of an object: what a Pod's Services and a Service's Pods share."""
    return lambda obj: ["/".join(key(obj)[:2])]


def _terminating(pod: KubeObject) -> bool:
    """A Pod a DELETE marked with a grace period: the kubelet is to stop it and remove it."""
    return bool(pod["metadata"].get("deletionGracePeriodSeconds"))


def applied_path(profiles_file: Path) -> Path:
    """Where the simulator confirms the profiles it plays: `{"generation": N}`, the
    `generation` of the profiles file it last applied (0 when the file has none)."""
    return profiles_file.with_name(profiles_file.name + ".applied")


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _write_atomically(path: Path, data: Mapping[str, Any]) -> None:
    staging = path.with_name(path.name + ".tmp")
    staging.write_text(json.dumps(data))
    staging.replace(path)


@contextlib.asynccontextmanager
async def serving(simulator: Simulator) -> AsyncIterator[dict[str, Any]]:
    async with simulator:
        yield simulator.ready_payload()


def _assignment(text: str) -> tuple[str, str]:
    cluster, sep, profile = text.partition("=")
    if not sep or not cluster or not profile:
        raise argparse.ArgumentTypeError(f"expected CLUSTER=PROFILE, got {text!r}")
    return cluster, profile


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-syncer simulate",
        description="Play the controllers of embedded clusters: move workload and pod status "
        "as real ones would, per cluster profile. Built-in profiles: " + ", ".join(PROFILES),
    )
    parser.add_argument(
        "--kubeconfig", type=Path, action="append", default=[], help="a cluster (repeatable)"
    )
    parser.add_argument(
        "--kubeconfig-list", type=Path, help="a file naming one kubeconfig path per line"
    )
    parser.add_argument(
        "--admin-kubeconfig",
        type=Path,
        action="append",
        default=[],
        help="an API server's admin kubeconfig (repeatable, one per server): watch all the "
        "clusters it serves through its wildcard `*` context, one watch per resource",
    )
    parser.add_argument(
        "--profiles-file",
        type=Path,
        help='JSON {"default", "clusters": {NAME: PROFILE}, "profiles": {...}}; re-read on change',
    )
    parser.add_argument(
        "--profile",
        type=_assignment,
        action="append",
        default=[],
        metavar="CLUSTER=PROFILE",
        help="a cluster's profile (over the file's)",
    )
    parser.add_argument("--default-profile", help="for clusters no one names (default: healthy)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="F",
        help="multiply every profile's delays (0.1: ten times faster)",
    )
    parser.add_argument(
        "--resources",
        default=",".join(SIMULATED_RESOURCES),
        help="comma-separated kinds to play (default: all of them); fewer kinds, fewer watches",
    )
    parser.add_argument(
        "--controllers",
        action="store_true",
        help="also make what workload controllers make: ReplicaSets (with revisions) for "
        "Deployments, Pods for ReplicaSets",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser


def _kubeconfigs(args: argparse.Namespace) -> list[Path]:
    paths = list(args.kubeconfig)
    if args.kubeconfig_list is not None:
        lines = args.kubeconfig_list.read_text().splitlines()
        base = args.kubeconfig_list.parent
        paths += [base / line.strip() for line in lines if line.strip()]
    if not paths:
        raise ValueError("name at least one cluster with --kubeconfig or --kubeconfig-list")
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise ValueError(f"no such kubeconfig: {', '.join(missing)}")
    return paths


def main(argv: Sequence[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    configure_logging("simulate", args.log_level)
    try:
        kubeconfigs = _kubeconfigs(args)
        profiles = ProfileMap.from_file(args.profiles_file) if args.profiles_file else ProfileMap()
        if args.default_profile:
            profiles = ProfileMap(args.default_profile, profiles.clusters, profiles.custom)
        overrides = dict(args.profile)
        profiles.with_clusters(overrides)
        if args.time_scale <= 0:
            raise ValueError("--time-scale must be positive")
        names = [name.strip() for name in args.resources.split(",") if name.strip()]
        unknown = [name for name in names if name not in SIMULATED_RESOURCES]
        if unknown or not names:
            raise ValueError(
                f"--resources: cannot play {', '.join(unknown) or 'nothing'}; "
                f"choose from {', '.join(SIMULATED_RESOURCES)}"
            )
        resources = [SIMULATED_RESOURCES[name] for name in names]
    except (OSError, ValueError) as error:
        print(f"pytest-syncer simulate: {error}", file=sys.stderr)
        return 2

    def factory() -> AbstractAsyncContextManager[dict[str, Any]]:
        return serving(
            Simulator(
                kubeconfigs,
                profiles,
                profiles_file=args.profiles_file,
                overrides=overrides,
                time_scale=args.time_scale,
                resources=resources,
                controllers=args.controllers,
                admin_kubeconfigs=args.admin_kubeconfig,
            )
        )

    return run_service(factory)
