"""Every conflict strategy, from the shipped scenarios (pytest_syncer/data/conflicts/), plus
concurrent writers and a replicas fight."""

from __future__ import annotations

import pytest

from pytest_syncer.data import shipped
from pytest_syncer.harness.conflicts import Conflicts, load_scenarios, run_scenario
from pytest_syncer.harness.workloads import WorkloadFactory

pytestmark = pytest.mark.syncer_e2e

SCENARIOS = load_scenarios(shipped("conflicts"))


def test_every_strategy_has_a_scenario() -> None:
    assert {s.strategy for s in SCENARIOS} == {"upstream-wins", "retain", "overwrite", "abort"}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_conflict_scenario(conflicts: Conflicts, workload: WorkloadFactory, scenario) -> None:
    [target] = workload.choose(1)
    run_scenario(conflicts, scenario, workload, target)


def test_retained_field_stays_while_the_rest_follows_upstream(
    conflicts: Conflicts, workload: WorkloadFactory
) -> None:
    web = workload("deployment.yaml", targets=2, strategy="retain", retain=["spec.replicas"])
    web.wait_synced()
    [target, other] = sorted(web.placed)
    conflicts.drift(web, target, {"spec": {"replicas": 9}})
    web.update({"spec": {"template": {"metadata": {"annotations": {"rollout": "2"}}}}})
    web.wait_synced([other])
    template = {"spec": {"template": web.expected["spec"]["template"], "replicas": 9}}
    web.expected = {**web.expected, **template}
    web.wait_synced([target])


def test_concurrent_writers_converge_on_the_last_write(
    conflicts: Conflicts, workload: WorkloadFactory
) -> None:
    settings = workload("configmap.yaml", targets=min(4, workload.env.size))
    settings.wait_synced()
    final = conflicts.concurrent_writers(
        settings, [{"data": {"mode": f"writer-{n}", f"w{n}": str(n)}} for n in range(12)]
    )
    assert {f"w{n}" for n in range(12)} <= set(final["data"])
    settings.wait_converged()


def test_replicas_fight_upstream_wins(conflicts: Conflicts, workload: WorkloadFactory) -> None:
    web = workload("deployment.yaml", targets=1)
    web.wait_synced()
    [target] = web.placed
    seen = conflicts.replicas_fight(web, target, [5, 6, 7], reverted=True)
    assert seen == [2, 2, 2]
