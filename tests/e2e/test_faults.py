"""Each fault, then convergence after it."""

from __future__ import annotations

import pytest
from kubernetes import client as k8s_client

from pytest_syncer.harness.faults import Faults
from pytest_syncer.harness.tunnel_client import TunnelClient
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.harness.workloads import WorkloadFactory
from tests.e2e.cut_off import goes_stale_then_converges

pytestmark = pytest.mark.syncer_e2e


@pytest.mark.conformance("faults.syncer-kill.recovery")
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


@pytest.mark.conformance("faults.partition.recovery", "status.heartbeat.stale")
def test_partitioned_target_converges_after_heal(faults: Faults, workload: WorkloadFactory) -> None:
    goes_stale_then_converges(faults, workload, faults.freeze, [{"spec": {"replicas": 5}}])


@pytest.mark.conformance("faults.tunnel-drop.recovery")
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


@pytest.mark.conformance("faults.apiserver-restart.recovery")
def test_apiserver_restart_on_its_data_dir_then_convergence(
    faults: Faults, workload: WorkloadFactory
) -> None:
    settings = workload("configmap.yaml", targets=max(1, min(3, workload.env.size - 1)))
    settings.wait_synced()
    faults.restart_apiserver()
    settings.update({"data": {"mode": "after-restart"}})
    settings.place(*workload.choose(1, exclude=settings.placed))
    settings.wait_converged()
