"""The simulated controllers: what each profile shows, and when it next changes."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_syncer.status.profiles import (
    PROFILES,
    Profile,
    max_unavailable,
    simulate,
)


def deployment(replicas: int, generation: int = 2, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "generation": generation},
        "spec": {"replicas": replicas, **spec},
    }


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in status["conditions"] if c["type"] == kind]
    assert len(found) == 1, status
    return found[0]


def play(kind: str, obj: dict[str, Any], profile: str, elapsed: float) -> Any:
    simulated = simulate(kind, obj, PROFILES[profile], elapsed, 1_700_000_000.0)
    assert simulated is not None
    return simulated


def test_a_healthy_deployment_becomes_available_after_the_delay() -> None:
    before = play("Deployment", deployment(4), "healthy", 0.0)
    assert before.status["observedGeneration"] == 2
    assert "readyReplicas" not in before.status
    assert condition(before.status, "Available")["status"] == "False"
    assert before.next_change == pytest.approx(PROFILES["healthy"].delay)
    after = play("Deployment", deployment(4), "healthy", 1.0)
    assert after.status["readyReplicas"] == 4
    assert "unavailableReplicas" not in after.status
    assert condition(after.status, "Available")["reason"] == "MinimumReplicasAvailable"
    assert condition(after.status, "Progressing")["reason"] == "NewReplicaSetAvailable"
    assert after.next_change is None


def test_partially_ready_is_available_only_within_max_unavailable() -> None:
    four = play("Deployment", deployment(4), "partially-ready", 5.0).status
    assert four["readyReplicas"] == 3
    assert condition(four, "Available")["status"] == "True"
    two = play("Deployment", deployment(2), "partially-ready", 5.0).status
    assert two["readyReplicas"] == 1
    assert condition(two, "Available")["status"] == "False"


def test_a_slow_deployment_grows_one_replica_per_step() -> None:
    slow = PROFILES["slow"]
    at = slow.delay + slow.step * 1.5
    simulated = play("Deployment", deployment(4), "slow", at)
    assert simulated.status["readyReplicas"] == 2
    assert simulated.next_change == pytest.approx(slow.step * 0.5)


def test_never_ready_waits_for_the_progress_deadline() -> None:
    simulated = play("Deployment", deployment(3, progressDeadlineSeconds=30), "never-ready", 10.0)
    assert condition(simulated.status, "Available")["status"] == "False"
    assert condition(simulated.status, "Progressing")["reason"] == "ReplicaSetUpdated"
    assert simulated.next_change == pytest.approx(20.0)
    late = play("Deployment", deployment(3, progressDeadlineSeconds=30), "never-ready", 31.0)
    assert condition(late.status, "Progressing")["reason"] == "ProgressDeadlineExceeded"


@pytest.mark.parametrize(
    ("strategy", "replicas", "expected"),
    [
        ({}, 10, 2),
        ({"rollingUpdate": {"maxUnavailable": 3}}, 10, 3),
        ({"rollingUpdate": {"maxUnavailable": "50%"}}, 5, 2),
        ({"type": "Recreate"}, 10, 0),
    ],
)
def test_max_unavailable(strategy: dict[str, Any], replicas: int, expected: int) -> None:
    assert max_unavailable({"strategy": strategy}, replicas) == expected


def test_jobs_complete_or_fail_by_profile() -> None:
    job = {"metadata": {"name": "once"}, "spec": {"completions": 2, "backoffLimit": 1}}
    done = play("Job", job, "healthy", 1.0).status
    assert done["succeeded"] == 2
    assert condition(done, "Complete")["status"] == "True"
    failed = play("Job", job, "failing-job", 1.0).status
    assert failed["failed"] == 2
    assert condition(failed, "Failed")["reason"] == "BackoffLimitExceeded"


@pytest.mark.parametrize(
    ("profile", "ready"),
    [("healthy", 4), ("partially-ready", 3), ("never-ready", 0), ("crash-looping", 0)],
)
def test_replica_sets_count_ready_replicas_by_profile(profile: str, ready: int) -> None:
    status = play("ReplicaSet", deployment(4), profile, 5.0).status
    assert status["observedGeneration"] == 2
    assert (status["replicas"], status["fullyLabeledReplicas"]) == (4, 4)
    assert status.get("readyReplicas", 0) == status.get("availableReplicas", 0) == ready


@pytest.mark.parametrize(
    ("profile", "ready"),
    [("healthy", 3), ("partially-ready", 2), ("never-ready", 0), ("crash-looping", 0)],
)
def test_daemon_sets_land_on_three_nodes_and_ready_by_profile(profile: str, ready: int) -> None:
    daemons = {"metadata": {"name": "agent", "generation": 3}, "spec": {}}
    status = play("DaemonSet", daemons, profile, 5.0).status
    assert status["observedGeneration"] == 3
    assert (status["desiredNumberScheduled"], status["currentNumberScheduled"]) == (3, 3)
    assert status["numberReady"] == status.get("numberAvailable", 0) == ready
    assert status.get("numberUnavailable", 0) == 3 - ready


def test_slow_daemon_sets_become_ready_node_by_node() -> None:
    slow = PROFILES["slow"]
    daemons = {"metadata": {"name": "agent"}, "spec": {}}
    first = play("DaemonSet", daemons, "slow", slow.delay + slow.step / 2)
    assert first.status["numberReady"] == 1
    assert first.next_change == pytest.approx(slow.step / 2)
    assert play("DaemonSet", daemons, "slow", slow.delay + 2 * slow.step).status["numberReady"] == 3


def test_crash_looping_pods_restart_every_step() -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    profile = PROFILES["crash-looping"]
    simulated = play("Pod", pod, "crash-looping", profile.delay + 2.5 * profile.step)
    (container,) = simulated.status["containerStatuses"]
    assert container["restartCount"] == 2
    assert container["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert condition(simulated.status, "Ready")["status"] == "False"


def test_custom_profiles_are_checked() -> None:
    assert Profile.from_json("x", {"delay": 1, "readyFraction": 0.5}).ready_fraction == 0.5
    with pytest.raises(ValueError, match="readyFraction"):
        Profile.from_json("x", {"readyFraction": 2})
    with pytest.raises(ValueError, match="unknown fields"):
        Profile.from_json("x", {"speed": 2})


def test_kinds_without_a_controller_are_not_played() -> None:
    assert simulate("ConfigMap", {}, PROFILES["healthy"], 1.0, 0.0) is None
