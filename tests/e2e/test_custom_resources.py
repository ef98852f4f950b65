"""A custom resource under test: the sample Widget CRD (`fixtures/crds/workloads/`, installed by
default) is served upstream and on every target, the syncers are told `widgets.example.com` in
`--resources`, and a Widget goes through placement, update, relabel and delete as any built-in
kind does. Its status, written below by the test as the Widget's controller would, comes up to
the upstream Widget per target (the aggregator's rule for kinds it has no rule for)."""

from __future__ import annotations

import pytest
from kubernetes import client

from pytest_syncer.harness.config import template_fields
from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.workloads import WorkloadFactory

pytestmark = pytest.mark.syncer_e2e

WIDGETS = "widgets.example.com"


@pytest.fixture
def widgets(syncer_env: SyncerEnvironment) -> None:
    """Skips unless this environment's syncers are told to sync Widgets."""
    if WIDGETS not in {crd.resource for crd in syncer_env.custom_resources}:
        pytest.skip(f"{WIDGETS} is not under test: its CRD is not among --syncer-crds")
    command = syncer_env.config.command
    if command is not None and "resources" not in template_fields(command):
        pytest.skip(f"--syncer-command does not pass {{resources}}, so never names {WIDGETS}")


@pytest.mark.conformance("core.custom-resources")
@pytest.mark.usefixtures("widgets")
def test_a_widget_is_placed_updated_relabelled_and_deleted(workload: WorkloadFactory) -> None:
    gizmo = workload("widget.yaml", targets=max(1, min(3, workload.env.size - 1)))
    gizmo.wait_converged()

    gizmo.update({"spec": {"size": 5, "colour": "blue"}, "metadata": {"labels": {"rev": "2"}}})
    gizmo.wait_synced()

    leaving = sorted(gizmo.placed)[0]
    [joining] = workload.choose(1, exclude=gizmo.placed)
    gizmo.unplace(leaving)
    gizmo.place(joining)
    gizmo.wait_converged()

    gizmo.delete()
    gizmo.wait_converged()


@pytest.mark.conformance("status.custom-resource.per-target")
@pytest.mark.usefixtures("widgets")
def test_widget_status_comes_up_per_target(
    syncer_env: SyncerEnvironment, workload: WorkloadFactory
) -> None:
    gizmo = workload("widget.yaml", targets=min(3, syncer_env.size))
    gizmo.wait_synced()
    reported: dict[str, dict[str, object]] = {}
    for ready, name in enumerate(sorted(gizmo.placed), start=1):
        target = syncer_env.targets[name]
        status: dict[str, object] = {"phase": "Ready" if ready < 3 else "Pending", "parts": ready}
        client.CustomObjectsApi(target.api).patch_namespaced_custom_object_status(
            "example.com",
            "v1",
            target.namespace(gizmo.namespace),
            "widgets",
            gizmo.name,
            {"status": status},
        )
        reported[name] = status
    # One target: its status as it is; more: each under status.targets.<target name>.
    expected = next(iter(reported.values())) if len(reported) == 1 else {"targets": reported}
    gizmo.wait_aggregated(expected)
