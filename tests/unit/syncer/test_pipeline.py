"""Example tests for the step registry a branch author extends."""

from __future__ import annotations

import pytest

from pytest_syncer.contract.objects import KubeObject, SyncTarget
from pytest_syncer.syncer.interfaces import TransformContext, TransformStep
from pytest_syncer.syncer.transform.pipeline import Pipeline, downstream_pipeline, upstream_pipeline

CONTEXT = TransformContext(SyncTarget("us-east1", "root:org:ws", "uid-t"))


def configmap(**metadata: object) -> KubeObject:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default", **metadata},
        "data": {"a": "1"},
    }


def tag(value: str) -> TransformStep:
    def step(obj: KubeObject, context: TransformContext) -> KubeObject:
        labels = {
            **obj["metadata"].get("labels", {}),
            "trail": obj["metadata"].get("labels", {}).get("trail", "") + value,
        }
        return {**obj, "metadata": {**obj["metadata"], "labels": labels}}

    return step


def test_builtin_downstream_steps_run_in_documented_order() -> None:
    assert downstream_pipeline().names == (
        "validate",
        "strip-upstream-labels",
        "strip-upstream-annotations",
        "strip-server-metadata",
        "drop-status",
        "convert-token-secret",
        "rename",
        "map-namespace",
        "add-cluster-label",
        "detach-service-account",
        "drop-generated-job-selector",
        "drop-allocated-service-fields",
    )
    assert upstream_pipeline().names == (
        "validate",
        "map-namespace",
        "rename",
        "strip-cluster-label",
        "strip-server-metadata",
        "status",
    )


def test_register_before_after_and_at_the_end() -> None:
    pipeline = Pipeline()
    pipeline.register("b", tag("b"))
    pipeline.register("a", tag("a"), before="b")
    pipeline.register("c", tag("c"), after="b")
    pipeline.register("d", tag("d"))
    assert pipeline.names == ("a", "b", "c", "d")
    assert pipeline(configmap(), CONTEXT)["metadata"]["labels"]["trail"] == "abcd"


def test_kind_limited_step_skips_other_kinds() -> None:
    pipeline = Pipeline()
    pipeline.register("only-secrets", tag("s"), kinds=["Secret"])
    assert "labels" not in pipeline(configmap(), CONTEXT)["metadata"]


def test_step_decorator_registers_and_returns_the_function() -> None:
    pipeline = downstream_pipeline()
    trail = tag("x")

    @pipeline.step("team-label", after="add-cluster-label", kinds={"ConfigMap"})
    def team_label(obj: KubeObject, context: TransformContext) -> KubeObject:
        return trail(obj, context)

    assert pipeline.names.index("team-label") == pipeline.names.index("add-cluster-label") + 1
    assert pipeline(configmap(), CONTEXT)["metadata"]["labels"]["trail"] == "x"
    assert team_label(configmap(), CONTEXT)["metadata"]["labels"]["trail"] == "x"


def test_each_call_returns_a_fresh_registry() -> None:
    mine = downstream_pipeline()
    mine.register("mine", tag("m"))
    mine.remove("validate")
    assert "mine" not in downstream_pipeline().names
    assert "validate" in downstream_pipeline().names
    copied = mine.copy()
    copied.remove("mine")
    assert "mine" in mine.names


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"before": "nope"}, "no step named 'nope'"),
        ({"after": "nope"}, "no step named 'nope'"),
        ({"before": "validate", "after": "rename"}, "not both"),
    ],
)
def test_register_refuses_bad_anchors(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        downstream_pipeline().register("new", tag("n"), **kwargs)


def test_register_refuses_a_duplicate_name() -> None:
    with pytest.raises(ValueError, match="already registered"):
        downstream_pipeline().register("rename", tag("n"))


def test_result_shares_nothing_with_the_input() -> None:
    source = configmap(labels={"app": "web"})
    result = downstream_pipeline()(source, CONTEXT)
    result["data"]["a"] = "changed"
    result["metadata"]["labels"]["app"] = "changed"
    assert source == configmap(labels={"app": "web"})
