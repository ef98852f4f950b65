"""Properties of the status aggregation rules, checked against a reference written here."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.contract.objects import SyncPhase
from pytest_syncer.status.rules import (
    DAEMONSET_COUNTERS,
    DEPLOYMENT_COUNTERS,
    JOB_LIVE_COUNTERS,
    JOB_TERMINAL_COUNTERS,
    MESSAGE_NAME_LIMIT,
    REPLICASET_COUNTERS,
    STATEFULSET_COUNTERS,
    SYNC_TARGETS_READY,
    TargetStatus,
    aggregate,
)

NAMES = st.text("abcdefghij-0123", min_size=1, max_size=6)


@st.composite
def deployment_statuses(draw: st.DrawFn) -> dict[str, Any] | None:
    if draw(st.booleans()) and draw(st.booleans()):
        return None
    status: dict[str, Any] = {}
    for counter in DEPLOYMENT_COUNTERS:
        if draw(st.booleans()):
            status[counter] = draw(st.integers(0, 50))
    conditions = []
    for kind in ("Available", "Progressing", "ReplicaFailure"):
        state = draw(st.sampled_from([None, "True", "False", "Unknown"]))
        if state is not None:
            reason = draw(st.sampled_from(["A", "B", "MinimumReplicasUnavailable"]))
            conditions.append({"type": kind, "status": state, "reason": reason})
    if conditions:
        status["conditions"] = draw(st.permutations(conditions))
    return status


@st.composite
def target_statuses(draw: st.DrawFn, generation: int) -> TargetStatus:
    return TargetStatus(
        status=draw(deployment_statuses()),
        observed_generation=draw(st.none() | st.integers(1, generation)),
        phase=draw(st.sampled_from(list(SyncPhase))),
        stale=draw(st.booleans()),
    )


@st.composite
def placements(draw: st.DrawFn, min_size: int = 0) -> tuple[int, dict[str, TargetStatus]]:
    generation = draw(st.integers(1, 8))
    names = draw(st.lists(NAMES, min_size=min_size, max_size=12, unique=True))
    return generation, {name: draw(target_statuses(generation)) for name in names}


KINDS = st.sampled_from(
    ["Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job", "Service", "Widget"]
)


def _reference_generation(
    per_target: dict[str, TargetStatus], generation: int, previous: int | None
) -> int | None:
    observed = [t.observed_generation for t in per_target.values()]
    if not observed or None in observed:
        return previous
    least = generation
    for value in observed:
        assert value is not None
        least = min(least, value)
    return least if previous is None else max(previous, least)


def _reference_deployment(
    per_target: dict[str, TargetStatus], generation: int, previous: int | None
) -> dict[str, Any]:
    """Counters, Available and observedGeneration as docs/status.md's rules state them."""
    fresh = {name: t for name, t in per_target.items() if not t.stale}
    if len(per_target) == 1 and fresh:
        (only,) = fresh.values()
        counters = {c: v for c, v in (only.status or {}).items() if c in DEPLOYMENT_COUNTERS}
        available = None
    else:
        counters = {}
        for target in fresh.values():
            for counter in DEPLOYMENT_COUNTERS:
                if counter in (target.status or {}):
                    counters[counter] = counters.get(counter, 0) + (target.status or {})[counter]
        unavailable = sorted(
            name
            for name, target in fresh.items()
            if not any(
                c["type"] == "Available" and c["status"] == "True"
                for c in (target.status or {}).get("conditions", [])
            )
        )
        available = ("True" if fresh and not unavailable else "False", unavailable)
    return {
        "counters": counters,
        "available": available,
        "observedGeneration": _reference_generation(per_target, generation, previous),
    }


def _condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in status["conditions"] if c["type"] == kind]
    assert len(found) == 1, status["conditions"]
    return found[0]


@given(placements(), KINDS, st.randoms(use_true_random=False), st.none() | st.integers(1, 8))
def test_aggregate_does_not_depend_on_target_order(placed, kind, random, previous) -> None:
    generation, per_target = placed
    names = list(per_target)
    random.shuffle(names)
    shuffled = {name: per_target[name] for name in names}
    assert aggregate(
        kind, per_target, generation=generation, previous_observed_generation=previous
    ) == aggregate(kind, shuffled, generation=generation, previous_observed_generation=previous)


@given(placements(), NAMES, st.data())
def test_adding_a_target_never_lowers_a_summed_counter(placed, extra, data) -> None:
    generation, per_target = placed
    before = aggregate("Deployment", per_target, generation=generation)
    added = {**per_target, extra + "-new": data.draw(target_statuses(generation))}
    after = aggregate("Deployment", added, generation=generation)
    for counter in DEPLOYMENT_COUNTERS:
        assert after.get(counter, 0) >= before.get(counter, 0), counter


@given(placements(), st.none() | st.integers(1, 8))
def test_observed_generation_never_moves_back_nor_passes_a_lagging_target(placed, previous) -> None:
    generation, per_target = placed
    if previous is not None:
        previous = min(previous, generation)
    status = aggregate(
        "Deployment", per_target, generation=generation, previous_observed_generation=previous
    )
    observed = status.get("observedGeneration")
    if previous is not None:
        assert observed is not None
        assert observed >= previous
    if observed is not None:
        assert observed <= generation
        lagging = [t.observed_generation for t in per_target.values()]
        if None in lagging:
            assert observed == previous
        else:
            floor = min([generation, *(value for value in lagging if value is not None)])
            assert observed <= max(previous or 0, floor)


@given(placements(), st.none() | st.integers(1, 8))
def test_deployment_aggregate_equals_the_reference(placed, previous) -> None:
    generation, per_target = placed
    if previous is not None:
        previous = min(previous, generation)
    status = aggregate(
        "Deployment", per_target, generation=generation, previous_observed_generation=previous
    )
    expected = _reference_deployment(per_target, generation, previous)
    assert {c: status[c] for c in DEPLOYMENT_COUNTERS if c in status} == expected["counters"]
    assert status.get("observedGeneration") == expected["observedGeneration"]
    if expected["available"] is not None:
        state, failing = expected["available"]
        available = _condition(status, "Available")
        assert available["status"] == state
        if len(failing) <= MESSAGE_NAME_LIMIT:
            for name in failing:
                assert name in available["message"]
    stale = sorted(name for name, t in per_target.items() if t.stale)
    ready = _condition(status, SYNC_TARGETS_READY)
    not_synced = [
        name for name, t in per_target.items() if not t.stale and t.phase is not SyncPhase.SYNCED
    ]
    assert ready["status"] == ("True" if per_target and not stale and not not_synced else "False")
    if len(stale) <= MESSAGE_NAME_LIMIT:
        for name in stale:
            assert name in ready["message"]


@st.composite
def services(draw: st.DrawFn) -> dict[str, TargetStatus]:
    addresses = st.sampled_from(["10.0.0.1", "10.0.0.2", "10.0.0.3", "192.168.1.9"])
    names = draw(st.lists(NAMES, min_size=2, max_size=8, unique=True))
    return {
        name: TargetStatus(
            status={
                "loadBalancer": {
                    "ingress": [{"ip": ip} for ip in draw(st.lists(addresses, max_size=3))]
                }
            },
            stale=draw(st.booleans()),
        )
        for name in names
    }


@given(services())
def test_service_ingress_is_the_union_of_ready_targets_each_once(per_target) -> None:
    status = aggregate("Service", per_target)
    ingress = status["loadBalancer"].get("ingress", [])
    expected = {
        entry["ip"]
        for target in per_target.values()
        if not target.stale
        for entry in (target.status or {})["loadBalancer"]["ingress"]
    }
    assert sorted(entry["ip"] for entry in ingress) == sorted(expected)


SUMMED = {
    "Deployment": DEPLOYMENT_COUNTERS,
    "StatefulSet": STATEFULSET_COUNTERS,
    "ReplicaSet": REPLICASET_COUNTERS,
    "DaemonSet": DAEMONSET_COUNTERS,
    "Job": JOB_LIVE_COUNTERS + JOB_TERMINAL_COUNTERS,
}


@st.composite
def counted(draw: st.DrawFn, kind: str) -> TargetStatus:
    fields = SUMMED[kind]
    status = {field: draw(st.integers(0, 30)) for field in fields if draw(st.booleans())}
    return TargetStatus(status=status, stale=draw(st.booleans()))


@given(st.sampled_from(sorted(SUMMED)), st.data())
def test_no_kind_lowers_a_summed_counter_when_a_target_joins(kind, data) -> None:
    names = data.draw(st.lists(NAMES, max_size=8, unique=True))
    per_target = {name: data.draw(counted(kind)) for name in names}
    before = aggregate(kind, per_target)
    after = aggregate(kind, {**per_target, "joining-target": data.draw(counted(kind))})
    for field in SUMMED[kind]:
        assert after.get(field, 0) >= before.get(field, 0), field


# Every rule of docs/status.md's table that counts or merges, restated here from the table:
# (mode, counts stale targets, present even when no target reports it) per condition type.
CONDITION_TABLE: dict[str, dict[str, tuple[str, bool, bool]]] = {
    "Deployment": {
        "Available": ("all", False, True),
        "Progressing": ("any", False, False),
        "ReplicaFailure": ("any", False, False),
    },
    "ReplicaSet": {"ReplicaFailure": ("any", False, False)},
    "StatefulSet": {},
    "DaemonSet": {},
    "Job": {
        "Complete": ("all", True, False),
        "Failed": ("any", True, False),
        "SuccessCriteriaMet": ("all", True, False),
        "FailureTarget": ("any", True, False),
        "Suspended": ("any", False, False),
    },
}
UNKNOWN_CONDITION = ("all", False, False)
TERMINAL = {"Job": JOB_TERMINAL_COUNTERS}
TRACKS_GENERATION = {"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"}


@st.composite
def kind_statuses(draw: st.DrawFn, kind: str, generation: int) -> TargetStatus:
    status: dict[str, Any] = {
        field: draw(st.integers(0, 30)) for field in SUMMED[kind] if draw(st.booleans())
    }
    types = [*CONDITION_TABLE[kind], "Custom"]
    chosen = draw(st.lists(st.sampled_from(types), unique=True, max_size=len(types)))
    if chosen:
        status["conditions"] = [
            {"type": kind_, "status": draw(st.sampled_from(["True", "False", "Unknown"]))}
            for kind_ in chosen
        ]
    return TargetStatus(
        status=None if draw(st.integers(0, 9)) == 0 else status,
        observed_generation=draw(st.none() | st.integers(1, generation)),
        phase=draw(st.sampled_from(list(SyncPhase))),
        stale=draw(st.booleans()),
    )


def _reported(target: TargetStatus, kind: str) -> str | None:
    for condition in (target.status or {}).get("conditions", []):
        if condition["type"] == kind:
            state: str = condition["status"]
            return state
    return None


def _reference(
    kind: str, per_target: dict[str, TargetStatus], generation: int, previous: int | None
) -> dict[str, Any]:
    """Counters, condition states and observedGeneration of `kind`, from the table above."""
    live = [t for t in per_target.values() if not t.stale]
    if len(per_target) == 1 and live:
        only = live[0].status or {}
        counters = {f: v for f, v in only.items() if f in SUMMED[kind]}
        conditions = {c["type"]: c["status"] for c in only.get("conditions", [])}
    else:
        terminal = TERMINAL.get(kind, ())
        counters = {}
        for field in SUMMED[kind]:
            counted = per_target.values() if field in terminal else live
            values = [(t.status or {})[field] for t in counted if field in (t.status or {})]
            if values:
                counters[field] = sum(values)
        conditions = {}
        types = {
            c["type"] for t in per_target.values() for c in (t.status or {}).get("conditions", [])
        }
        for kind_ in {*CONDITION_TABLE[kind], *types}:
            mode, with_stale, required = CONDITION_TABLE[kind].get(kind_, UNKNOWN_CONDITION)
            counted = list(per_target.values()) if with_stale else live
            states = [_reported(t, kind_) for t in counted]
            if not required and all(state is None for state in states):
                continue
            if mode == "all":
                holds = bool(counted) and all(state == "True" for state in states)
            else:
                holds = any(state == "True" for state in states)
            conditions[kind_] = "True" if holds else "False"
    observed = None
    if kind in TRACKS_GENERATION:
        observed = _reference_generation(per_target, generation, previous)
    return {"counters": counters, "conditions": conditions, "observedGeneration": observed}


@st.composite
def kind_placements(draw: st.DrawFn) -> tuple[str, int, int | None, dict[str, TargetStatus]]:
    kind = draw(st.sampled_from(sorted(CONDITION_TABLE)))
    generation = draw(st.integers(1, 8))
    previous = draw(st.none() | st.integers(1, generation))
    names = draw(st.lists(NAMES, max_size=10, unique=True))
    return kind, generation, previous, {n: draw(kind_statuses(kind, generation)) for n in names}


@given(kind_placements())
def test_every_kind_equals_the_reference_of_its_rules(placed) -> None:
    kind, generation, previous, per_target = placed
    status = aggregate(
        kind, per_target, generation=generation, previous_observed_generation=previous
    )
    expected = _reference(kind, per_target, generation, previous)
    assert {f: status[f] for f in SUMMED[kind] if f in status} == expected["counters"]
    assert {
        c["type"]: c["status"] for c in status["conditions"] if c["type"] != SYNC_TARGETS_READY
    } == expected["conditions"]
    assert status.get("observedGeneration") == expected["observedGeneration"]
