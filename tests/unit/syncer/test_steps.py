"""Example tests for each built-in step: one object in, the documented object out."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_syncer.contract.errors import (
    InvalidFieldError,
    InvalidLocatorError,
    MissingFieldError,
    ReservedNameError,
    TransformError,
    UnknownNamespaceError,
)
from pytest_syncer.contract.objects import KubeObject, SyncTarget
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.namespaces import downstream_namespace_object, locator_of
from pytest_syncer.syncer.transform.pipeline import downstream_pipeline, upstream_pipeline
from pytest_syncer.syncer.transform.status import status_to_upstream

TARGET = SyncTarget("us-east1", "root:org:ws", "8c2a0a4e-7f2f-4d7b-9d8f-1f5b3f2a9c10")
CONTEXT = TransformContext(TARGET)
DOWN = downstream_pipeline()
UP = upstream_pipeline()


def obj(kind: str, name: str = "web", api_version: str = "v1", **fields: Any) -> KubeObject:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": "default"},
        **fields,
    }


def deployment(pod_spec: dict[str, Any]) -> KubeObject:
    spec = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec},
    }
    return obj("Deployment", api_version="apps/v1", spec=spec)


def test_upstream_only_metadata_is_stripped_and_the_marker_added() -> None:
    source = obj("ConfigMap", data={"a": "b"})
    source["metadata"].update(
        uid="u",
        resourceVersion="7",
        generation=2,
        creationTimestamp="2026-01-01T00:00:00Z",
        managedFields=[{"manager": "kubectl"}],
        ownerReferences=[{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "o"}],
        finalizers=["workload.kcp.io/syncer"],
        deletionTimestamp="2026-01-01T00:00:00Z",
        deletionGracePeriodSeconds=30,
        selfLink="/x",
        labels={
            f"state.workload.kcp.io/{TARGET.key}": "Sync",
            "state.workload.kcp.io/o": "",
            "app": "web",
        },
        annotations={
            "kcp.io/cluster": "root:org:ws",
            f"experimental.status.workload.kcp.io/{TARGET.key}": "{}",
            f"finalizers.workload.kcp.io/{TARGET.key}": "",
            f"deletion.internal.workload.kcp.io/{TARGET.key}": "2026-01-01T00:00:00Z",
            "workload.kcp.io/conflict-strategy": "retain",
            "note": "kept",
        },
    )
    source["status"] = {"x": 1}
    assert DOWN(source, CONTEXT) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "web",
            "namespace": "kcp-h18qw0zs4dlx",
            "labels": {"app": "web", "internal.workload.kcp.io/cluster": TARGET.key},
            "annotations": {"note": "kept"},
        },
        "data": {"a": "b"},
    }


def test_context_names_the_syncers_own_annotations() -> None:
    context = TransformContext(TARGET, own_annotations=("example.com/mine", "team.io/"))
    source = obj("ConfigMap")
    source["metadata"]["annotations"] = {
        "example.com/mine": "x",
        "example.com/mine-too": "kept",
        "team.io/a": "x",
        "workload.kcp.io/conflict-strategy": "kept: not in this context's list",
    }
    assert set(DOWN(source, context)["metadata"]["annotations"]) == {
        "example.com/mine-too",
        "workload.kcp.io/conflict-strategy",
    }


def test_root_ca_configmap_is_renamed_both_ways() -> None:
    down = DOWN(obj("ConfigMap", "kube-root-ca.crt"), CONTEXT)
    assert down["metadata"]["name"] == "kcp-root-ca.crt"
    up = UP(down, CONTEXT.with_locators([CONTEXT.locator("default")]))
    assert up["metadata"] == {"name": "kube-root-ca.crt", "namespace": "default"}


def test_token_secret_is_renamed_made_opaque_and_loses_service_account_annotations() -> None:
    source = obj("Secret", "default-token-abcde", type="kubernetes.io/service-account-token")
    source["metadata"]["annotations"] = {
        "kubernetes.io/service-account.name": "default",
        "kubernetes.io/service-account.uid": "u",
        "note": "kept",
    }
    down = DOWN(source, CONTEXT)
    assert down["metadata"]["name"] == "kcp-default-token-abcde"
    assert down["type"] == "Opaque"
    assert down["metadata"]["annotations"] == {"note": "kept"}


def test_other_secrets_keep_name_and_type() -> None:
    down = DOWN(obj("Secret", "tls", type="kubernetes.io/tls"), CONTEXT)
    assert (down["metadata"]["name"], down["type"]) == ("tls", "kubernetes.io/tls")


def test_a_token_secret_name_too_long_to_prefix_keeps_its_name() -> None:
    name = "default-token-" + "a" * 239
    assert DOWN(obj("Secret", name), CONTEXT)["metadata"]["name"] == name


@pytest.mark.parametrize(
    ("kind", "name"), [("ConfigMap", "kcp-root-ca.crt"), ("Secret", "kcp-default-token-x")]
)
def test_upstream_names_reserved_for_renamed_objects_are_refused(kind: str, name: str) -> None:
    with pytest.raises(ReservedNameError) as raised:
        DOWN(obj(kind, name), CONTEXT)
    assert raised.value.field == "metadata.name"


def test_renames_leave_other_groups_alone() -> None:
    source = obj("ConfigMap", "kube-root-ca.crt", api_version="example.com/v1")
    assert DOWN(source, CONTEXT)["metadata"]["name"] == "kube-root-ca.crt"


def test_deployment_does_not_run_as_the_upstream_service_account() -> None:
    down = DOWN(
        deployment(
            {"serviceAccountName": "builder", "serviceAccount": "builder", "containers": []}
        ),
        CONTEXT,
    )
    assert down["spec"]["template"]["spec"] == {
        "containers": [],
        "automountServiceAccountToken": False,
    }


def test_cronjob_pod_spec_is_found_under_its_job_template() -> None:
    pod_spec = {"serviceAccountName": "x", "containers": []}
    source = obj(
        "CronJob",
        api_version="batch/v1",
        spec={"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": pod_spec}}}},
    )
    down = DOWN(source, CONTEXT)
    assert down["spec"]["jobTemplate"]["spec"]["template"]["spec"] == {
        "containers": [],
        "automountServiceAccountToken": False,
    }


def test_job_loses_the_selector_the_upstream_server_generated() -> None:
    labels = {"controller-uid": "u", "batch.kubernetes.io/controller-uid": "u", "app": "x"}
    source = obj(
        "Job",
        api_version="batch/v1",
        spec={
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": []}},
        },
    )
    down = DOWN(source, CONTEXT)
    assert "selector" not in down["spec"]
    assert down["spec"]["template"]["metadata"]["labels"] == {"app": "x"}
    source["spec"]["manualSelector"] = True
    assert DOWN(source, CONTEXT)["spec"]["selector"] == source["spec"]["selector"]


def test_a_label_less_job_loses_the_labels_it_read_back_from_its_template() -> None:
    """A Job created without labels reads back with its template's (``SetDefaults_Job``), the
    generated ``controller-uid``/``job-name`` ones included (``generateSelector``): none of them
    names the copy, so none goes down; a label of the user's own with another value stays."""
    generated = {
        "controller-uid": "u",
        "batch.kubernetes.io/controller-uid": "u",
        "job-name": "web",
        "batch.kubernetes.io/job-name": "web",
    }
    source = obj(
        "Job",
        api_version="batch/v1",
        spec={
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
            "template": {"metadata": {"labels": dict(generated)}, "spec": {"containers": []}},
        },
    )
    source["metadata"]["labels"] = {**generated, "job-name": "mine", "team": "a"}
    down = DOWN(source, CONTEXT)
    assert "selector" not in down["spec"]
    assert down["spec"]["template"]["metadata"]["labels"] == {}
    own = down["metadata"]["labels"]
    assert not {k: v for k, v in own.items() if k in generated and v == generated[k]}
    assert (own["job-name"], own["team"]) == ("mine", "a")


def test_a_pod_loses_the_token_volume_admission_mounted_and_keeps_its_own() -> None:
    token = {
        "name": "kube-api-access-x2b7q",
        "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]},
    }
    mine = {"name": "data", "emptyDir": {}}
    mounts = [
        {
            "name": "kube-api-access-x2b7q",
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
        },
        {"name": "data", "mountPath": "/data"},
    ]
    source = obj(
        "Pod",
        spec={
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "containers": [{"name": "c", "image": "i", "volumeMounts": mounts}],
            "initContainers": [{"name": "i", "image": "i", "volumeMounts": mounts[:1]}],
            "volumes": [token, mine],
        },
    )
    spec = DOWN(source, CONTEXT)["spec"]
    assert spec["volumes"] == [mine]
    assert spec["containers"][0]["volumeMounts"] == [mounts[1]]
    assert "volumeMounts" not in spec["initContainers"][0]
    assert spec["automountServiceAccountToken"] is False
    assert not {"serviceAccountName", "serviceAccount"} & set(spec)


def test_service_loses_allocated_addresses_and_ports() -> None:
    spec = {
        "type": "LoadBalancer",
        "clusterIP": "10.0.0.7",
        "clusterIPs": ["10.0.0.7"],
        "healthCheckNodePort": 31000,
        "externalTrafficPolicy": "Local",
        "ports": [{"port": 80, "nodePort": 30080}, {"port": 443}],
    }
    assert DOWN(obj("Service", spec=spec), CONTEXT)["spec"] == {
        "type": "LoadBalancer",
        "externalTrafficPolicy": "Local",
        "ports": [{"port": 80}, {"port": 443}],
    }


def test_headless_service_stays_headless() -> None:
    spec = {"clusterIP": "None", "clusterIPs": ["None"], "ports": [{"port": 80}]}
    assert DOWN(obj("Service", spec=spec), CONTEXT)["spec"] == spec


def test_status_to_upstream_drops_downstream_only_fields_and_maps_namespaces_back() -> None:
    locator = CONTEXT.locator("team-a")
    context = CONTEXT.with_locators([locator])
    downstream = {
        "observedGeneration": 4,
        "podIP": "10.1.2.3",
        "phase": "Running",
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "observedGeneration": 4,
                "message": f"pod {locator.downstream_namespace}/web-1 not ready; "
                f"{locator.downstream_namespace}x untouched",
            }
        ],
    }
    assert status_to_upstream("Pod", downstream, context) == {
        "phase": "Running",
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "message": f"pod team-a/web-1 not ready; {locator.downstream_namespace}x untouched",
            }
        ],
    }
    assert downstream["observedGeneration"] == 4


def test_upstream_pipeline_needs_a_known_namespace() -> None:
    with pytest.raises(UnknownNamespaceError) as raised:
        UP(obj("ConfigMap"), CONTEXT)
    assert raised.value.field == "metadata.namespace"


def test_downstream_namespace_object_carries_locator_and_marker() -> None:
    locator = CONTEXT.locator("default")
    namespace = downstream_namespace_object(locator)
    assert namespace["metadata"]["name"] == "kcp-h18qw0zs4dlx"
    assert namespace["metadata"]["labels"] == {"internal.workload.kcp.io/cluster": TARGET.key}
    assert locator_of(namespace) == locator
    with pytest.raises(InvalidLocatorError):
        locator_of({"metadata": {"name": "default"}})


def _drop(source: KubeObject, *path: str) -> KubeObject:
    parent = source
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return source


@pytest.mark.parametrize(
    ("source", "error", "field"),
    [
        ([], InvalidFieldError, "<object>"),
        (_drop(obj("ConfigMap"), "apiVersion"), MissingFieldError, "apiVersion"),
        (_drop(obj("ConfigMap"), "metadata"), MissingFieldError, "metadata"),
        (_drop(obj("ConfigMap"), "metadata", "name"), MissingFieldError, "metadata.name"),
        (_drop(obj("ConfigMap"), "metadata", "namespace"), MissingFieldError, "metadata.namespace"),
        (
            {**obj("ConfigMap"), "metadata": {"name": 3, "namespace": "d"}},
            InvalidFieldError,
            "metadata.name",
        ),
        (obj("Deployment", api_version="apps/v1", spec=[]), InvalidFieldError, "spec"),
        (
            obj("Deployment", api_version="apps/v1", spec={"template": {"spec": []}}),
            InvalidFieldError,
            "spec.template.spec",
        ),
        (obj("Service", spec={"ports": {}}), InvalidFieldError, "spec.ports"),
        (obj("Service", spec={"ports": [1]}), InvalidFieldError, "spec.ports[0]"),
    ],
)
def test_invalid_objects_raise_typed_errors_naming_the_field(
    source: Any, error: type[TransformError], field: str
) -> None:
    with pytest.raises(error) as raised:
        DOWN(source, CONTEXT)
    assert raised.value.field == field
