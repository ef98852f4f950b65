"""The object rules: server-owned fields, the status split, generation, no-op writes."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.kinds.defaults import apply_defaults
from pytest_syncer.apiserver.api.objects import (
    CLUSTER_ANNOTATION,
    NAME_SUFFIX_ALPHABET,
    generate_name,
    is_releasable,
    mark_deleting,
    prepare_create,
    prepare_status_update,
    prepare_update,
    unchanged,
)
from pytest_syncer.apiserver.api.resources import ResourceRegistry

REGISTRY = ResourceRegistry.builtin()
DEPLOYMENTS = REGISTRY.require("apps", "v1", "deployments")
CONFIGMAPS = REGISTRY.require("", "v1", "configmaps")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
specs = st.dictionaries(st.sampled_from(["replicas", "paused", "template"]), json_values)


def _stored(spec: dict[str, Any], status: Any = None) -> dict[str, Any]:
    body = {"metadata": {"name": "web", "uid": "client-sent"}, "spec": spec, "status": status}
    created = prepare_create(DEPLOYMENTS, body, cluster="c", namespace="ns")
    created["metadata"]["resourceVersion"] = "5"
    if status is not None:
        created["status"] = status
    return created


def test_create_sets_server_fields_and_drops_status() -> None:
    created = prepare_create(
        DEPLOYMENTS,
        {"metadata": {"name": "web", "uid": "mine", "resourceVersion": "9"}, "status": {"a": 1}},
        cluster="root:ws",
        namespace="ns",
    )
    metadata = created["metadata"]
    assert metadata["uid"] != "mine"
    assert "resourceVersion" not in metadata
    assert metadata["generation"] == 1
    assert metadata["namespace"] == "ns"
    assert metadata["annotations"] == {CLUSTER_ANNOTATION: "root:ws"}
    assert (created["kind"], created["apiVersion"]) == ("Deployment", "apps/v1")
    assert "status" not in created
    configmap = prepare_create(
        CONFIGMAPS, {"metadata": {"name": "c"}, "status": 1}, cluster="c", namespace="n"
    )
    assert configmap["status"] == 1


@given(specs, specs, json_values, json_values)
def test_update_keeps_status_and_bumps_generation_only_on_spec_change(
    old_spec: dict[str, Any], new_spec: dict[str, Any], old_status: Any, new_status: Any
) -> None:
    old = apply_defaults("apps", "Deployment", _stored(old_spec, {"s": old_status}))
    frozen = copy.deepcopy(old)
    new = {
        "metadata": {"name": "web", "labels": {"a": "b"}},
        "spec": new_spec,
        "status": new_status,
    }
    updated = prepare_update(DEPLOYMENTS, new, old)
    assert old == frozen, "the stored object is never mutated"
    assert updated["status"] == old["status"]
    assert updated["metadata"]["uid"] == old["metadata"]["uid"]
    assert updated["metadata"]["annotations"][CLUSTER_ANNOTATION] == "c"
    bumped = updated["metadata"]["generation"] - old["metadata"]["generation"]
    same = apply_defaults("apps", "Deployment", {"spec": new_spec})["spec"] == old["spec"]
    assert bumped == (0 if same else 1)


@given(specs, json_values)
def test_status_update_changes_only_status(spec: dict[str, Any], status: Any) -> None:
    old = _stored({"replicas": 1}, {"ready": 0})
    frozen = copy.deepcopy(old)
    updated = prepare_status_update(
        {"metadata": {"labels": {"x": "y"}}, "spec": spec, "status": status}, old
    )
    assert old == frozen
    assert updated["status"] == status
    assert {k: v for k, v in updated.items() if k != "status"} == {
        k: v for k, v in old.items() if k != "status"
    }


@given(specs)
def test_an_identical_write_is_unchanged(spec: dict[str, Any]) -> None:
    old = _stored(spec)
    rewritten = prepare_update(DEPLOYMENTS, copy.deepcopy(old), old)
    rewritten["metadata"]["resourceVersion"] = "6"
    assert unchanged(rewritten, old)
    rewritten["metadata"]["labels"] = {"new": "label"}
    assert not unchanged(rewritten, old)


def test_deletion_with_finalizers() -> None:
    old = _stored({})
    old["metadata"]["finalizers"] = ["f"]
    deleting = mark_deleting(old)
    assert "deletionTimestamp" not in old["metadata"]
    assert deleting["metadata"]["deletionTimestamp"]
    assert not is_releasable(deleting)
    released = prepare_update(
        DEPLOYMENTS, {**deleting, "metadata": {**deleting["metadata"], "finalizers": []}}, deleting
    )
    assert released["metadata"]["deletionTimestamp"] == deleting["metadata"]["deletionTimestamp"]
    assert is_releasable(released)


@given(st.from_regex(r"[a-z]{1,10}-", fullmatch=True))
def test_generated_names_follow_the_prefix(prefix: str) -> None:
    name = generate_name(prefix)
    assert name.startswith(prefix)
    assert len(name) == len(prefix) + 5
    assert set(name[len(prefix) :]) <= set(NAME_SUFFIX_ALPHABET)
