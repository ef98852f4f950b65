"""A failing test's artifacts read each workload's copies on the targets it touched, not on
every target of the environment, and at most `TARGETS_READ` of them: at 200 targets reading
all of them for every workload, two GETs each, outlasted pytest-timeout and ended the session.
Fakes count the reads; no cluster runs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pytest_syncer.harness.artifacts import TARGETS_READ, _objects


def reads_for(
    environment_size: int, placed_on: int, failure: str = ""
) -> tuple[int, dict[str, Any]]:
    reads = []

    def find(kind: Any, name: str, namespace: str) -> dict[str, Any]:
        reads.append(name)
        return {"metadata": {"name": name}}

    targets = {f"target-{index:03d}": None for index in range(environment_size)}
    workload = SimpleNamespace(
        kind=SimpleNamespace(kind="ConfigMap", plural="configmaps"),
        name="web",
        namespace="ns",
        touched=set(list(targets)[:placed_on]),
        downstream=lambda target: find(None, target, "below"),
    )
    env: Any = SimpleNamespace(upstream=SimpleNamespace(find=find), targets=targets)
    factory: Any = SimpleNamespace(created=[workload])
    objects = _objects(env, factory, failure)
    return len(reads), objects


def test_reads_follow_the_placement_not_the_environment() -> None:
    small, _ = reads_for(10, 2)
    large, objects = reads_for(1000, 2)
    assert small == large == 1 + 2 * 2
    assert sorted(objects) == [
        "target-000/ConfigMap-ns-web",
        "target-001/ConfigMap-ns-web",
        "upstream-syncstatus/target-000/ConfigMap-ns-web",
        "upstream-syncstatus/target-001/ConfigMap-ns-web",
        "upstream/ConfigMap-ns-web",
    ]


def test_a_workload_on_every_target_reads_at_most_the_cap_and_names_the_rest() -> None:
    count, objects = reads_for(200, 200)
    assert count == 1 + 2 * TARGETS_READ
    omitted = objects["omitted/ConfigMap-ns-web"]
    assert f"{200 - TARGETS_READ} more targets" in omitted
    assert "target-199" in omitted
    assert "target-000" not in omitted


def test_the_targets_the_failure_names_are_read_first() -> None:
    """A wait's timeout names the targets it found wrong; at 50 targets one of them came after
    the first twenty and its objects were left out of the very artifacts meant to show it."""
    failure = (
        "WaitTimeout: ... converged on all 200 targets; last seen:\n1 of 200 targets differ:\n"
        "  target-150:\n    - no copy of ConfigMap web\n(target-1999 is no target here)"
    )
    count, objects = reads_for(200, 200, failure)
    assert count == 1 + 2 * TARGETS_READ
    assert "target-150/ConfigMap-ns-web" in objects
    assert "upstream-syncstatus/target-150/ConfigMap-ns-web" in objects
    assert "target-150" not in objects["omitted/ConfigMap-ns-web"]
    assert "target-199" in objects["omitted/ConfigMap-ns-web"], "a name inside another is no match"
    assert "target-000/ConfigMap-ns-web" in objects, "the rest in order after it"
