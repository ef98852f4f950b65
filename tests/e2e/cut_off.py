"""One scenario two faults share: a target cut off from the upstream (its syncer frozen, or its
upstream link silent) goes stale at the hub, misses the updates made meanwhile, and converges
with every one of them once healed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pytest_syncer.harness.faults import Faults
from pytest_syncer.harness.waiting import wait_until
from pytest_syncer.harness.workloads import WorkloadFactory
from pytest_syncer.status.rules import SYNC_TARGETS_READY


def targets_ready(obj: dict[str, Any]) -> dict[str, Any]:
    """The hub's SyncTargetsReady condition on a workload ({} before it writes one)."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == SYNC_TARGETS_READY), {})


def goes_stale_then_converges(
    faults: Faults,
    workload: WorkloadFactory,
    cut_off: Callable[[str], None],
    updates: Sequence[dict[str, Any]],
) -> None:
    """Place a Deployment on a drawn victim and two bystanders, `cut_off` the victim, apply
    `updates`: the bystanders follow, the victim keeps the old copy and is reported stale;
    after the heal everything converges and every target is fresh again."""
    victim = faults.pick_target()
    web = workload("deployment.yaml", targets=[victim, *workload.choose(2, exclude=[victim])])
    web.wait_synced()
    cut_off(victim)
    for update in updates:
        web.update(update)
    web.wait_synced([name for name in web.placed if name != victim])
    below = web.downstream(victim)
    assert below is not None
    assert below["spec"]["replicas"] == 2
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
