"""Examples for each handler: lookup, spec, status up, and the readiness rule of each kind."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_syncer.contract.errors import InvalidFieldError
from pytest_syncer.contract.objects import KubeObject, NamespaceLocator, SyncTarget
from pytest_syncer.contract.resources import DEFAULT_RESOURCES
from pytest_syncer.syncer.engine.settings import KNOWN_RESOURCES
from pytest_syncer.syncer.handlers import HANDLERS, KindHandler, handler_for
from pytest_syncer.syncer.interfaces import TransformContext, WorkloadHandler
from pytest_syncer.syncer.transform.pipeline import Pipeline, downstream_pipeline

TARGET = SyncTarget("us-east1", "root:org:ws", "8c2a0a4e-7f2f-4d7b-9d8f-1f5b3f2a9c10")
CONTEXT = TransformContext(TARGET)

BUILT_IN = [
    ("apps", "deployments", "Deployment"),
    ("apps", "statefulsets", "StatefulSet"),
    ("apps", "daemonsets", "DaemonSet"),
    ("apps", "replicasets", "ReplicaSet"),
    ("batch", "jobs", "Job"),
    ("batch", "cronjobs", "CronJob"),
    ("", "services", "Service"),
    ("", "configmaps", "ConfigMap"),
    ("", "secrets", "Secret"),
    ("networking.k8s.io", "ingresses", "Ingress"),
    ("", "persistentvolumeclaims", "PersistentVolumeClaim"),
]


def test_every_built_in_kind_has_its_handler_and_they_meet_the_protocol() -> None:
    assert [(h.group, h.resource, h.kind) for h in HANDLERS] == BUILT_IN
    for group, resource, kind in BUILT_IN:
        handler: WorkloadHandler = handler_for(group, resource)
        assert handler.kind == kind
        assert handler.api_version.endswith("v1")
    assert handler_for("core", "services") is handler_for("", "services")


def test_anything_else_gets_the_generic_handler() -> None:
    handler = handler_for("example.com", "widgets", version="v1alpha1", kind="Widget")
    assert (handler.api_version, handler.kind, handler.resource) == (
        "example.com/v1alpha1",
        "Widget",
        "widgets",
    )
    assert handler.spec_fields is None
    pods = handler_for("", "pods")
    assert (pods.api_version, pods.kind, pods.resource) == ("", "", "pods")


def obj(api_version: str, kind: str, **fields: Any) -> KubeObject:
    metadata = {"name": "x", "namespace": "default", "generation": 2, "uid": "u"}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


def test_to_downstream_is_the_transform_pipeline_and_checks_the_kind() -> None:
    source = obj("apps/v1", "Deployment", spec={"replicas": 1}, status={"replicas": 1})
    handler = handler_for("apps", "deployments")
    assert handler.to_downstream(source, CONTEXT) == downstream_pipeline()(source, CONTEXT)
    with pytest.raises(InvalidFieldError, match="the Deployment handler got a 'Job' object"):
        handler.to_downstream(obj("batch/v1", "Job", spec={}), CONTEXT)
    anything = handler_for("example.com", "widgets")
    assert anything.to_downstream(obj("example.com/v1", "Gadget"), CONTEXT)["kind"] == "Gadget"


def test_a_handler_can_carry_a_pipeline_with_extra_steps() -> None:
    pipeline: Pipeline = downstream_pipeline()

    @pipeline.step("stamp")
    def stamp(value: KubeObject, context: TransformContext) -> KubeObject:
        return {**value, "metadata": {**value["metadata"], "annotations": {"stamped": "yes"}}}

    handler = handler_for("", "configmaps").with_pipeline(pipeline)
    below = handler.to_downstream(obj("v1", "ConfigMap", data={"a": "b"}), CONTEXT)
    assert below["metadata"]["annotations"] == {"stamped": "yes"}
    assert handler == handler_for("", "configmaps")


def test_spec_is_what_each_kind_owns() -> None:
    deployment = obj("apps/v1", "Deployment", spec={"replicas": 2}, status={"replicas": 1})
    assert handler_for("apps", "deployments").spec(deployment) == {"spec": {"replicas": 2}}
    configmap = obj("v1", "ConfigMap", data={"a": "b"}, immutable=True)
    assert handler_for("", "configmaps").spec(configmap) == {"data": {"a": "b"}, "immutable": True}
    secret = obj("v1", "Secret", data={"a": "Yg=="}, type="Opaque", stringData={"x": "y"})
    assert handler_for("", "secrets").spec(secret) == {"data": {"a": "Yg=="}, "type": "Opaque"}
    widget = obj("example.com/v1", "Widget", spec={"size": 3}, extra=[1], status={"ok": True})
    spec = handler_for("example.com", "widgets").spec(widget)
    assert spec == {"spec": {"size": 3}, "extra": [1]}
    spec["spec"]["size"] = 4
    assert widget["spec"] == {"size": 3}


def test_status_goes_up_through_the_reverse_transform() -> None:
    locator = NamespaceLocator(TARGET, TARGET.upstream_cluster, "shop")
    context = CONTEXT.with_locators([locator])
    below = locator.downstream_namespace
    status = {
        "observedGeneration": 4,
        "replicas": 2,
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "message": f"in {below}",
                "observedGeneration": 4,
            }
        ],
    }
    up = handler_for("apps", "deployments").status_to_upstream(status, context)
    assert up == {
        "replicas": 2,
        "conditions": [{"type": "Available", "status": "True", "message": "in shop"}],
    }
    assert status["observedGeneration"] == 4
    job = handler_for("batch", "jobs").status_to_upstream({"uncountedTerminatedPods": {}}, context)
    assert job == {}


def with_status(
    api_version: str, kind: str, status: dict[str, Any] | None, **spec: Any
) -> KubeObject:
    fields: dict[str, Any] = {"spec": spec}
    if status is not None:
        fields["status"] = status
    return obj(api_version, kind, **fields)


def deployment(status: dict[str, Any] | None, **spec: Any) -> KubeObject:
    return with_status("apps/v1", "Deployment", status, **spec)


ROLLED_OUT = {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}

READINESS: list[tuple[str, KubeObject, bool]] = [
    ("deployment rolled out", deployment(ROLLED_OUT, replicas=3), True),
    ("deployment of zero", deployment({"observedGeneration": 2}, replicas=0), True),
    ("deployment, default one replica", deployment({**ROLLED_OUT, "replicas": 1}), True),
    ("deployment without status", deployment(None, replicas=3), False),
    ("deployment, old generation", deployment({**ROLLED_OUT, "observedGeneration": 1}), False),
    (
        "deployment, one unavailable",
        deployment({**ROLLED_OUT, "availableReplicas": 2}, replicas=3),
        False,
    ),
    ("deployment, old pod left", deployment({**ROLLED_OUT, "replicas": 4}, replicas=3), False),
    ("deployment, not updated", deployment({**ROLLED_OUT, "updatedReplicas": 2}), False),
    (
        "deployment past its deadline",
        deployment(
            {
                **ROLLED_OUT,
                "conditions": [
                    {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
                ],
            },
            replicas=3,
        ),
        False,
    ),
    (
        "statefulset ready",
        with_status(
            "apps/v1",
            "StatefulSet",
            {"observedGeneration": 2, "readyReplicas": 2, "updatedReplicas": 2},
            replicas=2,
        ),
        True,
    ),
    (
        "statefulset above its partition updated",
        with_status(
            "apps/v1",
            "StatefulSet",
            {"observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 1},
            replicas=3,
            updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
        ),
        True,
    ),
    (
        "statefulset not updated",
        with_status(
            "apps/v1",
            "StatefulSet",
            {"observedGeneration": 2, "readyReplicas": 3, "updatedReplicas": 1},
            replicas=3,
        ),
        False,
    ),
    (
        "statefulset on delete",
        with_status(
            "apps/v1",
            "StatefulSet",
            {"observedGeneration": 2, "readyReplicas": 3},
            replicas=3,
            updateStrategy={"type": "OnDelete"},
        ),
        True,
    ),
    (
        "statefulset, default one replica",
        with_status(
            "apps/v1",
            "StatefulSet",
            {"observedGeneration": 2, "readyReplicas": 1, "updatedReplicas": 1},
        ),
        True,
    ),
    (
        "statefulset short of ready",
        with_status("apps/v1", "StatefulSet", {"observedGeneration": 2}, replicas=2),
        False,
    ),
    (
        "daemonset everywhere",
        with_status(
            "apps/v1",
            "DaemonSet",
            {
                "observedGeneration": 2,
                "desiredNumberScheduled": 2,
                "updatedNumberScheduled": 2,
                "numberAvailable": 2,
            },
        ),
        True,
    ),
    (
        "daemonset on no node",
        with_status("apps/v1", "DaemonSet", {"observedGeneration": 2}),
        True,
    ),
    (
        "daemonset one unavailable",
        with_status(
            "apps/v1",
            "DaemonSet",
            {
                "observedGeneration": 2,
                "desiredNumberScheduled": 2,
                "updatedNumberScheduled": 2,
                "numberAvailable": 1,
            },
        ),
        False,
    ),
    (
        "replicaset full",
        with_status(
            "apps/v1",
            "ReplicaSet",
            {"observedGeneration": 2, "replicas": 2, "availableReplicas": 2},
            replicas=2,
        ),
        True,
    ),
    (
        "replicaset with a surplus pod",
        with_status(
            "apps/v1",
            "ReplicaSet",
            {"observedGeneration": 2, "replicas": 3, "availableReplicas": 3},
            replicas=2,
        ),
        False,
    ),
    (
        "job complete",
        with_status("batch/v1", "Job", {"conditions": [{"type": "Complete", "status": "True"}]}),
        True,
    ),
    (
        "job failed",
        with_status("batch/v1", "Job", {"conditions": [{"type": "Failed", "status": "True"}]}),
        False,
    ),
    ("job running", with_status("batch/v1", "Job", {"active": 1}), False),
    ("service", with_status("v1", "Service", None, ports=[{"port": 80}]), True),
    (
        "load balancer waiting",
        with_status("v1", "Service", {"loadBalancer": {}}, type="LoadBalancer"),
        False,
    ),
    (
        "load balancer with an address",
        with_status(
            "v1",
            "Service",
            {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}},
            type="LoadBalancer",
        ),
        True,
    ),
    ("configmap", obj("v1", "ConfigMap", data={}), True),
    ("secret", obj("v1", "Secret", type="Opaque"), True),
    ("ingress without an address", with_status("networking.k8s.io/v1", "Ingress", None), False),
    (
        "ingress with an address",
        with_status(
            "networking.k8s.io/v1", "Ingress", {"loadBalancer": {"ingress": [{"hostname": "a"}]}}
        ),
        True,
    ),
    ("claim pending", with_status("v1", "PersistentVolumeClaim", {"phase": "Pending"}), False),
    ("claim bound", with_status("v1", "PersistentVolumeClaim", {"phase": "Bound"}), True),
    ("widget without status", obj("example.com/v1", "Widget"), True),
    (
        "widget ready false",
        with_status(
            "example.com/v1", "Widget", {"conditions": [{"type": "Ready", "status": "False"}]}
        ),
        False,
    ),
    (
        "widget ready true despite reconciling",
        with_status(
            "example.com/v1",
            "Widget",
            {
                "conditions": [
                    {"type": "Ready", "status": "True"},
                    {"type": "Reconciling", "status": "True"},
                ]
            },
        ),
        True,
    ),
    (
        "widget stalled",
        with_status(
            "example.com/v1", "Widget", {"conditions": [{"type": "Stalled", "status": "True"}]}
        ),
        False,
    ),
    (
        "widget behind its generation",
        with_status("example.com/v1", "Widget", {"observedGeneration": 1}),
        False,
    ),
    ("malformed status", deployment({"observedGeneration": "2", "conditions": "x"}), False),
]


def _handler(value: KubeObject) -> KindHandler:
    group = value["apiVersion"].rpartition("/")[0]
    resources = {kind: resource for _, resource, kind in BUILT_IN}
    return handler_for(group, resources.get(value["kind"], "widgets"))


@pytest.mark.parametrize(
    ("value", "ready"),
    [pytest.param(value, ready, id=name) for name, value, ready in READINESS],
)
def test_readiness(value: KubeObject, ready: bool) -> None:
    assert _handler(value).is_ready(value) is ready


def test_every_resource_the_syncer_syncs_by_default_has_its_built_in_handler() -> None:
    for name in DEFAULT_RESOURCES:
        resource, _, group = name.partition(".")
        handler = handler_for(group, resource)
        assert handler in HANDLERS, name
        assert handler.kind == KNOWN_RESOURCES[name].kind
