"""Each fault, then convergence after it."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s_client

from pytest_syncer.harness.faults import Faults
from pytest_syncer.harness.tunnel_client import TunnelClient
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.harness.workloads import WorkloadFactory
from pytest_syncer.status.rules import SYNC_TARGETS_READY

pytestmark = pytest.mark.syncer_e2e


def targets_ready(obj: dict[str, Any]) -> dict[str, Any]:
    """The hub's SyncTargetsReady condition on a workload ({} before it writes one)."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == SYNC_TARGETS_READY), {})


def test_sigkilled_syncer_catches_up_after_restart(
    faults: Faults, workload: WorkloadFactory
) -> None:
    victim = faults.pick_target()
    [bystander] = workload.choose(1, exclude=[victim])
    settings = workload("configmap.yaml", targets=[victim, bystander])
    settings.wait_synced()
    faults.kill_syncer(victim)
    settings.update({"data": {"mode": "while-dead"}})
    settings.wait_synced([bystander])
    faults.restart_syncer(victim)
    settings.wait_converged()


def test_partitioned_target_converges_after_heal(faults: Faults, workload: WorkloadFactory) -> None:
    victim = faults.pick_target()
    web = workload("deployment.yaml", targets=[victim, *workload.choose(2, exclude=[victim])])
    web.wait_synced()
    faults.freeze(victim)
    web.update({"spec": {"replicas": 5}})
    web.wait_synced([name for name in web.placed if name != victim])
    frozen = web.downstream(victim)
    assert frozen is not None
    assert frozen["spec"]["replicas"] == 2
    stale = wait_until(
        lambda: targets_ready(web.get()),
        lambda condition: condition.get("reason") == "HeartbeatStale",
        what=f"the hub reporting {victim} stale on the workload",
        timeout=30,
        interval=0.3,
    )
    assert victim in stale["message"]
    faults.heal()
    web.wait_converged()
    wait_until(
        lambda: targets_ready(web.get()),
        lambda condition: condition.get("status") == "True",
        what="every target fresh again after the heal",
        timeout=30,
        interval=0.3,
    )


def test_tunnels_come_back_after_the_hub_drops_them(
    faults: Faults, tunnel_client: TunnelClient, workload: WorkloadFactory
) -> None:
    settings = workload("configmap.yaml", targets=1)
    settings.wait_synced()
    [target] = settings.placed
    below = settings.downstream_namespace(target)
    faults.drop_tunnels()
    through = k8s_client.CoreV1Api(tunnel_client.api(target))
    found = wait_until(
        lambda: through.read_namespaced_config_map("settings", below),
        lambda _: True,
        what=f"the tunnel of {target} back after the hub restarted",
        timeout=60,
        interval=0.3,
    )
    assert found.data == {"mode": "production", "replicas": "2"}


def test_apiserver_restart_on_its_data_dir_then_convergence(
    faults: Faults, workload: WorkloadFactory
) -> None:
    settings = workload("configmap.yaml", targets=max(1, min(3, workload.env.size - 1)))
    settings.wait_synced()
    faults.restart_apiserver()
    settings.update({"data": {"mode": "after-restart"}})
    settings.place(*workload.choose(1, exclude=settings.placed))
    settings.wait_converged()
