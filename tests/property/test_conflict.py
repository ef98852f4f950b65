"""Properties of conflict resolution over every kind the strategies module can draw.

`desired` is what the pipeline makes of a drawn upstream object; `existing` is that copy as a
server would store it (server metadata, status, extra defaulted fields), optionally with one
owned leaf changed (drift) or with someone else's marker (foreign).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from pytest_syncer import strategies as k8s
from pytest_syncer.contract.errors import TransformError
from pytest_syncer.contract.naming import CLUSTER_LABEL
from pytest_syncer.contract.objects import KubeObject, copy_json
from pytest_syncer.syncer.conflict import drifted_fields, resolver_for
from pytest_syncer.syncer.conflict.drift import owned_paths
from pytest_syncer.syncer.conflict.fieldpaths import MISSING, format_field_path, get_field
from pytest_syncer.syncer.interfaces import (
    ConflictAction,
    ConflictDecision,
    ConflictStrategy,
    TransformContext,
)
from pytest_syncer.syncer.transform.pipeline import downstream_pipeline
from tests.support.objects import syncable_objects

PIPELINE = downstream_pipeline()
STRATEGIES = st.sampled_from(list(ConflictStrategy))
Path = tuple[str | int, ...]


@st.composite
def desired_objects(draw: st.DrawFn) -> tuple[KubeObject, TransformContext]:
    context = TransformContext(draw(k8s.sync_targets()))
    try:
        desired = PIPELINE(draw(syncable_objects()), context)
    except TransformError:
        assume(False)
        raise
    return desired, context


def _dict_paths(value: Any, path: Path) -> Iterator[Path]:
    if isinstance(value, dict):
        yield path
        for key, item in value.items():
            yield from _dict_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _dict_paths(item, (*path, index))


def _scalar_leaves(value: Any, path: Path) -> Iterator[Path]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _scalar_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _scalar_leaves(item, (*path, index))
    else:
        yield path


def _owned_values(obj: KubeObject) -> Iterator[tuple[Path, Any]]:
    for path in owned_paths(obj):
        value = get_field(obj, path)
        if value is not MISSING:
            yield path, value


def _at(obj: Any, path: Path) -> Any:
    for part in path:
        obj = obj[part]
    return obj


def _set(obj: Any, path: Path, value: Any) -> None:
    _at(obj, path[:-1])[path[-1]] = value


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    return "x"


@st.composite
def stored_copies(draw: st.DrawFn, desired: KubeObject) -> KubeObject:
    """`desired` as a server keeps it: metadata, status and defaults added, nothing changed."""
    existing: KubeObject = copy_json(desired)
    existing["metadata"].update(
        uid=str(draw(st.uuids())),
        resourceVersion=str(draw(st.integers(1, 10**6))),
        generation=draw(st.integers(1, 9)),
        managedFields=[{"manager": "syncer", "operation": "Update"}],
    )
    existing["status"] = draw(st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
    holders = [path for top, value in _owned_values(existing) for path in _dict_paths(value, top)]
    for path in draw(st.lists(st.sampled_from(holders), max_size=3)) if holders else []:
        _at(existing, path).setdefault("zzDefaulted", draw(st.integers() | st.text(max_size=4)))
    return existing


@st.composite
def drifted_copies(draw: st.DrawFn, desired: KubeObject) -> tuple[KubeObject, str]:
    """A stored copy with one owned scalar changed, and the field path that names it."""
    existing = draw(stored_copies(desired))
    leaves = [
        leaf
        for top, value in _owned_values(desired)
        for leaf in _scalar_leaves(value, top)
        if leaf != ("metadata", "labels", CLUSTER_LABEL)
    ]
    assume(leaves)
    leaf = draw(st.sampled_from(leaves))
    _set(existing, leaf, _changed(_at(desired, leaf)))
    return existing, _display(leaf)


def _display(path: Path) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            formatted = format_field_path((part,))
            text += formatted if formatted.startswith("[") or not text else "." + formatted
    return text


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: _shuffled(item, rng) for key, item in items}
    if isinstance(value, list):
        return [_shuffled(item, rng) for item in value]
    return value


def _without_version(obj: KubeObject) -> KubeObject:
    metadata = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
    return {**obj, "metadata": metadata}


@st.composite
def scenarios(
    draw: st.DrawFn, kinds: tuple[str, ...] = ("none", "stored", "drifted", "foreign")
) -> tuple[KubeObject, KubeObject | None, TransformContext]:
    desired, context = draw(desired_objects())
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return desired, None, context
    if kind == "stored":
        return desired, draw(stored_copies(desired)), context
    existing, _ = draw(drifted_copies(desired))
    if kind == "foreign":
        existing["metadata"]["labels"][CLUSTER_LABEL] = draw(st.sampled_from(["", "other"]))
    return desired, existing, context


def _decide(
    strategy: ConflictStrategy,
    desired: KubeObject,
    existing: KubeObject | None,
    context: TransformContext,
    retain: tuple[str, ...] = (),
) -> ConflictDecision:
    return resolver_for(strategy, retain).resolve(desired, existing, context)


@given(scenarios(), STRATEGIES)
def test_resolve_never_mutates_and_is_deterministic(
    scenario: tuple[KubeObject, KubeObject | None, TransformContext], strategy: ConflictStrategy
) -> None:
    desired, existing, context = scenario
    before = (copy_json(desired), copy_json(existing))
    first = _decide(strategy, desired, existing, context)
    assert (desired, existing) == before
    assert _decide(strategy, desired, existing, context) == first
    assert strategy.value in first.reason
    if first.obj is not None:
        first.obj["metadata"]["name"] = "changed"
        assert (desired, existing) == before


@given(scenarios(), STRATEGIES, st.randoms(use_true_random=False))
def test_the_order_of_keys_never_matters(
    scenario: tuple[KubeObject, KubeObject | None, TransformContext],
    strategy: ConflictStrategy,
    rng: random.Random,
) -> None:
    desired, existing, context = scenario
    shuffled = _decide(strategy, _shuffled(desired, rng), _shuffled(existing, rng), context)
    assert shuffled == _decide(strategy, desired, existing, context)


@given(desired_objects(), st.data(), STRATEGIES)
def test_keep_iff_no_drift_on_the_syncers_own_copy(
    made: tuple[KubeObject, TransformContext], data: st.DataObject, strategy: ConflictStrategy
) -> None:
    desired, context = made
    if data.draw(st.booleans()):
        existing = data.draw(stored_copies(desired))
        drift: tuple[str, ...] = ()
    else:
        existing, field = data.draw(drifted_copies(desired))
        drift = (field,)
    assert drifted_fields(desired, existing) == drift
    decision = _decide(strategy, desired, existing, context)
    assert (decision.action is ConflictAction.KEEP) == (not drift)
    if drift:
        assert drift[0] in decision.reason


@given(desired_objects(), st.data())
def test_upstream_wins_writes_back_exactly_the_desired_object(
    made: tuple[KubeObject, TransformContext], data: st.DataObject
) -> None:
    desired, context = made
    existing, field = data.draw(drifted_copies(desired))
    decision = _decide(ConflictStrategy.UPSTREAM_WINS, desired, existing, context)
    assert decision.action is ConflictAction.WRITE
    assert decision.obj is not None
    assert _without_version(decision.obj) == desired
    assert decision.obj["metadata"]["resourceVersion"] == existing["metadata"]["resourceVersion"]
    assert decision.reason == f"upstream-wins: reverted drift below in {field}"


@given(desired_objects(), st.data())
def test_abort_refuses_drift_and_names_it(
    made: tuple[KubeObject, TransformContext], data: st.DataObject
) -> None:
    desired, context = made
    existing, field = data.draw(drifted_copies(desired))
    decision = _decide(ConflictStrategy.ABORT, desired, existing, context)
    assert decision == ConflictDecision(
        ConflictAction.REFUSE, None, f"abort: the copy below differs in {field}; left as it is"
    )


def _retainable_key(key: str) -> bool:
    """A key a retain-fields annotation can spell: non-empty, no brackets, no comma."""
    return bool(key) and not set(key) & set("[],")


def _under(field: str, prefix: str) -> bool:
    return field == prefix or field.startswith((prefix + ".", prefix + "["))


@given(desired_objects(), st.data())
def test_retain_keeps_exactly_the_retained_paths(
    made: tuple[KubeObject, TransformContext], data: st.DataObject
) -> None:
    desired, context = made
    existing, _ = data.draw(drifted_copies(desired))
    candidates = sorted(
        {
            path
            for top, value in _owned_values(desired)
            for path in _dict_paths(value, top)
            if top[0] != "metadata"
            and all(isinstance(part, str) and _retainable_key(part) for part in path)
        }
        | {("spec", "replicas")},
        key=str,
    )
    chosen = data.draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=2, unique=True))
    retained = tuple(format_field_path(tuple(map(str, path))) for path in chosen)
    decision = _decide(ConflictStrategy.RETAIN, desired, existing, context, retained)
    result = existing if decision.action is ConflictAction.KEEP else decision.obj
    assert decision.action is not ConflictAction.REFUSE
    assert result is not None
    for path in chosen:
        kept = get_field(existing, tuple(map(str, path)))
        if kept is not MISSING:
            assert get_field(result, tuple(map(str, path))) == kept
    differing = drifted_fields(desired, result)
    assert all(any(_under(field, prefix) for prefix in retained) for field in differing)
    assert (decision.action is ConflictAction.KEEP) == (drifted_fields(result, existing) == ())


@given(scenarios(kinds=("stored", "drifted")), STRATEGIES)
def test_a_foreign_object_is_only_ever_written_under_overwrite(
    scenario: tuple[KubeObject, KubeObject | None, TransformContext], strategy: ConflictStrategy
) -> None:
    desired, existing, context = scenario
    assert existing is not None
    existing["metadata"]["labels"] = {
        **existing["metadata"].get("labels", {}),
        CLUSTER_LABEL: context.sync_target.key + "-not",
    }
    decision = _decide(strategy, desired, existing, context)
    if strategy is ConflictStrategy.OVERWRITE:
        assert decision.action is ConflictAction.WRITE
        assert decision.obj is not None
        assert _without_version(decision.obj) == desired
    else:
        assert decision.action is ConflictAction.REFUSE
        assert decision.obj is None
        assert "foreign object" in decision.reason
