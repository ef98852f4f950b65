"""The aggregator's pure helpers: placement, heartbeats, condition times, records to targets."""

from __future__ import annotations

from pytest_syncer.contract.heartbeat import parse_time
from pytest_syncer.contract.objects import ObjectReference, SyncPhase, SyncStatusRecord
from pytest_syncer.hub.aggregator import (
    heartbeat_is_stale,
    is_aggregated,
    newest,
    placed_target_keys,
    target_status,
)
from pytest_syncer.status.conditions import rfc3339, stamp_transitions

NOW = 1_800_000_000.0


def test_only_sync_labels_place_a_workload() -> None:
    workload = {
        "metadata": {
            "labels": {
                "state.workload.kcp.io/aaa": "Sync",
                "state.workload.kcp.io/bbb": "",
                "state.workload.kcp.io/ccc": "Upsync",
                "app": "Sync",
            }
        }
    }
    assert placed_target_keys(workload) == {"aaa"}


def test_heartbeats_older_than_the_threshold_or_missing_are_stale() -> None:
    def target(beat: float | None) -> dict:
        status = {} if beat is None else {"lastSyncerHeartbeatTime": rfc3339(beat)}
        return {"metadata": {"name": "t"}, "status": status}

    assert not heartbeat_is_stale(target(NOW - 5), NOW, 60)
    assert heartbeat_is_stale(target(NOW - 61), NOW, 60)
    assert heartbeat_is_stale(target(None), NOW, 60)
    assert heartbeat_is_stale(None, NOW, 60)
    assert parse_time("not a time") is None


def test_transition_times_hold_while_the_status_holds() -> None:
    before = [
        {"type": "Available", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
        {"type": "Progressing", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
    ]
    now = "2026-02-02T00:00:00Z"
    stamped = stamp_transitions(
        [
            {"type": "Available", "status": "True"},
            {"type": "Progressing", "status": "False"},
            {"type": "New", "status": "True"},
            {"type": "Kept", "status": "True", "lastTransitionTime": "2025-05-05T00:00:00Z"},
        ],
        before,
        now,
    )
    assert [c["lastTransitionTime"] for c in stamped] == [
        "2026-01-01T00:00:00Z",
        now,
        now,
        "2025-05-05T00:00:00Z",
    ]


def test_a_record_becomes_what_the_rules_need() -> None:
    record = SyncStatusRecord(
        workload=ObjectReference("apps/v1", "Deployment", "deployments", "web", "default", "u1"),
        target_name="east",
        target_key="k",
        phase=SyncPhase.CONFLICT,
        observed_generation=7,
        downstream_status={"observedGeneration": 5, "replicas": 2},
    )
    status = target_status(record, stale=False)
    assert status.observed_generation == 5
    assert status.phase is SyncPhase.CONFLICT
    missing = target_status(None, stale=True)
    assert missing.phase is SyncPhase.PENDING
    assert missing.status is None
    assert missing.stale


def test_the_newer_of_cache_and_own_write_is_the_diff_base() -> None:
    def version(number: str) -> dict:
        return {"metadata": {"resourceVersion": number}}

    assert newest(version("7"), version("9"))["metadata"]["resourceVersion"] == "9"
    assert newest(version("9"), version("7"))["metadata"]["resourceVersion"] == "9"
    assert newest(version("9"), None)["metadata"]["resourceVersion"] == "9"


def test_the_aggregator_owns_placed_recorded_or_already_aggregated_workloads() -> None:
    def workload(label: str | None, conditions: list[dict] | None = None) -> dict:
        labels = {} if label is None else {"state.workload.kcp.io/k": label}
        return {"metadata": {"labels": labels}, "status": {"conditions": conditions or []}}

    assert is_aggregated(workload("Sync"), has_records=False)
    assert is_aggregated(workload(None), has_records=True)
    assert is_aggregated(workload(None, [{"type": "SyncTargetsReady"}]), has_records=False)
    assert not is_aggregated(workload("Upsync"), has_records=False)
    assert not is_aggregated(workload(""), has_records=False)
