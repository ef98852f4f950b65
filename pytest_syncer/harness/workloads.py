"""Workloads a test places on targets, and the waits that check them on every target.

A `Workload` remembers what the test asked for (the manifest with every update applied), so
the waits compare each target's copy with that, field by field, and never with a copy of
the syncer's own logic.
"""

from __future__ import annotations

import copy
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s_client

from pytest_syncer.contract.naming import PLACEMENT_LABEL_PREFIX, sync_status_name
from pytest_syncer.harness.environment import SyncerEnvironment, TargetHandle
from pytest_syncer.harness.kube import NAMESPACES, SYNC_STATUSES, Kind, KubeObject, kind_of
from pytest_syncer.harness.waiting import WaitTimeout, wait_until
from pytest_syncer.harness.waits import (
    Observation,
    differences,
    expect_absent,
    leaf_paths,
    poll,
    render_grid,
)

SYNC = "Sync"
CONTENT_SKIP = {"apiVersion", "kind", "metadata", "status"}
CONFLICT_STRATEGY_ANNOTATION = "workload.kcp.io/conflict-strategy"
RETAIN_FIELDS_ANNOTATION = "workload.kcp.io/retain-fields"
UPSTREAM_ONLY_ANNOTATION_PREFIXES = (
    "workload.kcp.io/",
    "experimental.status.workload.kcp.io/",
    "finalizers.workload.kcp.io/",
    "deletion.internal.workload.kcp.io/",
)
"""Upstream annotations no copy below may carry (docs/transforms.md, strip-upstream-
annotations): the syncer's own (conflict strategy, retained fields), per-target status,
soft finalizers and deletions; they describe the upstream object and its other targets."""
CLUSTER_ANNOTATION = "kcp.io/cluster"
"""The logical cluster an object lives in: stripped too, so a copy may carry only the one its
own cluster stamps, never the upstream's."""


def upstream_only(key: str) -> bool:
    return key.startswith(UPSTREAM_ONLY_ANNOTATION_PREFIXES) or key == CLUSTER_ANNOTATION


def annotation_differences(
    expected: dict[str, str], found: dict[str, str], upstream_cluster: str
) -> list[str]:
    """The copy's annotations: the upstream's own ones (`expected`) there, none of the
    upstream-only ones, and no `kcp.io/cluster` naming the upstream cluster."""
    lines = differences(
        {key: value for key, value in expected.items() if not upstream_only(key)},
        found,
        "metadata.annotations",
    )
    lines += [
        f"metadata.annotations: upstream-only {key} copied down"
        for key in sorted(found)
        if key.startswith(UPSTREAM_ONLY_ANNOTATION_PREFIXES)
    ]
    if found.get(CLUSTER_ANNOTATION) == upstream_cluster:
        lines.append(
            f"metadata.annotations: {CLUSTER_ANNOTATION} {upstream_cluster!r} is the upstream's"
        )
    return lines


def merge(base: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch applied to a copy of `base`."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


def load_manifest(source: KubeObject | str | Path, search: Sequence[Path]) -> KubeObject:
    """A manifest from a dict, or from a YAML file (absolute, or under one of `search`)."""
    if isinstance(source, dict):
        return copy.deepcopy(source)
    path = Path(source)
    candidates = [path] if path.is_absolute() else [base / path for base in search]
    for candidate in candidates:
        if candidate.is_file():
            loaded = yaml.safe_load(candidate.read_text())
            if not isinstance(loaded, dict):
                raise ValueError(f"{candidate}: expected one object, not {type(loaded).__name__}")
            return loaded
    tried = ", ".join(str(candidate) for candidate in candidates)
    raise FileNotFoundError(f"no manifest {source}; looked at {tried}")


class Workload:
    """One upstream object placed on some targets."""

    def __init__(
        self, env: SyncerEnvironment, manifest: KubeObject, namespace: str, placed: Iterable[str]
    ) -> None:
        self.env = env
        self.kind: Kind = kind_of(manifest)
        self.name: str = manifest["metadata"]["name"]
        self.namespace = namespace
        self.placed: set[str] = set(placed)
        self.expected: KubeObject = {
            key: value for key, value in manifest.items() if key not in CONTENT_SKIP
        }
        self.expected_labels: dict[str, str] = dict(manifest["metadata"].get("labels") or {})
        self.expected_annotations: dict[str, str] = dict(
            manifest["metadata"].get("annotations") or {}
        )
        self.deleted = False
        self._written: float | None = None
        self._status_written: float | None = None
        """The last write, until a wait saw its aggregated status (the status latency)."""
        self._affected: set[str] = set()
        self._seen_at: dict[str, float] = {}
        self.mark_written()

    def __repr__(self) -> str:
        return f"{self.kind.kind} {self.namespace}/{self.name} on {len(self.placed)} targets"

    @property
    def timeout(self) -> float:
        return self.env.config.timeout

    @property
    def touched(self) -> set[str]:
        """The targets that may hold a copy: placed, or taken off by the last write."""
        return self.placed | self._affected

    def mark_written(self, affected: Iterable[str] = ()) -> None:
        """A write upstream: the next successful wait measures the sync latency of the
        placed targets and of `affected` (targets it took the workload off)."""
        self._written = self._status_written = time.monotonic()
        self._affected = self.placed | set(affected)
        self._seen_at = {}

    def _timed(self, check: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
        """`check`, noting when each target was first seen as expected since the write."""

        def timed(target: str) -> list[str]:
            lines = check(target)
            if lines:
                self._seen_at.pop(target, None)
            else:
                self._seen_at.setdefault(target, time.monotonic())
            return lines

        return timed

    def _observed(self, targets: Iterable[str]) -> None:
        """A wait held on `targets`: record their latencies and settle their conflicts."""
        checked = list(targets)
        written = self._written
        if written is not None:
            for target in checked:
                seen = self._seen_at.get(target)
                if target in self._affected and seen is not None:
                    self.env.stats.record_sync(target, written, seen)
            self._affected -= set(checked)
            if not self._affected:
                self._written = None
        self.env.stats.settle(self.namespace, checked)

    def get(self) -> KubeObject:
        """The upstream object as it is now."""
        return self.env.upstream.get(self.kind, self.name, self.namespace)

    def target(self, name: str) -> TargetHandle:
        return self.env.targets[name]

    def downstream_namespace(self, target: str) -> str:
        return self.target(target).namespace(self.namespace)

    def downstream(self, target: str) -> KubeObject | None:
        """The copy on `target`, or None."""
        handle = self.target(target)
        return handle.cluster.find(self.kind, self.name, handle.namespace(self.namespace))

    def patch_downstream(self, target: str, patch: KubeObject) -> KubeObject:
        handle = self.target(target)
        return handle.cluster.patch(self.kind, self.name, patch, handle.namespace(self.namespace))

    def update(self, patch: KubeObject) -> KubeObject:
        """Merge-patch the upstream object; the waits then expect the patched content."""
        updated = self.env.upstream.patch(self.kind, self.name, patch, self.namespace)
        content = {key: value for key, value in patch.items() if key not in CONTENT_SKIP}
        self.expected = merge(self.expected, content)
        labels = (patch.get("metadata") or {}).get("labels")
        if labels:
            self.expected_labels = merge(self.expected_labels, labels)
        annotations = (patch.get("metadata") or {}).get("annotations")
        if annotations:
            self.expected_annotations = merge(self.expected_annotations, annotations)
        self.mark_written()
        return updated

    def place(self, *targets: str) -> None:
        """Put the workload on more targets (placement label `Sync`)."""
        labels = {self.target(name).label: SYNC for name in targets}
        self.env.upstream.patch(
            self.kind, self.name, {"metadata": {"labels": labels}}, self.namespace
        )
        self.placed |= set(targets)
        self.mark_written()

    def unplace(self, *targets: str) -> None:
        """Drop the placement label of these targets: their copies go."""
        labels: dict[str, None] = {self.target(name).label: None for name in targets}
        self.env.upstream.patch(
            self.kind, self.name, {"metadata": {"labels": labels}}, self.namespace
        )
        self.placed -= set(targets)
        self.mark_written(targets)

    def delete(self) -> None:
        """Delete upstream; every copy goes, then the shared finalizer."""
        self.env.upstream.delete(self.kind, self.name, self.namespace)
        gone = set(self.placed)
        self.placed = set()
        self.deleted = True
        self.mark_written(gone)

    def sync_status(self, target: str) -> KubeObject | None:
        name = sync_status_name(self.kind.plural, self.name, target)
        return self.env.upstream.find(SYNC_STATUSES, name, self.namespace)

    def _copy_differences(self, target: str) -> list[str]:
        where = f"{self.downstream_namespace(target)} on {target}"
        found = self.downstream(target)
        if found is None:
            return [f"no copy of {self.kind.kind} {self.name} in {where}"]
        lines = differences(self.expected, found)
        labels = found["metadata"].get("labels") or {}
        lines += differences(self.expected_labels, labels, "metadata.labels")
        lines += [
            f"metadata.labels: placement label {key} copied down"
            for key in labels
            if key.startswith(PLACEMENT_LABEL_PREFIX)
        ]
        lines += annotation_differences(
            self.expected_annotations,
            found["metadata"].get("annotations") or {},
            self.env.clusters.upstream_cluster,
        )
        return lines

    def wait_synced(
        self, targets: Iterable[str] | None = None, *, timeout: float | None = None
    ) -> Observation:
        """Every placed target (or these) has a copy with the expected content."""
        chosen = sorted(self.placed if targets is None else targets)
        seen = poll(
            f"{self!r} synced to {len(chosen)} targets",
            chosen,
            self._timed(self._copy_differences),
            timeout or self.timeout,
            give_up=lambda: self.env.syncers_exited(chosen),
        )
        self._observed(chosen)
        return seen

    def wait_converged(self, *, timeout: float | None = None) -> Observation:
        """Placed targets have the expected copy, every other target has none, and a deleted
        workload is gone upstream (its finalizer released)."""

        def check(target: str) -> list[str]:
            if target in self.placed:
                return self._copy_differences(target)
            where = f"{self.downstream_namespace(target)}"
            return expect_absent(self.downstream(target), where)

        seen = poll(
            f"{self!r} converged on all {self.env.size} targets",
            self.env.targets,
            self._timed(check),
            timeout or self.timeout,
            give_up=lambda: self.env.syncers_exited(self.placed),
        )
        self._observed(self.env.targets)
        if self.deleted:
            self.wait_gone(timeout=timeout)
        return seen

    def wait_gone(self, *, timeout: float | None = None) -> None:
        """The deleted object is gone upstream: every syncer released the shared finalizer."""
        wait_until(
            lambda: self.env.upstream.find(self.kind, self.name, self.namespace),
            lambda found: found is None,
            what=f"{self.kind.kind} {self.namespace}/{self.name} gone upstream "
            "(every syncer released it)",
            timeout=timeout or self.timeout,
            interval=0.2,
        )

    def wait_aggregated(
        self, expected_status: KubeObject, *, timeout: float | None = None
    ) -> KubeObject:
        """The upstream `.status` contains `expected_status` (the hub's aggregate). On timeout
        the failure shows a grid: what each target reported in its SyncStatus beside the
        aggregate, field by field."""

        def observe() -> Observation:
            seen = Observation(f"{self!r} aggregated status", checked=1)
            status = self.get().get("status") or {}
            seen.per_target["upstream"] = differences(expected_status, status, "status")
            return seen

        written = self._status_written
        try:
            wait_until(
                observe,
                lambda seen: seen.ok,
                what=f"the aggregated status of {self!r}",
                timeout=timeout or self.timeout,
                interval=0.2,
            )
        except WaitTimeout as error:
            raise WaitTimeout(f"{error}\n{self.status_grid(expected_status)}") from None
        if written is not None:
            self.env.stats.record_status_latency(max(0.0, time.monotonic() - written))
            self._status_written = None
        return self.get()

    def status_grid(self, expected_status: KubeObject) -> str:
        """Which target holds what: each target's reported status (its SyncStatus's
        `downstreamStatus`) and phase, the upstream aggregate and the expectation, as a grid
        over the fields of `expected_status`."""
        paths = leaf_paths(expected_status)
        header = ["", "phase", *paths]
        rows = [["expected", "", *(_show_at(expected_status, path) for path in paths)]]
        try:
            aggregate = self.get().get("status") or {}
            rows.append(["aggregate", "", *(_show_at(aggregate, path) for path in paths)])
        except Exception as error:
            rows.append(["aggregate", f"could not read: {type(error).__name__}"])
        for target in sorted(self.placed):
            try:
                found = self.sync_status(target)
            except Exception as error:
                rows.append([target, f"could not read: {type(error).__name__}"])
                continue
            status = (found or {}).get("status") or {}
            reported = status.get("downstreamStatus") or {}
            phase = str(status.get("phase", "no SyncStatus" if found is None else "?"))
            rows.append([target, phase, *(_show_at(reported, path) for path in paths)])
        return "status per target (SyncStatus downstreamStatus) beside the aggregate:\n" + (
            render_grid(header, rows)
        )

    def wait_phase(
        self, phase: str, targets: Iterable[str] | None = None, *, timeout: float | None = None
    ) -> Observation:
        """Each target's SyncStatus for this workload shows `phase`."""

        def check(target: str) -> list[str]:
            found = self.sync_status(target)
            if found is None:
                return ["no SyncStatus yet"]
            had = (found.get("status") or {}).get("phase")
            return [] if had == phase else [f"status.phase: expected {phase!r}, had {had!r}"]

        chosen = sorted(self.placed if targets is None else targets)
        return poll(
            f"SyncStatus phase {phase} for {self!r}",
            chosen,
            check,
            timeout or self.timeout,
            give_up=lambda: self.env.syncers_exited(chosen),
        )


class WorkloadFactory:
    """`workload(manifest, targets=...)`: create and place; everything goes after the test."""

    def __init__(
        self, env: SyncerEnvironment, namespace: str, search: Sequence[Path], seed: int
    ) -> None:
        self.env = env
        self.namespace = namespace
        self.search = list(search)
        self.random = random.Random(seed)
        self.created: list[Workload] = []
        self._namespace_ready = False

    def choose(self, count: int, *, exclude: Iterable[str] = ()) -> list[str]:
        """`count` targets drawn with the session's seed (reproducible), none of `exclude`."""
        skipped = set(exclude)
        names = sorted(name for name in self.env.targets if name not in skipped)
        if count > len(names):
            excluded = f", {len(skipped)} of them excluded" if skipped else ""
            raise ValueError(
                f"asked for {count} targets; the environment has {self.env.size}{excluded}, "
                f"so {len(names)} to choose from (give the test a bigger environment with "
                "@pytest.mark.syncer_targets(n) or --syncer-targets)"
            )
        return sorted(self.random.sample(names, count))

    def _ensure_namespace(self, namespace: str) -> None:
        self.env.upstream.ensure(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        )

    def __call__(
        self,
        manifest: KubeObject | str | Path,
        *,
        targets: int | Sequence[str] | None = None,
        name: str | None = None,
        namespace: str | None = None,
        strategy: str | None = None,
        retain: Sequence[str] = (),
    ) -> Workload:
        """Create `manifest` upstream placed on `targets` (names, a count drawn with the seed,
        or None for all); `strategy`/`retain` set the conflict annotations."""
        obj = load_manifest(manifest, self.search)
        metadata = obj.setdefault("metadata", {})
        if name is not None:
            metadata["name"] = name
        namespace = namespace or self.namespace
        metadata["namespace"] = namespace
        if isinstance(targets, int):
            chosen = self.choose(targets)
        elif targets is None:
            chosen = sorted(self.env.targets)
        else:
            chosen = list(targets)
        unknown = [target for target in chosen if target not in self.env.targets]
        if unknown:
            raise ValueError(f"unknown targets {unknown}")
        annotations = metadata.setdefault("annotations", {})
        if strategy is not None:
            annotations[CONFLICT_STRATEGY_ANNOTATION] = strategy
        if retain:
            annotations[RETAIN_FIELDS_ANNOTATION] = ",".join(retain)
        if not annotations:
            del metadata["annotations"]
        expected = copy.deepcopy(obj)
        labels = metadata.setdefault("labels", {})
        labels.update({self.env.targets[target].label: SYNC for target in chosen})
        self._ensure_namespace(namespace)
        self.env.upstream.create(obj, namespace)
        workload = Workload(self.env, expected, namespace, chosen)
        self.created.append(workload)
        return workload

    def cleanup(self) -> None:
        """Delete what the test created and wait until every syncer let go of it."""
        for workload in self.created:
            if not workload.deleted:
                workload.delete()
        for workload in self.created:
            workload.wait_gone()


def _show_at(obj: KubeObject, path: str) -> str:
    value: object = obj
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return "-"
        value = value[key]
    return str(value)


def namespace_for_test(node_name: str, counter: int, worker: str = "") -> str:
    """A DNS-1123 namespace name for one test, unique within the session; with `worker`
    (a pytest-xdist worker on a shared environment) unique across the workers too."""
    base = re.sub(r"[^a-z0-9-]+", "-", node_name.lower()).strip("-")[:40].strip("-")
    prefix = f"t{counter:04d}-{worker}" if worker else f"t{counter:04d}"
    return f"{prefix}-{base or 'test'}"


def delete_namespace(env: SyncerEnvironment, namespace: str) -> None:
    try:
        env.upstream.delete(NAMESPACES, namespace)
    except k8s_client.ApiException as error:
        if error.status != 409:
            raise
