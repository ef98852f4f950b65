"""Status aggregation across every target of the environment with mixed simulator profiles.

The expected aggregate is computed here from the profiles alone (replicas summed, ready
replicas per profile, Available only when every target is), not from the rules' code.
"""

from __future__ import annotations

import pytest

from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.profiles import StatusProfiles
from pytest_syncer.harness.workloads import WorkloadFactory

pytestmark = pytest.mark.syncer_e2e

REPLICAS = 4
READY_BY_PROFILE = {"healthy": 4, "slow": 4, "partially-ready": 3, "never-ready": 0}


def expected_status(profiles: dict[str, str], generation: int) -> dict[str, object]:
    ready = sum(READY_BY_PROFILE[profile] for profile in profiles.values())
    return {
        "replicas": REPLICAS * len(profiles),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": generation,
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
    available = {c["type"]: c for c in status.get("conditions", [])}["Available"]
    assert available["status"] == "False"
    assert never in available["message"]

    status_profiles.set(
        {name: p for name, p in mixed.items() if p not in ("healthy", "never-ready")}
    )
    mixed[never] = "healthy"
    web.wait_aggregated(expected_status(mixed, generation))
