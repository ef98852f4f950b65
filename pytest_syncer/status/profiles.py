"""What the simulator's controllers would report, as a pure function of a profile and time.

Embedded clusters run no controllers and no kubelet, so nothing would ever write a status. The
simulator plays them kwok-style: each object's status is a function of its spec, its profile
and how long ago the simulator first saw its current generation. The function also says when
the status will next change, so the simulator sleeps until then instead of polling.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

PROFILE_LABEL = "simulator.pytest-syncer.io/profile"
"""On a downstream object: the profile to play for it, over the cluster's."""


MIN_STEP = 1e-6
"""Steps shorter than this (seconds) count as all replicas at once."""


@dataclass(frozen=True)
class Profile:
    """How the simulated controllers behave on one cluster.

    `delay`: seconds from a new generation to the first ready replica; `step`: seconds between
    further ready replicas (0: all at once); `ready_fraction`: the share of replicas that ever
    become ready; `crash_loop`: containers restart every `step` and are never ready; `job_fails`:
    Jobs exhaust their backoff limit instead of completing.
    """

    name: str
    delay: float = 0.1
    step: float = 0.0
    ready_fraction: float = 1.0
    crash_loop: bool = False
    job_fails: bool = False

    def scaled(self, factor: float) -> Profile:
        """The same behaviour `factor` times slower (tests pass < 1 to go faster)."""
        return replace(self, delay=self.delay * factor, step=self.step * factor)

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> Profile:
        """A custom profile from a profiles file: `{"delay", "step", "readyFraction", ...}`."""
        known = {"delay", "step", "readyFraction", "crashLoop", "jobFails"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"profile {name!r}: unknown fields {sorted(unknown)}")
        fraction = float(data.get("readyFraction", 1.0))
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"profile {name!r}: readyFraction must be within 0..1")
        return cls(
            name,
            delay=float(data.get("delay", 0.1)),
            step=float(data.get("step", 0.0)),
            ready_fraction=fraction,
            crash_loop=bool(data.get("crashLoop", False)),
            job_fails=bool(data.get("jobFails", False)),
        )


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("healthy"),
        Profile("slow", delay=2.0, step=0.5),
        Profile("partially-ready", ready_fraction=0.75),
        Profile("crash-looping", step=2.0, ready_fraction=0.0, crash_loop=True),
        Profile("never-ready", ready_fraction=0.0),
        Profile("failing-job", job_fails=True),
    )
}
"""The built-in profiles by name."""


@dataclass(frozen=True)
class Simulated:
    """A status to write and, if it will change by itself, in how many seconds."""

    status: dict[str, Any]
    next_change: float | None


def _time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def ready_count(profile: Profile, replicas: int, elapsed: float) -> tuple[int, float | None]:
    """How many of `replicas` are ready `elapsed` seconds in, and when that number next grows."""
    goal = 0 if profile.crash_loop else math.floor(replicas * profile.ready_fraction + 1e-9)
    if goal == 0:
        return 0, None
    if elapsed < profile.delay:
        return 0, profile.delay - elapsed
    if profile.step < MIN_STEP:
        return goal, None
    grown = min(goal, 1 + math.floor((elapsed - profile.delay) / profile.step))
    # Replica k+1 is ready at the instant delay + k * step, as computed below; the division may
    # round across that instant, so settle the count against the instants themselves. (A margin
    # instead made replicas ready up to a billionth of a step before the change it promised.)
    while grown < goal and profile.delay + grown * profile.step <= elapsed:
        grown += 1
    while grown > 1 and profile.delay + (grown - 1) * profile.step > elapsed:
        grown -= 1
    if grown >= goal:
        return goal, None
    return grown, profile.delay + grown * profile.step - elapsed


def max_unavailable(spec: Mapping[str, Any], replicas: int) -> int:
    """A Deployment's maxUnavailable in pods: an int, or a percentage rounded down (25%)."""
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        try:
            return math.floor(replicas * int(value[:-1]) / 100)
        except ValueError:
            return 0
    return _int(value, 0)


def _nonzero(**counters: int) -> dict[str, int]:
    """Counters as Kubernetes serializes them: zero values are omitted."""
    return {name: value for name, value in counters.items() if value}


def _condition(kind: str, true: bool, reason: str, message: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True" if true else "False",
        "reason": reason,
        "message": message,
    }


def _soonest(*delays: float | None) -> float | None:
    present = [delay for delay in delays if delay is not None and delay > 0]
    return min(present) if present else None


def _revision(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    seed = f"{metadata.get('name')}:{metadata.get('generation')}"
    return f"{metadata.get('name')}-{hashlib.sha256(seed.encode()).hexdigest()[:10]}"


def simulate_deployment(obj: Mapping[str, Any], profile: Profile, elapsed: float) -> Simulated:
    spec = obj.get("spec") or {}
    replicas = _int(spec.get("replicas"), 1)
    ready, grows = ready_count(profile, replicas, elapsed)
    available = ready >= replicas - max_unavailable(spec, replicas)
    deadline = _int(spec.get("progressDeadlineSeconds"), 600)
    replica_set = _revision(obj)
    if ready >= replicas:
        progressing = _condition(
            "Progressing",
            True,
            "NewReplicaSetAvailable",
            f'ReplicaSet "{replica_set}" has successfully progressed.',
        )
    elif elapsed >= deadline:
        progressing = _condition(
            "Progressing",
            False,
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{replica_set}" has timed out progressing.',
        )
    else:
        progressing = _condition(
            "Progressing", True, "ReplicaSetUpdated", f'ReplicaSet "{replica_set}" is progressing.'
        )
    status: dict[str, Any] = {
        "observedGeneration": _int((obj.get("metadata") or {}).get("generation"), 1),
        **_nonzero(
            replicas=replicas,
            updatedReplicas=replicas,
            readyReplicas=ready,
            availableReplicas=ready,
            unavailableReplicas=replicas - ready,
        ),
        "conditions": [
            _condition(
                "Available",
                available,
                "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if available
                else "Deployment does not have minimum availability.",
            ),
            progressing,
        ],
    }
    until_deadline = deadline - elapsed if ready < replicas else None
    return Simulated(status, _soonest(grows, until_deadline))


def simulate_replica_set(obj: Mapping[str, Any], profile: Profile, elapsed: float) -> Simulated:
    replicas = _int((obj.get("spec") or {}).get("replicas"), 1)
    ready, grows = ready_count(profile, replicas, elapsed)
    status = {
        "observedGeneration": _int((obj.get("metadata") or {}).get("generation"), 1),
        "replicas": replicas,
        **_nonzero(fullyLabeledReplicas=replicas, readyReplicas=ready, availableReplicas=ready),
    }
    return Simulated(status, grows)


def simulate_stateful_set(obj: Mapping[str, Any], profile: Profile, elapsed: float) -> Simulated:
    replicas = _int((obj.get("spec") or {}).get("replicas"), 1)
    ready, grows = ready_count(profile, replicas, elapsed)
    revision = _revision(obj)
    status = {
        "observedGeneration": _int((obj.get("metadata") or {}).get("generation"), 1),
        "replicas": replicas,
        **_nonzero(
            readyReplicas=ready,
            currentReplicas=replicas,
            updatedReplicas=replicas,
            availableReplicas=ready,
        ),
        "currentRevision": revision,
        "updateRevision": revision,
        "collisionCount": 0,
    }
    return Simulated(status, grows)


DAEMONSET_NODES = 3
"""Each simulated cluster has this many nodes for DaemonSets to land on."""


def simulate_daemon_set(obj: Mapping[str, Any], profile: Profile, elapsed: float) -> Simulated:
    ready, grows = ready_count(profile, DAEMONSET_NODES, elapsed)
    status = {
        "observedGeneration": _int((obj.get("metadata") or {}).get("generation"), 1),
        "currentNumberScheduled": DAEMONSET_NODES,
        "desiredNumberScheduled": DAEMONSET_NODES,
        "numberMisscheduled": 0,
        "numberReady": ready,
        **_nonzero(
            updatedNumberScheduled=DAEMONSET_NODES,
            numberAvailable=ready,
            numberUnavailable=DAEMONSET_NODES - ready,
        ),
    }
    return Simulated(status, grows)


def simulate_job(
    obj: Mapping[str, Any], profile: Profile, elapsed: float, since: float
) -> Simulated:
    spec = obj.get("spec") or {}
    completions = _int(spec.get("completions"), _int(spec.get("parallelism"), 1))
    parallelism = _int(spec.get("parallelism"), 1)
    backoff_limit = _int(spec.get("backoffLimit"), 6)
    status: dict[str, Any] = {"startTime": _time(since)}
    if profile.job_fails or profile.crash_loop:
        if elapsed < profile.delay:
            failures = 0
        elif profile.job_fails or profile.step <= 0:
            failures = backoff_limit + 1
        else:
            failures = min(
                backoff_limit + 1, 1 + math.floor((elapsed - profile.delay) / profile.step)
            )
        if failures > backoff_limit:
            status.update(failed=failures)
            status["conditions"] = [
                _condition(
                    "FailureTarget",
                    True,
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                ),
                _condition(
                    "Failed",
                    True,
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                ),
            ]
            return Simulated(status, None)
        status.update(_nonzero(active=min(parallelism, completions), failed=failures))
        next_failure = profile.delay + failures * profile.step - elapsed if profile.step else None
        return Simulated(status, _soonest(profile.delay - elapsed, next_failure))
    done = math.floor(completions * profile.ready_fraction + 1e-9)
    if elapsed < profile.delay or done == 0:
        status.update(active=min(parallelism, completions), ready=0)
        return Simulated(status, profile.delay - elapsed if done else None)
    if done < completions:
        status.update(succeeded=done, active=min(parallelism, completions - done), ready=0)
        return Simulated(status, None)
    status.update(succeeded=completions, ready=0, completionTime=_time(since + profile.delay))
    status["conditions"] = [
        _condition(
            "SuccessCriteriaMet",
            True,
            "CompletionsReached",
            "Reached expected number of succeeded pods",
        ),
        _condition(
            "Complete", True, "CompletionsReached", "Reached expected number of succeeded pods"
        ),
    ]
    return Simulated(status, None)


def _share(name: str) -> float:
    """A stable number in [0, 1) per pod name, so partial readiness picks the same pods."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 2**32


def simulate_pod(
    obj: Mapping[str, Any], profile: Profile, elapsed: float, since: float
) -> Simulated:
    metadata = obj.get("metadata") or {}
    name = str(metadata.get("name", ""))
    containers = [
        c for c in (obj.get("spec") or {}).get("containers") or () if isinstance(c, Mapping)
    ]
    started = elapsed >= profile.delay
    ready = started and not profile.crash_loop and _share(name) < profile.ready_fraction
    restarts = (
        math.floor((elapsed - profile.delay) / profile.step)
        if started and profile.crash_loop and profile.step > 0
        else 0
    )
    statuses = []
    for container in containers:
        entry: dict[str, Any] = {
            "name": container.get("name", ""),
            "image": container.get("image", ""),
            "imageID": "",
            "ready": ready,
            "restartCount": restarts,
            "started": started and not profile.crash_loop,
        }
        if not started:
            entry["state"] = {"waiting": {"reason": "ContainerCreating"}}
        elif profile.crash_loop:
            entry["state"] = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": "back-off restarting failed container",
                }
            }
        else:
            entry["state"] = {"running": {"startedAt": _time(since + profile.delay)}}
        statuses.append(entry)
    status: dict[str, Any] = {
        "phase": "Running" if started else "Pending",
        "startTime": _time(since),
        "conditions": [
            _condition("PodScheduled", True, "Scheduled", ""),
            _condition("Initialized", True, "Initialized", ""),
            _condition(
                "ContainersReady", ready, "ContainersReady" if ready else "ContainersNotReady", ""
            ),
            _condition("Ready", ready, "PodReady" if ready else "ContainersNotReady", ""),
        ],
        "containerStatuses": statuses,
    }
    next_change: float | None = None
    if not started:
        next_change = profile.delay - elapsed
    elif profile.crash_loop and profile.step > 0:
        next_change = profile.delay + (restarts + 1) * profile.step - elapsed
    return Simulated(status, next_change)


def simulate(
    kind: str, obj: Mapping[str, Any], profile: Profile, elapsed: float, since: float
) -> Simulated | None:
    """The status `kind`'s controller would show `elapsed` seconds after generation began at
    `since` (epoch seconds); None for kinds the simulator does not play."""
    if kind == "Deployment":
        return simulate_deployment(obj, profile, elapsed)
    if kind == "ReplicaSet":
        return simulate_replica_set(obj, profile, elapsed)
    if kind == "StatefulSet":
        return simulate_stateful_set(obj, profile, elapsed)
    if kind == "DaemonSet":
        return simulate_daemon_set(obj, profile, elapsed)
    if kind == "Job":
        return simulate_job(obj, profile, elapsed, since)
    if kind == "Pod":
        return simulate_pod(obj, profile, elapsed, since)
    return None
