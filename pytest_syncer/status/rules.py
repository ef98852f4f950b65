"""How the statuses of one workload on many targets fold into its one upstream `.status`.

Everything here is pure: `aggregate` takes what each placed target reported (already in
upstream form) and returns the upstream status, with a rule per kind. The hub's aggregator
feeds it from SyncStatus objects and writes the result; tests and other hubs can call it alone.

Three things hold for every kind:

- a target whose heartbeat is stale is not counted as healthy: its live counters and conditions
  are left out, and the `SyncTargetsReady` condition names it (terminal facts, such as a Job's
  succeeded count, still count: they cannot revert);
- the result depends only on the set of targets, never on their order;
- `observedGeneration` (kinds that have one) moves only when every placed target has observed the
  current generation, and never backwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pytest_syncer.contract.objects import SyncPhase

SYNC_TARGETS_READY = "SyncTargetsReady"
"""The aggregator's own condition: every placed target has a fresh heartbeat and is Synced."""
MESSAGE_NAME_LIMIT = 10
"""A condition message names at most this many targets, then says how many more."""

StatusFold = Callable[[Mapping[str, "TargetStatus"]], dict[str, Any]]
"""A kind's rule: the placed targets (name -> what it reported) -> the upstream status."""


@dataclass(frozen=True)
class TargetStatus:
    """What one placed target reported for the workload.

    `status` is the downstream status in upstream form (None before anything was collected);
    `observed_generation` is the upstream generation its downstream controller has observed;
    `stale` is true when the target's syncer heartbeat is older than the hub's threshold.
    """

    status: Mapping[str, Any] | None = None
    observed_generation: int | None = None
    phase: SyncPhase = SyncPhase.SYNCED
    stale: bool = False


@dataclass(frozen=True)
class StatusRule:
    """A kind's fold and whether that kind's status carries an `observedGeneration`."""

    fold: StatusFold
    tracks_generation: bool


class ConditionMode(Enum):
    """How one condition type combines over targets."""

    ALL = "all"
    """True only when every counted target says True (missing counts as not True)."""
    ANY = "any"
    """True when at least one counted target says True."""


@dataclass(frozen=True)
class ConditionRule:
    """One condition type of a kind: how it combines and over which targets.

    `include_stale` counts stale targets' last report: right only for terminal conditions
    (a Job that completed stays complete). `required` emits the condition even when no
    target reports it (a Deployment that has no Available condition yet is not available).
    """

    type: str
    mode: ConditionMode
    include_stale: bool = False
    required: bool = False


def _live(per_target: Mapping[str, TargetStatus]) -> list[tuple[str, TargetStatus]]:
    return [(name, per_target[name]) for name in sorted(per_target) if not per_target[name].stale]


def _everyone(per_target: Mapping[str, TargetStatus]) -> list[tuple[str, TargetStatus]]:
    return [(name, per_target[name]) for name in sorted(per_target)]


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def sum_counters(
    targets: Iterable[tuple[str, TargetStatus]], fields: Sequence[str]
) -> dict[str, int]:
    """Each integer field summed over the targets that report it; absent when none does."""
    totals: dict[str, int] = {}
    for _, target in targets:
        status = target.status or {}
        for field in fields:
            value = _int(status.get(field))
            if value is not None:
                totals[field] = totals.get(field, 0) + value
    return totals


def name_targets(names: Sequence[str]) -> str:
    """`a, b, c` or `a, ..., j and 5 more`: messages stay short at 500 targets."""
    shown = ", ".join(names[:MESSAGE_NAME_LIMIT])
    rest = len(names) - MESSAGE_NAME_LIMIT
    return f"{shown} and {rest} more" if rest > 0 else shown


def _find_condition(status: Mapping[str, Any] | None, kind: str) -> Mapping[str, Any] | None:
    for condition in (status or {}).get("conditions") or ():
        if isinstance(condition, Mapping) and condition.get("type") == kind:
            return condition
    return None


def _shared_reason(conditions: Iterable[Mapping[str, Any] | None], fallback: str) -> str:
    reasons = {c.get("reason") for c in conditions if c is not None and c.get("reason")}
    if len(reasons) == 1:
        return str(reasons.pop())
    return fallback


def _why(name: str, condition: Mapping[str, Any] | None) -> str:
    if condition is None:
        return f"{name} (not reported)"
    reason = condition.get("reason") or condition.get("status", "Unknown")
    return f"{name} ({reason})"


def merge_condition(
    rule: ConditionRule, per_target: Mapping[str, TargetStatus]
) -> dict[str, Any] | None:
    """One condition type over the targets; None when no target reports it and none must."""
    counted = _everyone(per_target) if rule.include_stale else _live(per_target)
    reported = [(name, _find_condition(target.status, rule.type)) for name, target in counted]
    if not rule.required and all(condition is None for _, condition in reported):
        return None
    true = [(n, c) for n, c in reported if c is not None and c.get("status") == "True"]
    other = [(n, c) for n, c in reported if c is None or c.get("status") != "True"]
    label = "targets" if rule.include_stale else "ready targets"
    if rule.mode is ConditionMode.ALL:
        holds = bool(counted) and not other
        deciding = true if holds else other
        if holds:
            message = f"{rule.type} on all {len(counted)} {label}"
        elif not counted:
            message = f"no {label}"
        else:
            names = [_why(n, c) for n, c in other]
            message = f"not {rule.type} on {len(other)} of {len(counted)} {label}: "
            message += name_targets(names)
    else:
        holds = bool(true)
        deciding = true if holds else other
        if holds:
            message = f"{rule.type} on {len(true)} of {len(counted)} {label}: "
            message += name_targets([n for n, _ in true])
            if other:
                message += "; not on: " + name_targets([_why(n, c) for n, c in other])
        else:
            message = f"{rule.type} on none of {len(counted)} {label}"
    status = "True" if holds else "False"
    reason = _shared_reason((c for _, c in deciding), "Targets" + status)
    return {"type": rule.type, "status": status, "reason": reason, "message": message}


def merge_conditions(
    per_target: Mapping[str, TargetStatus], rules: Sequence[ConditionRule] = ()
) -> list[dict[str, Any]]:
    """The kind's condition rules, then every other type any target reports (mode ALL).

    The output order is the rules' order, then the other types sorted: stable for any order
    of targets.
    """
    known = {rule.type for rule in rules}
    others = sorted(
        {
            str(condition["type"])
            for _, target in _everyone(per_target)
            for condition in (target.status or {}).get("conditions") or ()
            if isinstance(condition, Mapping)
            and isinstance(condition.get("type"), str)
            and condition["type"] not in known
            and condition["type"] != SYNC_TARGETS_READY
        }
    )
    merged = []
    for rule in [*rules, *(ConditionRule(kind, ConditionMode.ALL) for kind in others)]:
        condition = merge_condition(rule, per_target)
        if condition is not None:
            merged.append(condition)
    return merged


def sync_targets_ready(per_target: Mapping[str, TargetStatus]) -> dict[str, Any]:
    """The aggregator's own condition: stale heartbeats and targets not Synced, by name."""
    everyone = _everyone(per_target)
    stale = [name for name, target in everyone if target.stale]
    unsynced: dict[str, list[str]] = {}
    for name, target in everyone:
        if not target.stale and target.phase is not SyncPhase.SYNCED:
            unsynced.setdefault(str(target.phase), []).append(name)
    if not everyone:
        return {
            "type": SYNC_TARGETS_READY,
            "status": "False",
            "reason": "NotPlaced",
            "message": "placed on no sync target",
        }
    if not stale and not unsynced:
        return {
            "type": SYNC_TARGETS_READY,
            "status": "True",
            "reason": "AllTargetsReady",
            "message": f"all {len(everyone)} targets have a fresh heartbeat and are synced",
        }
    parts = []
    if stale:
        parts.append(f"stale heartbeat on {len(stale)}: {name_targets(stale)}")
    parts += [
        f"{phase} on {len(names)}: {name_targets(names)}" for phase, names in unsynced.items()
    ]
    return {
        "type": SYNC_TARGETS_READY,
        "status": "False",
        "reason": "HeartbeatStale" if stale else "TargetsNotSynced",
        "message": "; ".join(parts),
    }


def _agreed_fields(
    targets: Sequence[tuple[str, TargetStatus]], fields: Sequence[str]
) -> dict[str, Any]:
    """Fields kept only when every target that reports one reports the same value."""
    agreed: dict[str, Any] = {}
    for field in fields:
        values = {
            json.dumps(target.status[field], sort_keys=True)
            for _, target in targets
            if target.status is not None and field in target.status
        }
        if len(values) == 1:
            agreed[field] = json.loads(values.pop())
    return agreed


def _max_field(targets: Sequence[tuple[str, TargetStatus]], field: str) -> dict[str, int]:
    values = [_int((target.status or {}).get(field)) for _, target in targets]
    present = [value for value in values if value is not None]
    return {field: max(present)} if present else {}


def workload_rule(
    counters: Sequence[str],
    conditions: Sequence[ConditionRule] = (),
    agreed: Sequence[str] = (),
    maximum: Sequence[str] = (),
) -> StatusFold:
    """Sum the counters of ready targets, merge conditions, keep what every target agrees on."""

    def fold(per_target: Mapping[str, TargetStatus]) -> dict[str, Any]:
        live = _live(per_target)
        status: dict[str, Any] = dict(sum_counters(live, counters))
        status.update(_agreed_fields(live, agreed))
        for field in maximum:
            status.update(_max_field(live, field))
        merged = merge_conditions(per_target, conditions)
        if merged:
            status["conditions"] = merged
        return status

    return fold


DEPLOYMENT_COUNTERS = (
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "unavailableReplicas",
    "terminatingReplicas",
)
STATEFULSET_COUNTERS = (
    "replicas",
    "readyReplicas",
    "currentReplicas",
    "updatedReplicas",
    "availableReplicas",
)
REPLICASET_COUNTERS = (
    "replicas",
    "fullyLabeledReplicas",
    "readyReplicas",
    "availableReplicas",
    "terminatingReplicas",
)
DAEMONSET_COUNTERS = (
    "currentNumberScheduled",
    "numberMisscheduled",
    "desiredNumberScheduled",
    "numberReady",
    "updatedNumberScheduled",
    "numberAvailable",
    "numberUnavailable",
)
JOB_LIVE_COUNTERS = ("active", "ready", "terminating")
JOB_TERMINAL_COUNTERS = ("succeeded", "failed")


def job_fold(per_target: Mapping[str, TargetStatus]) -> dict[str, Any]:
    """Jobs: live counters from ready targets, terminal counts and conditions from all."""
    everyone = _everyone(per_target)
    status: dict[str, Any] = dict(sum_counters(_live(per_target), JOB_LIVE_COUNTERS))
    status.update(sum_counters(everyone, JOB_TERMINAL_COUNTERS))
    starts = [t.status["startTime"] for _, t in everyone if t.status and t.status.get("startTime")]
    if starts:
        status["startTime"] = min(starts)
    merged = merge_conditions(
        per_target,
        (
            ConditionRule("Complete", ConditionMode.ALL, include_stale=True),
            ConditionRule("Failed", ConditionMode.ANY, include_stale=True),
            ConditionRule("SuccessCriteriaMet", ConditionMode.ALL, include_stale=True),
            ConditionRule("FailureTarget", ConditionMode.ANY, include_stale=True),
            ConditionRule("Suspended", ConditionMode.ANY),
        ),
    )
    complete = any(c["type"] == "Complete" and c["status"] == "True" for c in merged)
    ends = [
        t.status["completionTime"]
        for _, t in everyone
        if t.status and t.status.get("completionTime")
    ]
    if complete and ends:
        status["completionTime"] = max(ends)
    if merged:
        status["conditions"] = merged
    return status


def service_fold(per_target: Mapping[str, TargetStatus]) -> dict[str, Any]:
    """Services: the load-balancer ingress of every ready target, each address once."""
    ingress: list[Any] = []
    seen: set[str] = set()
    for _, target in _live(per_target):
        balancer = (target.status or {}).get("loadBalancer")
        entries = balancer.get("ingress") if isinstance(balancer, Mapping) else None
        for entry in entries or ():
            key = json.dumps(entry, sort_keys=True)
            if key not in seen:
                seen.add(key)
                ingress.append(json.loads(key))
    status: dict[str, Any] = {"loadBalancer": {"ingress": ingress} if ingress else {}}
    merged = merge_conditions(per_target)
    if merged:
        status["conditions"] = merged
    return status


def per_target_fold(per_target: Mapping[str, TargetStatus]) -> dict[str, Any]:
    """Kinds without a rule: every target's status kept whole under `status.targets.<name>`."""
    status: dict[str, Any] = {
        "targets": {
            name: json.loads(json.dumps(target.status))
            for name, target in _everyone(per_target)
            if target.status is not None
        }
    }
    merged = merge_conditions(per_target)
    if merged:
        status["conditions"] = merged
    return status


_RULES: dict[str, StatusRule] = {
    "Deployment": StatusRule(
        workload_rule(
            DEPLOYMENT_COUNTERS,
            (
                ConditionRule("Available", ConditionMode.ALL, required=True),
                ConditionRule("Progressing", ConditionMode.ANY),
                ConditionRule("ReplicaFailure", ConditionMode.ANY),
            ),
            maximum=("collisionCount",),
        ),
        tracks_generation=True,
    ),
    "StatefulSet": StatusRule(
        workload_rule(
            STATEFULSET_COUNTERS,
            agreed=("currentRevision", "updateRevision"),
            maximum=("collisionCount",),
        ),
        tracks_generation=True,
    ),
    "ReplicaSet": StatusRule(
        workload_rule(REPLICASET_COUNTERS, (ConditionRule("ReplicaFailure", ConditionMode.ANY),)),
        tracks_generation=True,
    ),
    "DaemonSet": StatusRule(
        workload_rule(DAEMONSET_COUNTERS, maximum=("collisionCount",)),
        tracks_generation=True,
    ),
    "Job": StatusRule(job_fold, tracks_generation=False),
    "Service": StatusRule(service_fold, tracks_generation=False),
}
_DEFAULT_RULES = dict(_RULES)


def register_rule(kind: str, fold: StatusFold, *, tracks_generation: bool = False) -> None:
    """Install a branch author's rule for a kind (replacing ours, or the per-target default).

    `fold` gets every placed target, stale ones marked; `aggregate` adds `observedGeneration`
    (when `tracks_generation`) and the `SyncTargetsReady` condition around its result.
    """
    _RULES[kind] = StatusRule(fold, tracks_generation)


def unregister_rule(kind: str) -> None:
    """Back to the built-in rule for `kind` (or the per-target default if it has none)."""
    if kind in _DEFAULT_RULES:
        _RULES[kind] = _DEFAULT_RULES[kind]
    else:
        _RULES.pop(kind, None)


def rule_for(kind: str) -> StatusRule | None:
    """The registered rule of a kind; None for kinds folded per target."""
    return _RULES.get(kind)


def aggregate_generation(
    per_target: Mapping[str, TargetStatus],
    generation: int | None,
    previous: int | None,
) -> int | None:
    """The upstream `observedGeneration`: the oldest generation every placed target observed.

    It never moves backwards (`previous` is what the upstream shows now), never passes the
    current `generation`, and stays put while any placed target has observed nothing.
    """
    observed = [target.observed_generation for target in per_target.values()]
    candidate: int | None = None
    if observed and all(value is not None for value in observed):
        candidate = min(value for value in observed if value is not None)
        if generation is not None:
            candidate = min(candidate, generation)
    if previous is None:
        return candidate
    return previous if candidate is None else max(previous, candidate)


def aggregate(
    kind: str,
    per_target: Mapping[str, TargetStatus],
    *,
    generation: int | None = None,
    previous_observed_generation: int | None = None,
) -> dict[str, Any]:
    """The upstream `.status` of a workload of `kind` placed on the targets in `per_target`.

    One ready target: its status as it is (kcp's single-target behaviour). More: the kind's rule
    (`register_rule`), or for kinds without one every status under `status.targets.<name>`.
    `generation` is the workload's current `metadata.generation`; `previous_observed_generation`
    its current `status.observedGeneration`.
    """
    rule = rule_for(kind)
    names = sorted(per_target)
    only = per_target[names[0]] if len(names) == 1 else None
    if only is not None and not only.stale:
        status: dict[str, Any] = {
            key: json.loads(json.dumps(value))
            for key, value in (only.status or {}).items()
            if key != "observedGeneration"
        }
        status["conditions"] = [
            condition
            for condition in status.get("conditions") or ()
            if not (isinstance(condition, Mapping) and condition.get("type") == SYNC_TARGETS_READY)
        ]
    elif rule is not None:
        status = rule.fold(per_target)
    else:
        status = per_target_fold(per_target)
    tracks = rule.tracks_generation if rule is not None else _reports_generation(per_target)
    if tracks:
        observed = aggregate_generation(per_target, generation, previous_observed_generation)
        if observed is not None:
            status["observedGeneration"] = observed
    status["conditions"] = [*status.get("conditions", ()), sync_targets_ready(per_target)]
    return status


def _reports_generation(per_target: Mapping[str, TargetStatus]) -> bool:
    return any(target.observed_generation is not None for target in per_target.values())
