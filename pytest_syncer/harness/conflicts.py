"""Conflicts injected below a workload, and the scenarios (shipped ones under
`pytest_syncer/data/conflicts/`) that combine one with a strategy and the outcome it must have."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pytest_syncer.contract.naming import CLUSTER_LABEL, LOCATOR_ANNOTATION
from pytest_syncer.contract.objects import NamespaceLocator, SyncTarget
from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.kube import KubeObject
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.harness.waits import differences, poll
from pytest_syncer.harness.workloads import CONTENT_SKIP, Workload, WorkloadFactory, load_manifest

INJECTIONS = ("drift", "delete", "foreign")


@dataclass(frozen=True)
class ConflictScenario:
    """One scenario: a workload under a strategy, one injection, the outcome below."""

    name: str
    workload: str
    inject: str
    strategy: str | None = None
    retain: tuple[str, ...] = ()
    patch: KubeObject = field(default_factory=dict)
    foreign: KubeObject = field(default_factory=dict)
    expect: KubeObject = field(default_factory=dict)
    phase: str = "Synced"
    owned: bool = True
    """Whether the copy below ends up carrying this syncer's marker."""

    @classmethod
    def from_file(cls, path: Path) -> ConflictScenario:
        data: dict[str, Any] = yaml.safe_load(path.read_text())
        inject = data.get("inject")
        if inject not in INJECTIONS:
            raise ValueError(f"{path}: inject must be one of {INJECTIONS}, not {inject!r}")
        return cls(
            name=data.get("name", path.stem),
            workload=data["workload"],
            inject=inject,
            strategy=data.get("strategy"),
            retain=tuple(data.get("retain") or ()),
            patch=data.get("patch") or {},
            foreign=data.get("foreign") or {},
            expect=data.get("expect") or {},
            phase=data.get("phase", "Synced"),
            owned=bool(data.get("owned", True)),
        )


def load_scenarios(directory: Path) -> list[ConflictScenario]:
    return [ConflictScenario.from_file(path) for path in sorted(directory.glob("*.yaml"))]


class Conflicts:
    """What a test does to the copies below to make the syncer decide."""

    def __init__(self, env: SyncerEnvironment) -> None:
        self.env = env

    def drift(self, workload: Workload, target: str, patch: KubeObject) -> KubeObject:
        """Someone edits the copy on `target`."""
        patched = workload.patch_downstream(target, patch)
        self.env.stats.record_conflict("drift", workload.namespace, [target])
        return patched

    def delete_downstream(self, workload: Workload, target: str) -> None:
        """Someone deletes the copy on `target`."""
        handle = self.env.targets[target]
        handle.cluster.delete(workload.kind, workload.name, workload.downstream_namespace(target))
        self.env.stats.record_conflict("delete", workload.namespace, [target])

    def foreign_object(
        self,
        target: str,
        upstream_namespace: str,
        manifest: KubeObject | str | Path,
        search: Sequence[Path] = (),
    ) -> KubeObject:
        """An object below that no syncer made, where the workload of the same name will go;
        the namespace below is made as the syncer makes it, if missing."""
        handle = self.env.targets[target]
        namespace = handle.namespace(upstream_namespace)
        locator = NamespaceLocator(
            SyncTarget(handle.name, handle.upstream_cluster, handle.uid),
            handle.upstream_cluster,
            upstream_namespace,
        )
        handle.cluster.ensure(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": namespace,
                    "labels": {CLUSTER_LABEL: handle.key},
                    "annotations": {LOCATOR_ANNOTATION: locator.to_json()},
                },
            }
        )
        obj = load_manifest(manifest, search)
        obj["metadata"]["namespace"] = namespace
        created = handle.cluster.create(obj, namespace)
        self.env.stats.record_conflict("foreign", upstream_namespace, [target])
        return created

    def concurrent_writers(
        self, workload: Workload, patches: Sequence[KubeObject], writers: int = 4
    ) -> KubeObject:
        """Several writers patch the upstream object at once; the waits then expect whatever
        the upstream object ended as."""
        with concurrent.futures.ThreadPoolExecutor(writers) as pool:
            list(
                pool.map(
                    lambda patch: self.env.upstream.patch(
                        workload.kind, workload.name, patch, workload.namespace
                    ),
                    patches,
                )
            )
        final = workload.get()
        workload.expected = {
            key: final[key] for key in workload.expected if key not in CONTENT_SKIP and key in final
        }
        workload.mark_written()
        self.env.stats.record_conflict("concurrent-writers", workload.namespace, workload.placed)
        return final

    def replicas_fight(
        self, workload: Workload, target: str, values: Sequence[int], *, reverted: bool
    ) -> list[int]:
        """A downstream autoscaler keeps writing `spec.replicas` on `target`. With `reverted`
        each write must be undone by the syncer (upstream wins) before the next; otherwise the
        last write must stay (retain). Returns the replicas seen after each write."""
        upstream_replicas = workload.expected.get("spec", {}).get("replicas")
        seen: list[int] = []
        for value in values:
            workload.patch_downstream(target, {"spec": {"replicas": value}})
            self.env.stats.record_conflict("replicas-fight", workload.namespace, [target])
            if reverted:
                copy = wait_until(
                    lambda: workload.downstream(target),
                    lambda found: (
                        found is not None and found["spec"].get("replicas") == upstream_replicas
                    ),
                    what=f"{target}: the syncer reverting replicas {value} to {upstream_replicas}",
                    timeout=self.env.config.timeout,
                    interval=0.1,
                )
                seen.append(copy["spec"]["replicas"] if copy else -1)
                self.env.stats.settle(workload.namespace, [target])
            else:
                found = workload.downstream(target)
                seen.append(found["spec"]["replicas"] if found else -1)
        return seen


def run_scenario(
    conflicts: Conflicts, scenario: ConflictScenario, factory: WorkloadFactory, target: str
) -> Workload:
    """Play one scenario on `target` and wait for its outcome: the copy below as `expect`
    says, this syncer's marker on it or not, and the SyncStatus phase."""
    if scenario.inject == "foreign":
        anchor = factory(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"anchor-{scenario.name}"},
                "data": {"keeps": "the namespace below occupied"},
            },
            targets=[target],
        )
        anchor.wait_synced()
        conflicts.foreign_object(target, factory.namespace, scenario.foreign)
    workload = factory(
        scenario.workload, targets=[target], strategy=scenario.strategy, retain=scenario.retain
    )
    if scenario.inject != "foreign":
        workload.wait_synced()
        if scenario.inject == "drift":
            conflicts.drift(workload, target, scenario.patch)
        else:
            conflicts.delete_downstream(workload, target)
    key = conflicts.env.targets[target].key

    def check(name: str) -> list[str]:
        found = workload.downstream(name)
        if found is None:
            return [f"no copy in {workload.downstream_namespace(name)}"]
        lines = differences(scenario.expect, found)
        marker = (found["metadata"].get("labels") or {}).get(CLUSTER_LABEL)
        if scenario.owned and marker != key:
            lines.append(f"metadata.labels.{CLUSTER_LABEL}: expected {key!r}, had {marker!r}")
        if not scenario.owned and marker is not None:
            lines.append(f"metadata.labels.{CLUSTER_LABEL}: expected none, had {marker!r}")
        return lines

    poll(f"conflict scenario {scenario.name}", [target], check, conflicts.env.config.timeout)
    conflicts.env.stats.settle(factory.namespace, [target])
    workload.wait_phase(scenario.phase)
    if not scenario.owned:
        # The foreign object is the scenario's own; removing it is no conflict to count.
        handle = conflicts.env.targets[target]
        handle.cluster.delete(workload.kind, workload.name, workload.downstream_namespace(target))
    return workload
