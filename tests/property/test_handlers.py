"""Properties of the workload handlers over drawn objects of every kind."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer import strategies as k8s
from pytest_syncer.contract.errors import TransformError
from pytest_syncer.contract.objects import KubeObject, SyncTarget, copy_json
from pytest_syncer.syncer.conflict.drift import NOT_OWNED_TOP_LEVEL
from pytest_syncer.syncer.handlers import HANDLERS, KindHandler, handler_for
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.pipeline import downstream_pipeline
from tests.support.objects import syncable_objects

PIPELINE = downstream_pipeline()
_RESOURCES = {handler.kind: handler for handler in HANDLERS}


def handler_of(obj: KubeObject) -> KindHandler:
    found = _RESOURCES.get(obj["kind"])
    if found is not None:
        return found
    return handler_for(obj["apiVersion"].rpartition("/")[0], "things")


def _json() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers(-3, 5) | st.text(max_size=6)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=10,
    )


_STATUS_KEYS = st.sampled_from(
    [
        "observedGeneration",
        "replicas",
        "readyReplicas",
        "updatedReplicas",
        "availableReplicas",
        "desiredNumberScheduled",
        "numberAvailable",
        "conditions",
        "loadBalancer",
        "phase",
    ]
)


@given(syncable_objects(), k8s.sync_targets())
def test_to_downstream_is_the_pipeline_and_leaves_its_input(
    obj: KubeObject, target: SyncTarget
) -> None:
    context = TransformContext(target)
    before = copy_json(obj)
    handler = handler_of(obj)
    try:
        expected = PIPELINE(obj, context)
    except TransformError as error:
        with pytest.raises(TransformError, match=re.escape(str(error))):
            handler.to_downstream(obj, context)
        return
    assert handler.to_downstream(obj, context) == expected
    assert obj == before


@given(syncable_objects(), k8s.sync_targets())
def test_the_spec_of_a_copy_is_exactly_what_drift_compares(
    obj: KubeObject, target: SyncTarget
) -> None:
    try:
        below = PIPELINE(obj, TransformContext(target))
    except TransformError:
        return
    before = copy_json(below)
    spec = handler_of(obj).spec(below)
    assert set(spec) == {key for key in below if key not in NOT_OWNED_TOP_LEVEL}
    assert all(spec[key] == below[key] for key in spec)
    assert below == before


@given(syncable_objects(), st.dictionaries(_STATUS_KEYS, _json(), max_size=5) | _json())
def test_readiness_is_total_over_any_status(obj: KubeObject, status: Any) -> None:
    value = {**obj, "status": status}
    before = copy_json(value)
    assert isinstance(handler_of(obj).is_ready(value), bool)
    assert value == before


@given(k8s.deployments(upstream=False), st.integers(0, 10), st.integers(1, 50))
def test_a_deployment_behind_its_generation_is_never_ready(
    obj: KubeObject, replicas: int, generation: int
) -> None:
    handler = handler_for("apps", "deployments")
    counts = {"replicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas}
    spec = {**obj["spec"], "replicas": replicas}
    metadata = {**obj["metadata"], "generation": generation + 1}
    current = {**obj, "spec": spec, "metadata": metadata}
    behind = {**current, "status": {**counts, "observedGeneration": generation}}
    caught_up = {**current, "status": {**counts, "observedGeneration": generation + 1}}
    assert not handler.is_ready(behind)
    assert handler.is_ready(caught_up)


@given(syncable_objects(), k8s.sync_targets())
def test_status_up_drops_downstream_generations_and_leaves_its_input(
    obj: KubeObject, target: SyncTarget
) -> None:
    status = obj.get("status")
    if not isinstance(status, dict):
        return
    before = copy_json(status)
    try:
        up = handler_of(obj).status_to_upstream(status, TransformContext(target))
    except TransformError:
        return
    assert "observedGeneration" not in up
    assert all(
        "observedGeneration" not in condition
        for condition in up.get("conditions", [])
        if isinstance(condition, dict)
    )
    assert status == before
