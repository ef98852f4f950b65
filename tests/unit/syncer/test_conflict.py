"""Examples of every strategy's decision, and of the drift rules they share."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_syncer.contract.naming import CLUSTER_LABEL
from pytest_syncer.contract.objects import KubeObject, SyncTarget, copy_json
from pytest_syncer.syncer.conflict import (
    InvalidRetainFieldsError,
    drifted_fields,
    resolver_for,
)
from pytest_syncer.syncer.interfaces import ConflictAction, ConflictStrategy, TransformContext
from pytest_syncer.syncer.transform.pipeline import downstream_pipeline

TARGET = SyncTarget("us-east1", "root:org:ws", "8c2a0a4e-7f2f-4d7b-9d8f-1f5b3f2a9c10")
CONTEXT = TransformContext(TARGET)
OTHER_KEY = SyncTarget("eu-west1", "root:org:ws", "u").key


def upstream_deployment(replicas: int = 3, image: str = "nginx:1.27") -> KubeObject:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "up-uid",
            "resourceVersion": "41",
            "labels": {"app": "web", f"state.workload.kcp.io/{TARGET.key}": "Sync"},
            "annotations": {"team": "a"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


DESIRED = downstream_pipeline()(upstream_deployment(), CONTEXT)


def stored(obj: KubeObject, **spec_changes: Any) -> KubeObject:
    """`obj` as a real API server stores it: server metadata, defaults, status, then edits."""
    copy: KubeObject = copy_json(obj)
    result: KubeObject = {
        **copy,
        "metadata": {
            **copy["metadata"],
            "uid": "down-uid",
            "resourceVersion": "900",
            "generation": 1,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "managedFields": [{"manager": "syncer"}],
        },
        "spec": {
            **copy["spec"],
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            **spec_changes,
        },
        "status": {"replicas": 3, "availableReplicas": 3},
    }
    containers = result["spec"]["template"]["spec"]["containers"]
    result["spec"]["template"]["spec"]["containers"] = [
        {**container, "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/x"}
        for container in containers
    ]
    return result


def resolve(strategy: str, existing: KubeObject | None, retain: tuple[str, ...] = ()) -> Any:
    return resolver_for(ConflictStrategy(strategy), retain).resolve(DESIRED, existing, CONTEXT)


@pytest.mark.parametrize("strategy", [strategy.value for strategy in ConflictStrategy])
def test_a_missing_copy_is_created_under_every_strategy(strategy: str) -> None:
    decision = resolve(strategy, None)
    assert decision.action is ConflictAction.WRITE
    assert decision.obj == DESIRED
    assert decision.obj is not DESIRED
    assert strategy in decision.reason


@pytest.mark.parametrize("strategy", [strategy.value for strategy in ConflictStrategy])
def test_server_defaults_allocations_and_status_are_not_drift(strategy: str) -> None:
    decision = resolve(strategy, stored(DESIRED))
    assert decision.action is ConflictAction.KEEP
    assert decision.reason.startswith(f"{strategy}: no drift")


def test_upstream_wins_reverts_an_edit_with_a_conditional_write() -> None:
    decision = resolve("upstream-wins", stored(DESIRED, replicas=7))
    assert decision.action is ConflictAction.WRITE
    assert decision.obj["spec"]["replicas"] == 3
    assert decision.obj["metadata"]["resourceVersion"] == "900"
    assert decision.reason == "upstream-wins: reverted drift below in spec.replicas"


def test_drift_names_nested_list_fields_and_labels_with_dots() -> None:
    existing = stored(DESIRED)
    existing["spec"]["template"]["spec"]["containers"][0]["image"] = "evil:latest"
    existing["metadata"]["labels"] = {CLUSTER_LABEL: TARGET.key}
    assert drifted_fields(DESIRED, existing) == (
        "metadata.labels.app",
        "spec.template.spec.containers[0].image",
    )
    existing["metadata"]["annotations"] = {}
    existing["metadata"]["labels"]["app"] = "web"
    desired = {**DESIRED, "metadata": {**DESIRED["metadata"], "annotations": {"a.io/x": "1"}}}
    assert drifted_fields(desired, existing) == (
        "metadata.annotations[a.io/x]",
        "spec.template.spec.containers[0].image",
    )


def test_extra_labels_and_fields_below_are_not_drift_but_a_removed_field_is() -> None:
    existing = stored(DESIRED, paused=True)
    existing["metadata"]["labels"] = {**existing["metadata"]["labels"], "added-by": "tool"}
    assert drifted_fields(DESIRED, existing) == ()
    del existing["spec"]["selector"]
    assert drifted_fields(DESIRED, existing) == ("spec.selector.matchLabels.app",)


def test_empty_values_equal_absent_ones_but_true_is_not_one() -> None:
    desired = {**DESIRED, "spec": {**DESIRED["spec"], "paused": False, "minReadySeconds": 0}}
    desired["metadata"] = {**desired["metadata"], "annotations": {}}
    assert drifted_fields(desired, stored(DESIRED)) == ()
    assert drifted_fields(
        {**DESIRED, "spec": {**DESIRED["spec"], "paused": True}},
        stored(DESIRED, paused=1),
    ) == ("spec.paused",)
    assert drifted_fields(DESIRED, stored(DESIRED, replicas=3.0)) == ()


def test_retain_keeps_the_downstream_replicas_and_reverts_the_rest() -> None:
    existing = stored(DESIRED, replicas=9)
    existing["spec"]["template"]["spec"]["containers"][0]["image"] = "other"
    decision = resolve("retain", existing, ("spec.replicas",))
    assert decision.action is ConflictAction.WRITE
    assert decision.obj["spec"]["replicas"] == 9
    assert decision.obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert decision.reason == (
        "retain: reverted drift below in spec.template.spec.containers[0].image; "
        "kept the downstream's spec.replicas"
    )


def test_retain_with_only_retained_drift_keeps_the_object() -> None:
    decision = resolve("retain", stored(DESIRED, replicas=9), ("spec.replicas",))
    assert decision.action is ConflictAction.KEEP
    assert decision.reason == "retain: no drift; kept the downstream's spec.replicas"


def test_retain_writes_the_upstream_value_where_the_downstream_has_none() -> None:
    existing = stored(DESIRED)
    existing["spec"]["template"]["spec"]["containers"][0]["image"] = "other"
    decision = resolve("retain", existing, ("spec.template.metadata.annotations",))
    assert decision.action is ConflictAction.WRITE
    assert "annotations" not in decision.obj["spec"]["template"]["metadata"]
    assert (
        decision.reason == "retain: reverted drift below in spec.template.spec.containers[0].image"
    )


def test_retain_keeps_a_downstream_annotation_named_in_brackets() -> None:
    desired = {**DESIRED, "metadata": {**DESIRED["metadata"], "annotations": {"a.io/team": "a"}}}
    existing = stored(desired)
    existing["metadata"]["annotations"] = {"a.io/team": "b"}
    resolver = resolver_for(ConflictStrategy.RETAIN, ("metadata.annotations[a.io/team]",))
    decision = resolver.resolve(desired, existing, CONTEXT)
    assert decision.action is ConflictAction.KEEP
    assert (
        decision.reason == "retain: no drift; kept the downstream's metadata.annotations[a.io/team]"
    )
    assert resolver_for(ConflictStrategy.UPSTREAM_WINS).resolve(
        desired, existing, CONTEXT
    ).reason == ("upstream-wins: reverted drift below in metadata.annotations[a.io/team]")


def test_retain_paths_must_be_retainable() -> None:
    for path in ("metadata.name", "kind", "status.replicas", f"metadata.labels[{CLUSTER_LABEL}]"):
        with pytest.raises(InvalidRetainFieldsError):
            resolver_for(ConflictStrategy.RETAIN, (path,))
    assert resolver_for(ConflictStrategy.ABORT, ("kind",)).retain_fields == ()


def test_abort_refuses_drift_and_names_the_fields() -> None:
    decision = resolve("abort", stored(DESIRED, replicas=1, minReadySeconds=5))
    assert decision.action is ConflictAction.REFUSE
    assert decision.obj is None
    assert decision.reason == "abort: the copy below differs in spec.replicas; left as it is"


@pytest.mark.parametrize("strategy", ["upstream-wins", "retain", "abort"])
@pytest.mark.parametrize("marker", [None, OTHER_KEY])
def test_a_foreign_object_is_refused_unless_overwrite(strategy: str, marker: str | None) -> None:
    existing = stored(DESIRED, replicas=1)
    labels = {"app": "web"} if marker is None else {"app": "web", CLUSTER_LABEL: marker}
    existing["metadata"]["labels"] = labels
    decision = resolve(strategy, existing, ("spec.replicas",))
    assert decision.action is ConflictAction.REFUSE
    assert decision.reason.startswith(f"{strategy}: a foreign object (")
    assert "no marker label" in decision.reason if marker is None else OTHER_KEY in decision.reason
    assert "spec.replicas" in decision.reason


def test_overwrite_takes_a_foreign_object_over_conditionally() -> None:
    existing = stored(DESIRED, replicas=1)
    del existing["metadata"]["labels"][CLUSTER_LABEL]
    decision = resolve("overwrite", existing)
    assert decision.action is ConflictAction.WRITE
    assert decision.obj["metadata"]["labels"][CLUSTER_LABEL] == TARGET.key
    assert decision.obj["spec"]["replicas"] == 3
    assert decision.obj["metadata"]["resourceVersion"] == "900"
    assert decision.reason.startswith("overwrite: took over a foreign object (no marker label)")
    assert f"metadata.labels[{CLUSTER_LABEL}]" in decision.reason


def test_a_copy_being_deleted_is_left_to_go() -> None:
    existing = stored(DESIRED, replicas=1)
    existing["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    decision = resolve("upstream-wins", existing)
    assert decision.action is ConflictAction.KEEP
    assert "being deleted" in decision.reason


def test_a_long_drift_list_is_counted_not_spelled_out() -> None:
    data = {f"k{index:02}": "v" for index in range(12)}
    desired = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "n", "labels": {CLUSTER_LABEL: TARGET.key}},
        "data": data,
    }
    existing = {**desired, "data": {}}
    decision = resolver_for(ConflictStrategy.ABORT).resolve(desired, existing, CONTEXT)
    assert decision.reason == (
        "abort: the copy below differs in data.k00, data.k01, data.k02, data.k03, data.k04, "
        "data.k05, data.k06, data.k07 and 4 more; left as it is"
    )
