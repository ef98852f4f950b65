"""Properties of field ownership and server-side apply (``managed_fields``)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.managed_fields import (
    APPLY,
    ApplyConflictError,
    apply_configuration,
    field_set,
    from_fields_v1,
    is_missing,
    leaf_paths,
    record_update,
    to_fields_v1,
    value_at,
)
from pytest_syncer.apiserver.api.strategic_merge import schema_for

DEPLOYMENT = schema_for("apps/v1", "Deployment")
CONFIG_MAP = schema_for("v1", "ConfigMap")

names = st.sampled_from(["web", "sidecar", "log", "init"])
label_keys = st.sampled_from(["app", "tier", "team"])
small_text = st.sampled_from(["a", "b", "c", "nginx:1", "nginx:2"])
ports = st.lists(
    st.builds(lambda port: {"containerPort": port}, st.sampled_from([80, 443, 8080])),
    max_size=2,
    unique_by=lambda p: p["containerPort"],
)


@st.composite
def containers(draw: st.DrawFn) -> list[dict[str, Any]]:
    chosen = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    result = []
    for name in chosen:
        container: dict[str, Any] = {"name": name, "image": draw(small_text)}
        if draw(st.booleans()):
            container["ports"] = draw(ports)
        if draw(st.booleans()):
            container["args"] = draw(st.lists(small_text, max_size=2))
        result.append(container)
    return result


@st.composite
def deployments(draw: st.DrawFn) -> dict[str, Any]:
    labels = draw(st.dictionaries(label_keys, small_text, max_size=2))
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "x"}},
        "template": {"spec": {"containers": draw(containers())}},
    }
    if draw(st.booleans()):
        spec["replicas"] = draw(st.integers(0, 5))
    if labels:
        spec["template"]["metadata"] = {"labels": labels}
    obj: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": spec,
    }
    if draw(st.booleans()):
        obj["metadata"]["finalizers"] = draw(
            st.lists(st.sampled_from(["x.io/a", "x.io/b"]), unique=True, max_size=2)
        )
    return obj


config_maps = st.builds(
    lambda data: {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data},
    st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), small_text, max_size=4),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | small_text,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["p", "q", "r"]), children, max_size=3)
    ),
    max_leaves=12,
)


def _apply(entries: list[Any], live: Any, config: Any, manager: str, force: bool = False) -> Any:
    return apply_configuration(
        entries,
        live,
        config,
        DEPLOYMENT,
        manager=manager,
        api_version="apps/v1",
        time="t",
        force=force,
    )


@given(deployments())
def test_fields_v1_round_trips(obj: dict[str, Any]) -> None:
    paths = field_set(obj, DEPLOYMENT)
    assert from_fields_v1(to_fields_v1(paths)) == paths


@given(st.dictionaries(st.sampled_from(["spec", "data", "x"]), json_values, max_size=3))
def test_fields_v1_round_trips_without_a_schema(obj: dict[str, Any]) -> None:
    paths = field_set(obj, None)
    assert from_fields_v1(to_fields_v1(paths)) == paths
    for path in paths:
        assert not is_missing(value_at(obj, path)), path


@given(deployments())
def test_every_owned_path_points_into_the_object(obj: dict[str, Any]) -> None:
    for path in field_set(obj, DEPLOYMENT):
        assert not is_missing(value_at(obj, path)), path


@given(deployments())
def test_apply_creates_the_configuration_and_is_idempotent(config: dict[str, Any]) -> None:
    merged, entries = _apply([], None, config, "a")
    for path in leaf_paths(field_set(config, DEPLOYMENT)):
        assert value_at(merged, path) == value_at(config, path)
    again, entries_again = _apply(entries, merged, config, "a")
    assert again == merged
    assert [(e.identity, e.fields) for e in entries_again] == [
        (e.identity, e.fields) for e in entries
    ]
    (entry,) = entries
    assert entry.operation == APPLY
    assert entry.fields == field_set(config, DEPLOYMENT)


@given(config_maps, config_maps)
def test_a_sole_owner_drops_what_it_stops_applying(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    merged, entries = apply_configuration(
        [], None, first, CONFIG_MAP, manager="a", api_version="v1", time="t", force=False
    )
    merged, entries = apply_configuration(
        entries, merged, second, CONFIG_MAP, manager="a", api_version="v1", time="t", force=False
    )
    assert merged.get("data", {}) == second["data"]


@given(config_maps, config_maps)
def test_conflicts_name_the_other_manager_and_force_moves_ownership(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    live, entries = apply_configuration(
        [], None, first, CONFIG_MAP, manager="a", api_version="v1", time="t", force=False
    )
    clashing = {
        key
        for key, value in second["data"].items()
        if key in first["data"] and first["data"][key] != value
    }
    found: set[tuple[str, tuple[str, ...]]] = set()
    try:
        merged, after = apply_configuration(
            entries, live, second, CONFIG_MAP, manager="b", api_version="v1", time="t", force=False
        )
    except ApplyConflictError as exc:
        found = {(manager, path) for manager, _, path in exc.conflicts}
        merged, after = apply_configuration(
            entries, live, second, CONFIG_MAP, manager="b", api_version="v1", time="t", force=True
        )
    assert found == {("a", ("f:data", f"f:{key}")) for key in clashing}
    owners = {entry.manager: entry.fields for entry in after}
    for key in second["data"]:
        assert ("f:data", f"f:{key}") in owners["b"]
    for key in clashing:
        assert ("f:data", f"f:{key}") not in owners.get("a", frozenset())
    assert {**first["data"], **second["data"]} == merged["data"]


@given(deployments(), deployments())
def test_an_update_takes_what_it_changes_from_every_other_manager(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    _, entries = _apply([], None, old, "applier")
    updated = record_update(
        entries, old, new, DEPLOYMENT, manager="editor", api_version="apps/v1", time="t"
    )
    new_paths = field_set(new, DEPLOYMENT)
    old_paths = field_set(old, DEPLOYMENT)
    owners = {entry.manager: entry.fields for entry in updated}
    leaves = leaf_paths(new_paths)
    changed = {
        path
        for path in new_paths
        if path not in old_paths or (path in leaves and value_at(new, path) != value_at(old, path))
    }
    assert changed <= owners.get("editor", frozenset())
    assert not changed & owners.get("applier", frozenset())
    assert not (old_paths - new_paths) & owners.get("applier", frozenset())


@given(deployments())
def test_apply_never_mutates_its_inputs(config: dict[str, Any]) -> None:
    frozen = copy.deepcopy(config)
    merged, entries = _apply([], None, config, "a")
    _apply(entries, merged, config, "b", force=True)
    assert config == frozen
