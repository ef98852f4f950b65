"""Status aggregation across every target of the environment with mixed simulator profiles,
for every built-in kind with a status rule: Deployment, StatefulSet, ReplicaSet, DaemonSet, Job
and Service.

The expected aggregate is computed here from the profiles alone (replicas summed, ready
replicas per profile, Available only when every target is), not from the rules' code. Every
expectation, `Available` included, is inside the awaited one: a transient aggregate that only
matches the counters never passes.
"""

from __future__ import annotations

import math

import pytest
from kubernetes import client

from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.profiles import StatusProfiles
from pytest_syncer.harness.workloads import WorkloadFactory

pytestmark = pytest.mark.syncer_e2e

REPLICAS = 4
READY_BY_PROFILE = {"healthy": 4, "slow": 4, "partially-ready": 3, "never-ready": 0}


def expected_status(profiles: dict[str, str], generation: int) -> dict[str, object]:
    """Counters summed over the targets; `Available` only when no target is never-ready (a
    partially-ready target's 3 of 4 is within the default 25 % maxUnavailable)."""
    ready = sum(READY_BY_PROFILE[profile] for profile in profiles.values())
    available = "never-ready" not in profiles.values()
    return {
        "replicas": REPLICAS * len(profiles),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": generation,
        "conditions": [{"type": "Available", "status": "True" if available else "False"}],
    }


@pytest.mark.conformance("status.deployment.aggregate")
def test_status_aggregates_across_all_targets_with_mixed_profiles(
    syncer_env: SyncerEnvironment, status_profiles: StatusProfiles, workload: WorkloadFactory
) -> None:
    names = sorted(syncer_env.targets)
    mixed = dict.fromkeys(names, "healthy")
    mixed.update(dict.fromkeys(names[0:5], "slow"))
    mixed.update(dict.fromkeys(names[5:10], "partially-ready"))
    never = names[10 % len(names)]
    mixed[never] = "never-ready"
    status_profiles.set({name: p for name, p in mixed.items() if p != "healthy"})

    web = workload("deployment.yaml", name="fleet", targets=None)
    generation = web.update({"spec": {"replicas": REPLICAS}})["metadata"]["generation"]
    web.wait_synced()
    status = web.wait_aggregated(expected_status(mixed, generation))["status"]
    available = {c["type"]: c for c in status["conditions"]}["Available"]
    assert never in available["message"]

    status_profiles.set(
        {name: p for name, p in mixed.items() if p not in ("healthy", "never-ready")}
    )
    mixed[never] = "healthy"
    web.wait_aggregated(expected_status(mixed, generation))


REPLICAS_PER_TARGET = 4
NODES_PER_CLUSTER = 3
"""A simulated cluster has three nodes: a DaemonSet schedules a pod on each (docs/status.md)."""
READY_SHARE = {"healthy": 1.0, "partially-ready": 0.75, "never-ready": 0.0}
"""Of a target's replicas (or nodes), the share its profile makes ready, rounded down."""


def mixed_profiles(names: list[str]) -> dict[str, str]:
    """One partially-ready target, one never-ready, the rest healthy."""
    profiles = dict.fromkeys(names, "healthy")
    profiles[names[0]] = "partially-ready"
    profiles[names[1 % len(names)]] = "never-ready"
    return profiles


def ready(profiles: dict[str, str], each: int) -> int:
    return sum(math.floor(each * READY_SHARE[profile]) for profile in profiles.values())


def stateful_set(profiles: dict[str, str], generation: int) -> dict[str, object]:
    total, up = REPLICAS_PER_TARGET * len(profiles), ready(profiles, REPLICAS_PER_TARGET)
    return {
        "replicas": total,
        "currentReplicas": total,
        "updatedReplicas": total,
        "readyReplicas": up,
        "availableReplicas": up,
        "observedGeneration": generation,
    }


def replica_set(profiles: dict[str, str], generation: int) -> dict[str, object]:
    total, up = REPLICAS_PER_TARGET * len(profiles), ready(profiles, REPLICAS_PER_TARGET)
    return {
        "replicas": total,
        "fullyLabeledReplicas": total,
        "readyReplicas": up,
        "availableReplicas": up,
        "observedGeneration": generation,
    }


def daemon_set(profiles: dict[str, str], generation: int) -> dict[str, object]:
    total, up = NODES_PER_CLUSTER * len(profiles), ready(profiles, NODES_PER_CLUSTER)
    return {
        "desiredNumberScheduled": total,
        "currentNumberScheduled": total,
        "updatedNumberScheduled": total,
        "numberReady": up,
        "numberAvailable": up,
        "numberUnavailable": total - up,
        "observedGeneration": generation,
    }


AGGREGATES = {
    "statefulset.yaml": stateful_set,
    "replicaset.yaml": replica_set,
    "daemonset.yaml": daemon_set,
}


@pytest.mark.conformance("status.workload-counters.aggregate")
@pytest.mark.parametrize("manifest", sorted(AGGREGATES))
def test_counters_of_each_workload_kind_sum_over_the_targets(
    syncer_env: SyncerEnvironment,
    status_profiles: StatusProfiles,
    workload: WorkloadFactory,
    manifest: str,
) -> None:
    profiles = mixed_profiles(sorted(syncer_env.targets))
    status_profiles.set({name: p for name, p in profiles.items() if p != "healthy"})
    placed = workload(manifest, targets=None)
    patch = {} if manifest == "daemonset.yaml" else {"spec": {"replicas": REPLICAS_PER_TARGET}}
    generation = placed.update(patch)["metadata"]["generation"]
    placed.wait_synced()
    placed.wait_aggregated(AGGREGATES[manifest](profiles, generation))


@pytest.mark.conformance("status.job.aggregate")
def test_a_job_fails_when_one_target_fails_it_and_counts_every_target(
    syncer_env: SyncerEnvironment, status_profiles: StatusProfiles, workload: WorkloadFactory
) -> None:
    """fixtures/workloads/job.yaml: one completion, backoffLimit 2. A failing-job target
    fails it after 3 tries; the others complete it once each."""
    names = sorted(syncer_env.targets)
    failing = names[0]
    status_profiles.set({failing: "failing-job"})
    job = workload("job.yaml", targets=None)
    job.wait_synced()
    status = job.wait_aggregated(
        {
            "succeeded": len(names) - 1,
            "failed": 3,
            "conditions": [
                {"type": "Complete", "status": "False"},
                {"type": "Failed", "status": "True"},
            ],
        }
    )["status"]
    failed = {c["type"]: c for c in status["conditions"]}["Failed"]
    assert failing in failed["message"]


@pytest.mark.conformance("status.service.aggregate")
def test_a_services_balancers_are_the_union_of_every_targets(
    syncer_env: SyncerEnvironment, workload: WorkloadFactory
) -> None:
    """Nothing simulates a cloud balancer: the test writes each copy's `loadBalancer` as the
    target's cloud controller would, two targets sharing one address, which counts once."""
    web = workload("service.yaml", targets=None)
    web.wait_synced()
    names = sorted(web.placed)
    address = {name: f"10.0.0.{min(index, 1)}" for index, name in enumerate(names)}
    for name in names:
        client.CoreV1Api(syncer_env.targets[name].api).patch_namespaced_service_status(
            web.name,
            web.downstream_namespace(name),
            {"status": {"loadBalancer": {"ingress": [{"ip": address[name]}]}}},
        )
    ingress = [{"ip": ip} for ip in dict.fromkeys(address[name] for name in names)]
    web.wait_aggregated({"loadBalancer": {"ingress": ingress}})
