"""The conformance behaviours no other e2e module shows: what a copy carries and never carries,
the shared and the soft finalizer, the SyncStatus of each (workload, target), the heartbeat.

Every expectation is a name of kcp's model (`pytest_syncer/contract/`) or a literal here, never
a function of the reference syncer: a syncer that gets one wrong must fail these.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pytest_syncer.contract.heartbeat import HEARTBEAT_FIELD, READY_CONDITION, last_heartbeat
from pytest_syncer.contract.naming import (
    CLUSTER_ANNOTATION,
    CLUSTER_LABEL,
    DELETION_ANNOTATION_PREFIX,
    PLACEMENT_LABEL_PREFIX,
    SOFT_FINALIZER_ANNOTATION_PREFIX,
    STATUS_ANNOTATION_PREFIX,
)
from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.kube import SYNC_TARGETS
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.harness.waits import expect_absent, poll
from pytest_syncer.harness.workloads import Workload, WorkloadFactory, load_manifest

pytestmark = pytest.mark.syncer_e2e

SHARED_FINALIZER = "workload.kcp.io/syncer"
"""kcp's finalizer of the syncers, on every placed upstream object."""
UPSTREAM_ONLY = {
    f"{STATUS_ANNOTATION_PREFIX}elsewhere": '{"replicas": 1}',
    f"{DELETION_ANNOTATION_PREFIX}elsewhere": "2026-01-01T00:00:00Z",
}
"""Annotations that describe the upstream object and its other targets: never below. (The
upstream's `kcp.io/cluster` neither; a kcp-like server below may stamp its own.)"""


def deployment(factory: WorkloadFactory, annotations: dict[str, str]) -> dict[str, Any]:
    """The sample Deployment, with these annotations and an upstream service account."""
    manifest = load_manifest("deployment.yaml", factory.search)
    manifest["metadata"]["annotations"] = {"team": "web", **annotations}
    manifest["spec"]["template"]["spec"]["serviceAccountName"] = "builder"
    return manifest


def expect_without_service_account(web: Workload) -> None:
    """The waits compare the rest of the spec; the account is checked on its own."""
    web.expected = copy.deepcopy(web.expected)
    del web.expected["spec"]["template"]["spec"]["serviceAccountName"]


@pytest.mark.conformance(
    "core.naming.namespace-hash",
    "core.naming.sync-target-key",
    "core.transform.upstream-metadata-stripped",
    "core.transform.cluster-label",
    "core.transform.service-account-detached",
    "core.server-fields.left-alone",
)
def test_a_copy_carries_its_cluster_label_and_no_upstream_bookkeeping(
    syncer_env: SyncerEnvironment, workload: WorkloadFactory
) -> None:
    web = workload(deployment(workload, UPSTREAM_ONLY), targets=min(2, syncer_env.size))
    expect_without_service_account(web)
    web.wait_synced()
    upstream = web.get()

    def check(target: str) -> list[str]:
        found = web.downstream(target)
        if found is None:
            return ["no copy"]
        metadata = found["metadata"]
        labels, annotations = metadata.get("labels") or {}, metadata.get("annotations") or {}
        pod = found["spec"]["template"]["spec"]
        lines = [f"annotation {key} copied down" for key in UPSTREAM_ONLY if key in annotations]
        lines += [
            f"label {key} copied down" for key in labels if key.startswith(PLACEMENT_LABEL_PREFIX)
        ]
        if annotations.get("team") != "web":
            lines.append(f"annotation team: expected 'web', had {annotations.get('team')!r}")
        key = web.target(target).key
        if labels.get(CLUSTER_LABEL) != key:
            lines.append(
                f"label {CLUSTER_LABEL}: expected {key!r}, had {labels.get(CLUSTER_LABEL)!r}"
            )
        if pod.get("automountServiceAccountToken") is not False:
            lines.append("spec.template.spec.automountServiceAccountToken: expected False")
        lines += [
            f"spec.template.spec.{f} copied down"
            for f in ("serviceAccountName", "serviceAccount")
            if f in pod
        ]
        cluster = (upstream["metadata"].get("annotations") or {}).get(CLUSTER_ANNOTATION)
        if cluster is not None and annotations.get(CLUSTER_ANNOTATION) == cluster:
            lines.append(f"annotation {CLUSTER_ANNOTATION}: the upstream's {cluster!r} copied down")
        if metadata.get("uid") == upstream["metadata"]["uid"]:
            lines.append("metadata.uid: the upstream uid copied down")
        if SHARED_FINALIZER in (metadata.get("finalizers") or []):
            lines.append(f"metadata.finalizers: {SHARED_FINALIZER} copied down")
        if metadata.get("ownerReferences"):
            lines.append("metadata.ownerReferences copied down")
        return lines

    poll(f"{web!r}: what its copies carry", sorted(web.placed), check, web.timeout)


def has_finalizer(obj: dict[str, Any] | None) -> bool:
    return obj is not None and SHARED_FINALIZER in (obj["metadata"].get("finalizers") or [])


@pytest.mark.conformance("core.finalizer", "core.deletion")
def test_the_shared_finalizer_holds_the_workload_until_every_copy_is_gone(
    syncer_env: SyncerEnvironment, workload: WorkloadFactory
) -> None:
    settings = workload("configmap.yaml", targets=min(3, syncer_env.size))
    settings.wait_synced()
    held = wait_until(
        settings.get,
        has_finalizer,
        what=f"{SHARED_FINALIZER} on the upstream {settings!r}",
        timeout=settings.timeout,
        interval=0.2,
    )
    assert has_finalizer(held)
    settings.unplace(*settings.placed)
    settings.wait_converged()
    wait_until(
        settings.get,
        lambda obj: not has_finalizer(obj),
        what=f"{SHARED_FINALIZER} released once no target holds a copy",
        timeout=settings.timeout,
        interval=0.2,
    )


@pytest.mark.conformance("core.soft-finalizer", "status.syncstatus.deleting")
def test_a_soft_finalizer_keeps_the_copy_until_it_is_cleared(
    syncer_env: SyncerEnvironment, workload: WorkloadFactory
) -> None:
    settings = workload("configmap.yaml", targets=min(2, syncer_env.size))
    settings.wait_synced()
    [held, *others] = sorted(settings.placed)
    annotation = SOFT_FINALIZER_ANNOTATION_PREFIX + settings.target(held).key
    settings.env.upstream.patch(
        settings.kind,
        settings.name,
        {"metadata": {"annotations": {annotation: "a-downstream-controller"}}},
        settings.namespace,
    )
    settings.unplace(held)
    settings.wait_synced(others)
    settings.wait_phase("Deleting", [held])
    assert settings.downstream(held) is not None, f"the copy on {held} went despite {annotation}"
    settings.env.upstream.patch(
        settings.kind,
        settings.name,
        {"metadata": {"annotations": {annotation: None}}},
        settings.namespace,
    )
    poll(
        f"the copy of {settings!r} on {held} gone once {annotation} is cleared",
        [held],
        lambda target: expect_absent(
            settings.downstream(target), settings.downstream_namespace(target)
        ),
        settings.timeout,
    )


@pytest.mark.conformance("status.syncstatus.synced")
def test_each_target_reports_synced_at_the_upstream_generation(
    syncer_env: SyncerEnvironment, workload: WorkloadFactory
) -> None:
    web = workload("deployment.yaml", targets=min(3, syncer_env.size))
    generation = web.update({"spec": {"replicas": 3}})["metadata"]["generation"]
    web.wait_synced()
    web.wait_phase("Synced")

    def check(target: str) -> list[str]:
        status = (web.sync_status(target) or {}).get("status") or {}
        lines = []
        if status.get("observedGeneration") != generation:
            had = status.get("observedGeneration")
            lines.append(f"status.observedGeneration: expected {generation}, had {had!r}")
        synced = next(
            (c for c in status.get("conditions") or [] if c.get("type") == "Synced"), None
        )
        if synced is None or synced.get("status") != "True":
            lines.append(f"status.conditions[Synced]: expected status 'True', had {synced!r}")
        if not status.get("lastSyncTime"):
            lines.append("status.lastSyncTime: missing")
        return lines

    poll(f"the SyncStatus of {web!r} on each target", sorted(web.placed), check, web.timeout)


@pytest.mark.conformance("status.heartbeat")
def test_every_syncer_keeps_heartbeating_its_sync_target(syncer_env: SyncerEnvironment) -> None:
    def beats() -> dict[str, tuple[float | None, str | None]]:
        found = {}
        for target in syncer_env.upstream.list(SYNC_TARGETS):
            conditions = (target.get("status") or {}).get("conditions") or []
            ready: dict[str, Any] = next(
                (c for c in conditions if c.get("type") == READY_CONDITION), {}
            )
            found[target["metadata"]["name"]] = (last_heartbeat(target), ready.get("status"))
        return found

    first = beats()

    def behind(now: dict[str, tuple[float | None, str | None]]) -> list[str]:
        """The targets without a newer heartbeat than at the start, or not Ready."""
        lines = []
        for name in sorted(syncer_env.targets):
            beat, ready = now.get(name, (None, None))
            before = first.get(name, (None, None))[0]
            if beat is None or (before is not None and beat <= before):
                lines.append(f"{name}: status.{HEARTBEAT_FIELD} not newer than {before!r}")
            if ready != "True":
                lines.append(f"{name}: condition {READY_CONDITION} {ready!r}, expected 'True'")
        return lines

    wait_until(
        lambda: behind(beats()),
        lambda lines: not lines,
        what="a newer heartbeat with Ready=True on every SyncTarget",
        timeout=syncer_env.config.timeout,
        interval=0.5,
    )
