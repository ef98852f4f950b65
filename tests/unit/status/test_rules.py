"""The per-kind rules on hand-picked cases: what each condition says and whom it names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pytest_syncer.contract.objects import SyncPhase
from pytest_syncer.status.rules import (
    SYNC_TARGETS_READY,
    TargetStatus,
    aggregate,
    register_rule,
    unregister_rule,
)


def deployment(ready: int, available: bool, generation: int = 1) -> TargetStatus:
    return TargetStatus(
        status={
            "observedGeneration": generation,
            "replicas": 3,
            "updatedReplicas": 3,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": 3 - ready,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if available else "False",
                    "reason": "MinimumReplicasAvailable"
                    if available
                    else "MinimumReplicasUnavailable",
                },
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },
        observed_generation=generation,
    )


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in status["conditions"] if c["type"] == kind]
    assert len(found) == 1, status["conditions"]
    return found[0]


def test_deployment_counters_sum_and_available_names_the_failing_target() -> None:
    status = aggregate(
        "Deployment",
        {"east": deployment(3, True), "west": deployment(0, False), "north": deployment(3, True)},
        generation=1,
    )
    assert status["replicas"] == 9
    assert status["readyReplicas"] == 6
    assert status["unavailableReplicas"] == 3
    assert status["observedGeneration"] == 1
    available = condition(status, "Available")
    assert available["status"] == "False"
    assert available["reason"] == "MinimumReplicasUnavailable"
    assert available["message"] == (
        "not Available on 1 of 3 ready targets: west (MinimumReplicasUnavailable)"
    )
    assert condition(status, "Progressing")["status"] == "True"
    assert condition(status, SYNC_TARGETS_READY)["status"] == "True"


def test_a_stale_target_is_named_and_not_counted_as_healthy() -> None:
    stale = TargetStatus(status=deployment(3, True).status, observed_generation=1, stale=True)
    status = aggregate("Deployment", {"east": deployment(3, True), "west": stale}, generation=1)
    assert status["readyReplicas"] == 3
    ready = condition(status, SYNC_TARGETS_READY)
    assert ready["status"] == "False"
    assert ready["reason"] == "HeartbeatStale"
    assert ready["message"] == "stale heartbeat on 1: west"
    assert condition(status, "Available")["message"] == "Available on all 1 ready targets"


def test_a_target_without_status_holds_back_available_and_the_generation() -> None:
    status = aggregate(
        "Deployment",
        {"east": deployment(3, True, 2), "west": TargetStatus(phase=SyncPhase.PENDING)},
        generation=2,
        previous_observed_generation=1,
    )
    assert status["observedGeneration"] == 1
    available = condition(status, "Available")
    assert available["status"] == "False"
    assert "west (not reported)" in available["message"]
    assert condition(status, SYNC_TARGETS_READY)["message"] == "Pending on 1: west"


def test_one_ready_target_passes_its_status_through() -> None:
    only = deployment(2, True, 4)
    status = aggregate("Deployment", {"east": only}, generation=4)
    assert only.status is not None
    assert status["conditions"][:2] == only.status["conditions"]
    assert status["readyReplicas"] == 2
    assert status["observedGeneration"] == 4


def test_messages_name_ten_targets_then_count_the_rest() -> None:
    per_target = {f"t{index:02}": deployment(0, False) for index in range(25)}
    message = condition(aggregate("Deployment", per_target), "Available")["message"]
    assert message.endswith("t09 (MinimumReplicasUnavailable) and 15 more")
    assert "t10" not in message


def job(succeeded: int, failed: int, outcome: str | None, stale: bool = False) -> TargetStatus:
    conditions = [] if outcome is None else [{"type": outcome, "status": "True"}]
    return TargetStatus(
        status={
            "succeeded": succeeded,
            "failed": failed,
            "active": 0 if outcome else 1,
            "conditions": conditions,
        },
        stale=stale,
    )


def test_job_completes_only_when_every_target_completed() -> None:
    running = aggregate("Job", {"a": job(1, 0, "Complete"), "b": job(0, 0, None)})
    assert condition(running, "Complete")["status"] == "False"
    assert running["active"] == 1
    done = aggregate("Job", {"a": job(1, 0, "Complete"), "b": job(1, 0, "Complete", stale=True)})
    assert condition(done, "Complete")["status"] == "True"
    assert done["succeeded"] == 2


def test_job_fails_when_any_target_failed() -> None:
    status = aggregate("Job", {"a": job(1, 0, "Complete"), "b": job(0, 7, "Failed")})
    failed = condition(status, "Failed")
    assert failed["status"] == "True"
    assert "b" in failed["message"]
    assert status["failed"] == 7


def test_service_ingress_union_keeps_target_order_and_drops_duplicates() -> None:
    def service(*ips: str) -> TargetStatus:
        return TargetStatus(status={"loadBalancer": {"ingress": [{"ip": ip} for ip in ips]}})

    status = aggregate("Service", {"b": service("10.0.0.2", "10.0.0.1"), "a": service("10.0.0.1")})
    assert status["loadBalancer"]["ingress"] == [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]


def test_custom_resources_keep_each_target_status_under_targets() -> None:
    status = aggregate(
        "Widget",
        {
            "a": TargetStatus(status={"phase": "Ready"}, observed_generation=3),
            "b": TargetStatus(status={"phase": "Baking"}, observed_generation=2),
        },
        generation=3,
    )
    assert status["targets"] == {"a": {"phase": "Ready"}, "b": {"phase": "Baking"}}
    assert status["observedGeneration"] == 2


@pytest.fixture
def widget_rule() -> Iterator[None]:
    def count_ready(per_target: Any) -> dict[str, Any]:
        ready = [t for t in per_target.values() if (t.status or {}).get("phase") == "Ready"]
        return {"readyTargets": len(ready)}

    register_rule("Widget", count_ready)
    yield
    unregister_rule("Widget")


@pytest.mark.usefixtures("widget_rule")
def test_a_registered_rule_replaces_the_per_target_default() -> None:
    status = aggregate(
        "Widget",
        {"a": TargetStatus(status={"phase": "Ready"}), "b": TargetStatus(status={"phase": "x"})},
    )
    assert status["readyTargets"] == 1
    assert "targets" not in status
    assert condition(status, SYNC_TARGETS_READY)["status"] == "True"


def test_no_placement_says_so() -> None:
    status = aggregate("Deployment", {})
    assert condition(status, SYNC_TARGETS_READY)["reason"] == "NotPlaced"
    assert condition(status, "Available")["status"] == "False"
