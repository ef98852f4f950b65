"""Properties of both pipelines over every object the public strategies draw."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pytest_syncer import strategies as k8s
from pytest_syncer.apiserver.api.kinds import on_write, server_set
from pytest_syncer.contract.errors import (
    InvalidFieldError,
    MissingFieldError,
    TransformError,
)
from pytest_syncer.contract.objects import KubeObject, SyncTarget
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.pipeline import Pipeline, downstream_pipeline, upstream_pipeline
from pytest_syncer.syncer.transform.renames import is_reserved_upstream_name
from tests.property.conftest import large_objects
from tests.support.objects import SERVER_FIELDS

BUILT_IN = (
    k8s.configmaps,
    k8s.secrets,
    k8s.services,
    k8s.deployments,
    k8s.statefulsets,
    k8s.jobs,
    k8s.ingresses,
)
ALL_KINDS = (*BUILT_IN, k8s.custom_resources)
DOWN = downstream_pipeline()
UP = upstream_pipeline()
NOT_IDEMPOTENT = {"rename", "map-namespace"}
"""A renamed name is reserved, and a downstream namespace maps again: one pass only."""

STRIPPED_ANNOTATION_PREFIXES = (
    "experimental.status.workload.kcp.io/",
    "finalizers.workload.kcp.io/",
    "deletion.internal.workload.kcp.io/",
    "workload.kcp.io/",
    "kubernetes.io/service-account.",
)
POD_SPEC_PATHS = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
}


@st.composite
def placed_objects(
    draw: st.DrawFn, kinds: tuple[Callable[..., st.SearchStrategy[KubeObject]], ...] = ALL_KINDS
) -> tuple[KubeObject, SyncTarget]:
    """An object placed (or not) on a drawn target, among placements on other targets."""
    target = draw(k8s.sync_targets())
    placed_on = [target.key] if draw(st.booleans()) else []
    obj = draw(st.sampled_from(kinds).flatmap(lambda kind: kind(placed_on=placed_on)))
    assume(not is_reserved_upstream_name(obj["kind"], obj["metadata"]["name"]))
    return obj, target


def run_checking_each_step(
    pipeline: Pipeline, obj: KubeObject, context: TransformContext
) -> KubeObject:
    """Run the steps one by one, asserting that none touches the object it is given."""
    current = copy.deepcopy(obj)
    for registered in pipeline.steps:
        if registered.applies_to(current["kind"]):
            before = copy.deepcopy(current)
            result = registered.step(current, context)
            assert current == before, f"step {registered.name} mutated its input"
            current = result
    return current


@large_objects
@given(placed_objects())
def test_never_raises_never_mutates_and_is_deterministic(
    drawn: tuple[KubeObject, SyncTarget],
) -> None:
    obj, target = drawn
    context = TransformContext(target)
    original = copy.deepcopy(obj)
    result = DOWN(obj, context)
    assert obj == original
    assert run_checking_each_step(DOWN, obj, context) == result
    assert downstream_pipeline()(copy.deepcopy(obj), TransformContext(copy.copy(target))) == result


@large_objects
@given(placed_objects())
def test_the_upstream_pipeline_is_pure_and_deterministic_too(
    drawn: tuple[KubeObject, SyncTarget],
) -> None:
    obj, target = drawn
    context = TransformContext(target)
    below = DOWN(obj, context)
    below["status"] = {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]}
    context = context.with_locators([context.locator(obj["metadata"]["namespace"])])
    original = copy.deepcopy(below)
    result = UP(below, context)
    assert below == original
    assert run_checking_each_step(UP, below, context) == result
    assert upstream_pipeline()(copy.deepcopy(below), context) == result


@large_objects
@given(placed_objects())
def test_nothing_upstream_only_survives(drawn: tuple[KubeObject, SyncTarget]) -> None:
    obj, target = drawn
    result = DOWN(obj, TransformContext(target))
    metadata = result["metadata"]
    labels = metadata.get("labels", {})
    annotations = metadata.get("annotations", {})
    assert not [key for key in labels if key.startswith("state.workload.kcp.io/")]
    assert labels["internal.workload.kcp.io/cluster"] == target.key
    assert "kcp.io/cluster" not in annotations
    assert not [key for key in annotations if key.startswith(STRIPPED_ANNOTATION_PREFIXES)]
    assert not SERVER_FIELDS & set(metadata)
    assert "status" not in result
    assert metadata["namespace"].startswith("kcp-")
    kind, spec = result["kind"], result.get("spec", {})
    if kind in POD_SPEC_PATHS:
        pod_spec = result
        for key in POD_SPEC_PATHS[kind]:
            pod_spec = pod_spec[key]
        assert pod_spec["automountServiceAccountToken"] is False
        assert "serviceAccountName" not in pod_spec
    if kind == "Service":
        assert spec.get("clusterIP", "None") == "None"
        assert "healthCheckNodePort" not in spec
        assert not [port for port in spec["ports"] if "nodePort" in port]
    if kind == "Secret" and obj.get("type") == "kubernetes.io/service-account-token":
        assert result["type"] == "Opaque"
    if kind == "Job":
        assert "selector" not in spec
        assert "batch.kubernetes.io/controller-uid" not in spec["template"]["metadata"]["labels"]
        assert "batch.kubernetes.io/controller-uid" not in metadata.get("labels", {})


@large_objects
@given(drawn=placed_objects(BUILT_IN))
def test_transformed_built_in_objects_still_validate(
    drawn: tuple[KubeObject, SyncTarget], k8s_validate: Callable[[dict[str, Any]], None]
) -> None:
    obj, target = drawn
    k8s_validate(DOWN(obj, TransformContext(target)))


@large_objects
@given(placed_objects())
def test_every_step_but_renames_and_namespace_mapping_is_idempotent(
    drawn: tuple[KubeObject, SyncTarget],
) -> None:
    obj, target = drawn
    context = TransformContext(target)
    current = obj
    for registered in DOWN.steps:
        if not registered.applies_to(current["kind"]):
            continue
        once = registered.step(current, context)
        if registered.name not in NOT_IDEMPOTENT:
            assert registered.step(once, context) == once, registered.name
        current = once


def _set(path: tuple[str, ...], value: Any) -> Callable[[KubeObject], None]:
    def corrupt(obj: KubeObject) -> None:
        parent = obj
        for key in path[:-1]:
            parent = parent.setdefault(key, {})
        parent[path[-1]] = value

    return corrupt


def _delete(path: tuple[str, ...]) -> Callable[[KubeObject], None]:
    def corrupt(obj: KubeObject) -> None:
        parent = obj
        for key in path[:-1]:
            parent = parent[key]
        parent.pop(path[-1], None)

    return corrupt


CORRUPTIONS: list[tuple[Callable[[KubeObject], None], type[TransformError], str]] = [
    (_delete(("apiVersion",)), MissingFieldError, "apiVersion"),
    (_set(("kind",), 7), InvalidFieldError, "kind"),
    (_delete(("metadata",)), MissingFieldError, "metadata"),
    (_set(("metadata",), "web"), InvalidFieldError, "metadata"),
    (_delete(("metadata", "name")), MissingFieldError, "metadata.name"),
    (_set(("metadata", "name"), ""), MissingFieldError, "metadata.name"),
    (_set(("metadata", "name"), ["web"]), InvalidFieldError, "metadata.name"),
    (_delete(("metadata", "namespace")), MissingFieldError, "metadata.namespace"),
    (_set(("metadata", "labels"), ["a"]), InvalidFieldError, "metadata.labels"),
    (_set(("metadata", "labels"), {"app": 1}), InvalidFieldError, "metadata.labels[app]"),
    (
        _set(("metadata", "annotations"), {"note": None}),
        InvalidFieldError,
        "metadata.annotations[note]",
    ),
    (_set(("spec",), ["web"]), InvalidFieldError, "spec"),
    (_set(("status",), "Ready"), InvalidFieldError, "status"),
]
KIND_CORRUPTIONS: list[
    tuple[Callable[..., st.SearchStrategy[KubeObject]], Callable[[KubeObject], None], str]
] = [
    (k8s.deployments, _set(("spec", "template", "spec"), []), "spec.template.spec"),
    (k8s.deployments, _set(("spec", "template"), "web"), "spec.template"),
    (k8s.jobs, _set(("spec", "template", "spec"), 1), "spec.template.spec"),
    (k8s.services, _set(("spec", "ports"), {"port": 80}), "spec.ports"),
    (k8s.services, _set(("spec", "ports"), [80]), "spec.ports[0]"),
]


@large_objects
@given(placed_objects(), st.sampled_from(CORRUPTIONS))
def test_an_invalid_object_raises_a_typed_error_naming_the_field(
    drawn: tuple[KubeObject, SyncTarget],
    corruption: tuple[Callable[[KubeObject], None], type[TransformError], str],
) -> None:
    obj, target = drawn
    corrupt, error, field = corruption
    corrupt(obj)
    with pytest.raises(error) as raised:
        DOWN(obj, TransformContext(target))
    assert raised.value.field == field


@large_objects
@given(
    st.sampled_from(KIND_CORRUPTIONS).flatmap(lambda case: st.tuples(case[0](), st.just(case[1:]))),
    k8s.sync_targets(),
)
def test_a_kind_specific_invalid_field_is_named(
    drawn: tuple[KubeObject, tuple[Callable[[KubeObject], None], str]], target: SyncTarget
) -> None:
    obj, (corrupt, field) = drawn
    corrupt(obj)
    with pytest.raises(InvalidFieldError) as raised:
        DOWN(obj, TransformContext(target))
    assert raised.value.field == field


@large_objects
@given(placed_objects((k8s.services, k8s.jobs)))
def test_what_the_server_fills_in_is_never_sent_down(drawn: tuple[KubeObject, SyncTarget]) -> None:
    """Checked against the server's own rules (``apiserver/kinds/server_set.py``): the copy,
    created on a target whose server already holds the upstream's addresses and node ports,
    asks for none of them, and a copied Job carries no selector or label generated for the
    upstream's uid, which the target's server refuses for a Job of its own uid."""
    obj, target = drawn
    below = DOWN(obj, TransformContext(target))
    kind = below["kind"]
    created = on_write("batch" if kind == "Job" else "", kind, below)
    created["metadata"] = {**created["metadata"], "uid": "uid-of-the-copy-below"}
    if kind == "Service":
        _, refused = server_set.allocate_service(created, *server_set.used_addresses([obj]))
    else:
        _, refused = server_set.job_selector(created)
    assert refused == []
