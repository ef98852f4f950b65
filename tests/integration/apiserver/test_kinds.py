"""Defaulting, server-set fields, immutability and normalisation, per kind, through HTTP.

The expectations are a table written from kubernetes/kubernetes, not from this server's code:

- Deployment, ReplicaSet, StatefulSet, DaemonSet: ``pkg/apis/apps/v1/defaults.go``
  (``SetDefaults_Deployment``: replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10,
  progressDeadlineSeconds 600; ``SetDefaults_StatefulSet``: OrderedReady, RollingUpdate
  partition 0, PVC retention Retain/Retain, replicas 1, revisionHistoryLimit 10;
  ``SetDefaults_DaemonSet``: RollingUpdate maxUnavailable 1 maxSurge 0, revisionHistoryLimit 10;
  ``SetDefaults_ReplicaSet``: replicas 1).
- Pod spec and pod templates: ``pkg/apis/core/v1/defaults.go`` (``SetDefaults_PodSpec``:
  dnsPolicy ClusterFirst, restartPolicy Always, securityContext {}, terminationGracePeriodSeconds
  30, schedulerName default-scheduler; ``SetDefaults_Container``: imagePullPolicy Always for
  ``:latest`` or no tag else IfNotPresent, terminationMessagePath /dev/termination-log,
  terminationMessagePolicy File; ``SetDefaults_Pod``: enableServiceLinks true, requests from
  limits) and ``k8s.io/api/core/v1/types.go`` (``ContainerPort.protocol`` +default TCP).
- Service: ``SetDefaults_Service`` (type ClusterIP, sessionAffinity None, port protocol TCP,
  targetPort = port, internalTrafficPolicy Cluster, externalTrafficPolicy Cluster when
  externally accessible); ``pkg/registry/core/service/storage/alloc.go`` (clusterIP(s) from the
  service CIDR, ipFamilies [IPv4], ipFamilyPolicy SingleStack, node ports 30000-32767).
- Job, CronJob: ``pkg/apis/batch/v1/defaults.go`` (backoffLimit 6, completions and parallelism 1,
  completionMode NonIndexed, suspend false, podReplacementPolicy TerminatingOrFailed;
  concurrencyPolicy Allow, suspend false, successfulJobsHistoryLimit 3, failedJobsHistoryLimit 1)
  and ``pkg/registry/batch/job/strategy.go`` (``generateSelector``: the controller-uid selector,
  controller-uid and job-name labels in both forms).
- PVC ``volumeMode`` Filesystem, Secret ``type`` Opaque, Namespace label
  ``kubernetes.io/metadata.name``: ``pkg/apis/core/v1/defaults.go``. NetworkPolicy policyTypes
  [Ingress], port protocol TCP: ``pkg/apis/networking/v1/defaults.go``. RoleBinding roleRef
  apiGroup: ``pkg/apis/rbac/v1/defaults.go``.
- Immutability messages: ``pkg/apis/*/validation`` (``ValidateImmutableField``: ``field is
  immutable``; ConfigMap/Secret ``field is immutable when `immutable` is set``; Service
  ``may not change once set``; StatefulSet's Forbidden list of updatable fields).
- A create carrying ``metadata.resourceVersion``: the storage's
  ``resourceVersion should not be set on objects to be created`` (a 500, reason Unknown).
"""

from __future__ import annotations

import base64
import ipaddress
import re
from typing import Any

import pytest

from pytest_syncer.apiserver import BackgroundAPIServer
from pytest_syncer.apiserver.http.protobuf.envelope import MEDIA_TYPE as PROTOBUF
from pytest_syncer.apiserver.http.protobuf.envelope import decode_object
from tests.integration.apiserver.clients import ClusterClient

NS = "/api/v1/namespaces/default"
APPS = "/apis/apps/v1/namespaces/default"
BATCH = "/apis/batch/v1/namespaces/default"
NET = "/apis/networking.k8s.io/v1/namespaces/default"
RBAC = "/apis/rbac.authorization.k8s.io/v1/namespaces/default"
JSON_PATCH = "application/json-patch+json"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
META = "g=meta.k8s.io;v=v1"

POD_SPEC = {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]}
POD_SPEC_DEFAULTS = {
    "restartPolicy": "Always",
    "dnsPolicy": "ClusterFirst",
    "schedulerName": "default-scheduler",
    "terminationGracePeriodSeconds": 30,
    "securityContext": {},
    "containers[0].terminationMessagePath": "/dev/termination-log",
    "containers[0].terminationMessagePolicy": "File",
    "containers[0].imagePullPolicy": "Always",
    "containers[0].ports[0].protocol": "TCP",
}
TEMPLATE = {"metadata": {"labels": {"app": "x"}}, "spec": POD_SPEC}
SELECTOR = {"matchLabels": {"app": "x"}}


def _under(prefix: str, table: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}.{path}": value for path, value in table.items()}


# (collection path, apiVersion, kind, minimal body without metadata, {path: default}).
KINDS: dict[str, tuple[str, str, str, dict[str, Any], dict[str, Any]]] = {
    "deployment": (
        f"{APPS}/deployments",
        "apps/v1",
        "Deployment",
        {"spec": {"selector": SELECTOR, "template": TEMPLATE}},
        {
            "spec.replicas": 1,
            "spec.strategy.type": "RollingUpdate",
            "spec.strategy.rollingUpdate.maxUnavailable": "25%",
            "spec.strategy.rollingUpdate.maxSurge": "25%",
            "spec.revisionHistoryLimit": 10,
            "spec.progressDeadlineSeconds": 600,
            **_under("spec.template.spec", POD_SPEC_DEFAULTS),
        },
    ),
    "replicaset": (
        f"{APPS}/replicasets",
        "apps/v1",
        "ReplicaSet",
        {"spec": {"selector": SELECTOR, "template": TEMPLATE}},
        {"spec.replicas": 1, **_under("spec.template.spec", POD_SPEC_DEFAULTS)},
    ),
    "statefulset": (
        f"{APPS}/statefulsets",
        "apps/v1",
        "StatefulSet",
        {"spec": {"selector": SELECTOR, "template": TEMPLATE, "serviceName": "x"}},
        {
            "spec.replicas": 1,
            "spec.podManagementPolicy": "OrderedReady",
            "spec.updateStrategy.type": "RollingUpdate",
            "spec.updateStrategy.rollingUpdate.partition": 0,
            "spec.revisionHistoryLimit": 10,
            "spec.persistentVolumeClaimRetentionPolicy.whenDeleted": "Retain",
            "spec.persistentVolumeClaimRetentionPolicy.whenScaled": "Retain",
            **_under("spec.template.spec", POD_SPEC_DEFAULTS),
        },
    ),
    "daemonset": (
        f"{APPS}/daemonsets",
        "apps/v1",
        "DaemonSet",
        {"spec": {"selector": SELECTOR, "template": TEMPLATE}},
        {
            "spec.updateStrategy.type": "RollingUpdate",
            "spec.updateStrategy.rollingUpdate.maxUnavailable": 1,
            "spec.updateStrategy.rollingUpdate.maxSurge": 0,
            "spec.revisionHistoryLimit": 10,
            **_under("spec.template.spec", POD_SPEC_DEFAULTS),
        },
    ),
    "job": (
        f"{BATCH}/jobs",
        "batch/v1",
        "Job",
        {"spec": {"template": {"spec": {**POD_SPEC, "restartPolicy": "Never"}}}},
        {
            "spec.backoffLimit": 6,
            "spec.completions": 1,
            "spec.parallelism": 1,
            "spec.completionMode": "NonIndexed",
            "spec.suspend": False,
            "spec.podReplacementPolicy": "TerminatingOrFailed",
            **_under("spec.template.spec", {**POD_SPEC_DEFAULTS, "restartPolicy": "Never"}),
        },
    ),
    "cronjob": (
        f"{BATCH}/cronjobs",
        "batch/v1",
        "CronJob",
        {
            "spec": {
                "schedule": "*/5 * * * *",
                "jobTemplate": {
                    "spec": {"template": {"spec": {**POD_SPEC, "restartPolicy": "OnFailure"}}}
                },
            }
        },
        {
            "spec.concurrencyPolicy": "Allow",
            "spec.suspend": False,
            "spec.successfulJobsHistoryLimit": 3,
            "spec.failedJobsHistoryLimit": 1,
            **_under(
                "spec.jobTemplate.spec.template.spec",
                {**POD_SPEC_DEFAULTS, "restartPolicy": "OnFailure"},
            ),
        },
    ),
    "pod": (
        f"{NS}/pods",
        "v1",
        "Pod",
        {"spec": POD_SPEC},
        {
            **_under("spec", POD_SPEC_DEFAULTS),
            "spec.enableServiceLinks": True,
            "status.phase": "Pending",
            "status.qosClass": "BestEffort",
        },
    ),
    "service": (
        f"{NS}/services",
        "v1",
        "Service",
        {"spec": {"selector": {"app": "x"}, "ports": [{"port": 80}]}},
        {
            "spec.type": "ClusterIP",
            "spec.sessionAffinity": "None",
            "spec.ports[0].protocol": "TCP",
            "spec.ports[0].targetPort": 80,
            "spec.ipFamilies": ["IPv4"],
            "spec.ipFamilyPolicy": "SingleStack",
            "spec.internalTrafficPolicy": "Cluster",
            "status.loadBalancer": {},
        },
    ),
    "pvc": (
        f"{NS}/persistentvolumeclaims",
        "v1",
        "PersistentVolumeClaim",
        {
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            }
        },
        {"spec.volumeMode": "Filesystem", "status.phase": "Pending"},
    ),
    "secret": (f"{NS}/secrets", "v1", "Secret", {"data": {"k": "dg=="}}, {"type": "Opaque"}),
    "networkpolicy": (
        f"{NET}/networkpolicies",
        "networking.k8s.io/v1",
        "NetworkPolicy",
        {"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}},
        {"spec.policyTypes": ["Ingress"], "spec.ingress[0].ports[0].protocol": "TCP"},
    ),
    "rolebinding": (
        f"{RBAC}/rolebindings",
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        {
            "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "jane"}],
        },
        {
            "roleRef.apiGroup": "rbac.authorization.k8s.io",
            "subjects[0].apiGroup": "rbac.authorization.k8s.io",
        },
    ),
}
DEFAULTED_FIELD = {
    "deployment": "spec.revisionHistoryLimit",
    "replicaset": "spec.replicas",
    "statefulset": "spec.podManagementPolicy",
    "daemonset": "spec.revisionHistoryLimit",
    "job": "spec.backoffLimit",
    "cronjob": "spec.concurrencyPolicy",
    "pod": "spec.dnsPolicy",
    "service": "spec.sessionAffinity",
    "pvc": "spec.volumeMode",
    "secret": "type",
    "networkpolicy": "spec.policyTypes",
    "rolebinding": "subjects[0].apiGroup",
}
"""A defaulted field each kind lets an update remove (JSON patch ``remove``)."""

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def lookup(obj: Any, path: str) -> Any:
    """``spec.containers[0].image`` in ``obj``; a KeyError names what is missing."""
    for name, index in _STEP.findall(path):
        obj = obj[int(index)] if index else obj[name]
    return obj


def pointer(path: str) -> str:
    return "/" + "/".join(name or index for name, index in _STEP.findall(path))


def minimal_body(kind: str, name: str) -> dict[str, Any]:
    """The minimal manifest of ``kind`` (a key of ``KINDS``), apiVersion and kind included."""
    _, api_version, type_name, body, _ = KINDS[kind]
    return {"apiVersion": api_version, "kind": type_name, "metadata": {"name": name}, **body}


def assert_defaults(kind: str, obj: dict[str, Any]) -> None:
    table = KINDS[kind][4]
    found = {}
    for path in table:
        try:
            found[path] = lookup(obj, path)
        except (KeyError, IndexError):
            found[path] = "<missing>"
    assert found == table


def _write(client: ClusterClient, kind: str, how: str, name: str) -> dict[str, Any]:
    """The object after a write of the minimal body by ``how``; defaults are checked on it."""
    collection = KINDS[kind][0]
    body = minimal_body(kind, name)
    if how == "create":
        answer = client.post(collection, body)
    elif how == "dry-run create":
        answer = client.post(collection, body, params={"dryRun": "All"})
    elif how == "apply":
        answer = client.patch(f"{collection}/{name}", body, APPLY, params={"fieldManager": "test"})
    else:
        created = client.post(collection, body)
        assert created.status_code == 201, created.text
        stored = created.json()
        if how == "update":
            rv = stored["metadata"]["resourceVersion"]
            plain = {**body, "metadata": {"name": name, "resourceVersion": rv}}
            if "spec" in plain:
                plain["spec"] = _server_set_spec(kind, plain["spec"], stored["spec"])
            answer = client.put(f"{collection}/{name}", plain)
        elif how == "json patch":
            op = {"op": "remove", "path": pointer(DEFAULTED_FIELD[kind])}
            answer = client.patch(f"{collection}/{name}", [op], JSON_PATCH)
        elif how == "merge patch":
            patch: dict[str, Any] = {"metadata": {"labels": {"patched": "yes"}}}
            answer = client.patch(f"{collection}/{name}", patch, MERGE)
        else:
            patch = {"metadata": {"labels": {"patched": "yes"}}}
            answer = client.patch(f"{collection}/{name}", patch, STRATEGIC)
    assert answer.status_code in (200, 201), answer.text
    written: dict[str, Any] = answer.json()
    return written


def _server_set_spec(kind: str, spec: Any, stored: dict[str, Any]) -> Any:
    """A PUT carries back what the server set (as a client's read-modify-write does)."""
    if kind == "service":
        return {**spec, "clusterIP": stored["clusterIP"]}
    if kind == "job":
        template = {**spec["template"], "metadata": stored["template"]["metadata"]}
        return {**spec, "selector": stored["selector"], "template": template}
    if kind == "pod":  # what the admission plugins added (test_pod_admission.py)
        admitted = (
            "serviceAccountName",
            "serviceAccount",
            "tolerations",
            "volumes",
            "priority",
            "preemptionPolicy",
        )
        containers = [
            {**sent, "volumeMounts": found["volumeMounts"]}
            for sent, found in zip(spec["containers"], stored["containers"], strict=True)
        ]
        carried = {key: stored[key] for key in admitted}
        return {**spec, **carried, "containers": containers}
    return spec


WRITES = ("create", "dry-run create", "update", "json patch", "merge patch", "strategic", "apply")


@pytest.mark.parametrize("how", WRITES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_write_path_defaults_every_field(
    upstream: ClusterClient, kind: str, how: str
) -> None:
    name = f"{kind}-{how.replace(' ', '-')}"
    written = _write(upstream, kind, how, name)
    assert_defaults(kind, written)
    if how != "dry-run create":
        assert_defaults(kind, upstream.get(f"{KINDS[kind][0]}/{name}").json())
    else:
        assert upstream.get(f"{KINDS[kind][0]}/{name}").status_code == 404


def test_a_json_patch_replacing_a_defaulted_field_works(upstream: ClusterClient) -> None:
    path = f"{APPS}/deployments/replace"
    assert (
        upstream.post(f"{APPS}/deployments", minimal_body("deployment", "replace")).status_code
        == 201
    )
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "replace", "path": "/spec/strategy/rollingUpdate/maxSurge", "value": 2},
        {"op": "test", "path": "/spec/progressDeadlineSeconds", "value": 600},
    ]
    patched = upstream.patch(path, ops, JSON_PATCH)
    assert patched.status_code == 200, patched.text
    spec = patched.json()["spec"]
    assert (spec["replicas"], spec["strategy"]["rollingUpdate"]) == (
        3,
        {"maxSurge": 2, "maxUnavailable": "25%"},
    )


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("registry:5000/team/nginx", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry:5000/nginx:1.25", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
    ],
)
def test_image_pull_policy_follows_the_tag(
    upstream: ClusterClient, image: str, policy: str
) -> None:
    name = "pull-" + re.sub(r"[^a-z0-9]+", "-", image)[:40].strip("-")
    body = {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": image}]}}
    created = upstream.post(f"{NS}/pods", body)
    assert created.status_code == 201, created.text
    assert created.json()["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_given_values_are_kept_and_rolling_bounds_only_for_rolling_update(
    upstream: ClusterClient,
) -> None:
    body = minimal_body("deployment", "recreate")
    body["spec"] = {**body["spec"], "replicas": 0, "strategy": {"type": "Recreate"}}
    spec = upstream.post(f"{APPS}/deployments", body).json()["spec"]
    assert spec["replicas"] == 0
    assert spec["strategy"] == {"type": "Recreate"}


def test_pod_qos_class_and_requests_from_limits(upstream: ClusterClient) -> None:
    limits = {"cpu": "100m", "memory": "64Mi"}
    containers = [{"name": "c", "image": "x:1", "resources": {"limits": limits}}]
    body = {"metadata": {"name": "guaranteed"}, "spec": {"containers": containers}}
    pod = upstream.post(f"{NS}/pods", body).json()
    assert pod["spec"]["containers"][0]["resources"]["requests"] == limits
    assert pod["status"] == {"phase": "Pending", "qosClass": "Guaranteed"}
    burst = [{"name": "c", "image": "x:1", "resources": {"requests": {"cpu": "1"}}}]
    body = {"metadata": {"name": "burstable"}, "spec": {"containers": burst}}
    assert upstream.post(f"{NS}/pods", body).json()["status"]["qosClass"] == "Burstable"


# Fields the server sets.


def _service(name: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"ports": [{"port": 80}], **spec}}


def test_cluster_ips_are_unique_in_the_service_cidr_and_released(
    upstream: ClusterClient, admin: ClusterClient
) -> None:
    services = f"{NS}/services"
    addresses = []
    for index in range(5):
        spec = upstream.post(services, _service(f"ip-{index}")).json()["spec"]
        assert spec["clusterIPs"] == [spec["clusterIP"]]
        assert ipaddress.ip_address(spec["clusterIP"]) in ipaddress.ip_network("10.96.0.0/12")
        addresses.append(spec["clusterIP"])
    assert len(set(addresses)) == 5
    taken = upstream.post(services, _service("ip-taken", clusterIP=addresses[0]))
    assert taken.status_code == 422
    cause = taken.json()["details"]["causes"][0]
    assert cause["field"] == "spec.clusterIPs[0]"
    assert "provided IP is already allocated" in cause["message"]
    assert upstream.delete(f"{services}/ip-0").status_code == 200
    again = upstream.post(services, _service("ip-again", clusterIP=addresses[0]))
    assert again.status_code == 201, again.text


def test_headless_and_external_name_get_no_address(upstream: ClusterClient) -> None:
    services = f"{NS}/services"
    headless = upstream.post(services, _service("headless", clusterIP="None", selector={"a": "b"}))
    spec = headless.json()["spec"]
    assert (spec["clusterIP"], spec["clusterIPs"], spec["ipFamilyPolicy"]) == (
        "None",
        ["None"],
        "SingleStack",
    )
    body = {
        "metadata": {"name": "external"},
        "spec": {"type": "ExternalName", "externalName": "a.b"},
    }
    spec = upstream.post(services, body).json()["spec"]
    assert "clusterIP" not in spec
    assert "ipFamilies" not in spec
    assert "internalTrafficPolicy" not in spec


def test_node_ports_are_allocated_in_range_and_kept_on_update(upstream: ClusterClient) -> None:
    services = f"{NS}/services"
    created = upstream.post(services, _service("nodeport", type="NodePort")).json()
    port = created["spec"]["ports"][0]["nodePort"]
    assert 30000 <= port <= 32767
    assert created["spec"]["externalTrafficPolicy"] == "Cluster"
    lb = upstream.post(services, _service("lb", type="LoadBalancer")).json()["spec"]
    assert lb["ports"][0]["nodePort"] != port
    assert lb["allocateLoadBalancerNodePorts"] is True
    clash = _service("clash", type="NodePort")
    clash["spec"]["ports"][0]["nodePort"] = port
    refused = upstream.post(services, clash)
    assert refused.status_code == 422
    assert refused.json()["details"]["causes"][0]["field"] == "spec.ports[0].nodePort"
    plain = {**_service("nodeport", type="NodePort")}
    plain["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    updated = upstream.put(f"{services}/nodeport", plain)
    assert updated.status_code == 200, updated.text
    assert updated.json()["spec"]["ports"][0]["nodePort"] == port
    assert updated.json()["spec"]["clusterIP"] == created["spec"]["clusterIP"]


def test_job_selector_and_labels_are_generated(upstream: ClusterClient) -> None:
    job = upstream.post(f"{BATCH}/jobs", minimal_body("job", "generated")).json()
    uid = job["metadata"]["uid"]
    want = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "generated",
        "controller-uid": uid,
        "job-name": "generated",
    }
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert job["spec"]["template"]["metadata"]["labels"] == want
    assert job["metadata"]["labels"] == want
    assert "manualSelector" not in job["spec"]


def test_a_copied_generated_selector_is_refused(upstream: ClusterClient) -> None:
    original = upstream.post(f"{BATCH}/jobs", minimal_body("job", "original")).json()
    copy = minimal_body("job", "copied")
    copy["spec"] = {
        **copy["spec"],
        "selector": original["spec"]["selector"],
        "template": original["spec"]["template"],
    }
    refused = upstream.post(f"{BATCH}/jobs", copy)
    assert refused.status_code == 422, refused.text
    fields = {cause["field"] for cause in refused.json()["details"]["causes"]}
    assert "spec.template.metadata.labels[batch.kubernetes.io/controller-uid]" in fields
    manual = minimal_body("job", "manual")
    manual["spec"] = {
        **manual["spec"],
        "manualSelector": True,
        "selector": {"matchLabels": {"app": "m"}},
        "template": {
            "metadata": {"labels": {"app": "m"}},
            "spec": manual["spec"]["template"]["spec"],
        },
    }
    kept = upstream.post(f"{BATCH}/jobs", manual)
    assert kept.status_code == 201, kept.text
    assert kept.json()["spec"]["selector"] == {"matchLabels": {"app": "m"}}


# Immutability.


def _causes(answer: Any) -> list[tuple[str, str]]:
    assert answer.status_code == 422, answer.text
    status = answer.json()
    assert status["reason"] == "Invalid"
    return [(cause["field"], cause["message"]) for cause in status["details"]["causes"]]


def test_workload_selectors_are_immutable(upstream: ClusterClient) -> None:
    for kind, resource in (
        ("deployment", "deployments"),
        ("replicaset", "replicasets"),
        ("daemonset", "daemonsets"),
    ):
        name = f"{kind}-immutable"
        assert upstream.post(f"{APPS}/{resource}", minimal_body(kind, name)).status_code == 201
        patch = {
            "spec": {
                "selector": {"matchLabels": {"app": "y"}},
                "template": {"metadata": {"labels": {"app": "y"}}},
            }
        }
        causes = _causes(upstream.patch(f"{APPS}/{resource}/{name}", patch, MERGE))
        assert causes == [
            ("spec.selector", 'Invalid value: {"matchLabels":{"app":"y"}}: field is immutable')
        ]


def test_statefulset_fields_outside_the_updatable_set(upstream: ClusterClient) -> None:
    path = f"{APPS}/statefulsets/sts-immutable"
    assert (
        upstream.post(
            f"{APPS}/statefulsets", minimal_body("statefulset", "sts-immutable")
        ).status_code
        == 201
    )
    assert upstream.patch(path, {"spec": {"replicas": 3}}, MERGE).status_code == 200
    causes = _causes(upstream.patch(path, {"spec": {"serviceName": "other"}}, MERGE))
    assert causes[0][0] == "spec"
    assert causes[0][1].startswith(
        "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
        "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
        "'minReadySeconds' are forbidden"
    )


def test_job_template_is_immutable(upstream: ClusterClient) -> None:
    path = f"{BATCH}/jobs/job-immutable"
    assert upstream.post(f"{BATCH}/jobs", minimal_body("job", "job-immutable")).status_code == 201
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "other:1"}]}}}}
    causes = _causes(upstream.patch(path, patch, STRATEGIC))
    assert [field for field, _ in causes] == ["spec.template"]
    assert causes[0][1].endswith("field is immutable")
    assert upstream.patch(path, {"spec": {"suspend": True}}, MERGE).status_code == 200


def test_immutable_config_maps_and_secrets(upstream: ClusterClient) -> None:
    for resource, data in (("configmaps", {"k": "v"}), ("secrets", {"k": "dg=="})):
        path = f"{NS}/{resource}/frozen"
        body = {"metadata": {"name": "frozen"}, "data": data, "immutable": True}
        assert upstream.post(f"{NS}/{resource}", body).status_code == 201
        causes = _causes(upstream.patch(path, {"data": {"k2": "dg=="}}, MERGE))
        assert causes == [("data", "Forbidden: field is immutable when `immutable` is set")]
        causes = _causes(upstream.patch(path, {"immutable": False}, MERGE))
        assert causes == [("immutable", "Forbidden: field is immutable when `immutable` is set")]
        assert upstream.patch(path, {"metadata": {"labels": {"a": "b"}}}, MERGE).status_code == 200
    typed = {"metadata": {"name": "typed"}, "type": "Opaque"}
    assert upstream.post(f"{NS}/secrets", typed).status_code == 201
    causes = _causes(upstream.patch(f"{NS}/secrets/typed", {"type": "kubernetes.io/tls"}, MERGE))
    assert causes[0] == ("type", 'Invalid value: "kubernetes.io/tls": field is immutable')


def test_service_cluster_ip_is_immutable_except_with_external_name(upstream: ClusterClient) -> None:
    path = f"{NS}/services/ip-fixed"
    created = upstream.post(f"{NS}/services", _service("ip-fixed")).json()
    address = created["spec"]["clusterIP"]
    other = str(ipaddress.ip_address(address) + 1)
    causes = _causes(
        upstream.patch(path, {"spec": {"clusterIP": other, "clusterIPs": [other]}}, MERGE)
    )
    assert causes == [
        ("spec.clusterIPs[0]", f'Invalid value: ["{other}"]: may not change once set')
    ]
    external = {
        "spec": {
            "type": "ExternalName",
            "externalName": "a.example",
            "clusterIP": None,
            "clusterIPs": None,
            "ipFamilies": None,
            "ipFamilyPolicy": None,
            "internalTrafficPolicy": None,
        }
    }
    assert upstream.patch(path, external, MERGE).status_code == 200, "to ExternalName"


def test_pvc_and_pod_specs_are_immutable(upstream: ClusterClient) -> None:
    upstream.post(f"{NS}/persistentvolumeclaims", minimal_body("pvc", "claim"))
    claim = f"{NS}/persistentvolumeclaims/claim"
    causes = _causes(upstream.patch(claim, {"spec": {"accessModes": ["ReadWriteMany"]}}, MERGE))
    assert causes[0][0] == "spec"
    assert "spec is immutable after creation except resources.requests" in causes[0][1]
    grown = {"spec": {"resources": {"requests": {"storage": "2Gi"}}}}
    assert upstream.patch(claim, grown, MERGE).status_code == 200
    upstream.post(f"{NS}/pods", minimal_body("pod", "fixed-pod"))
    pod = f"{NS}/pods/fixed-pod"
    image = {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}
    assert upstream.patch(pod, image, STRATEGIC).status_code == 200
    causes = _causes(upstream.patch(pod, {"spec": {"hostname": "h"}}, MERGE))
    assert causes[0][0] == "spec"
    assert causes[0][1].startswith("Forbidden: pod updates may not change fields other than")


# Normalisation and metadata rules.


def test_secret_string_data_is_merged_and_never_returned(upstream: ClusterClient) -> None:
    body = {
        "metadata": {"name": "strings"},
        "data": {"a": "eA=="},
        "stringData": {"b": "hi", "a": "y"},
    }
    created = upstream.post(f"{NS}/secrets", body).json()
    want = {"a": base64.b64encode(b"y").decode(), "b": base64.b64encode(b"hi").decode()}
    assert created["data"] == want
    assert "stringData" not in created
    stored = upstream.get(f"{NS}/secrets/strings").json()
    assert stored["data"] == want
    assert "stringData" not in stored
    patched = upstream.patch(f"{NS}/secrets/strings", {"stringData": {"c": "z"}}, MERGE).json()
    assert patched["data"]["c"] == base64.b64encode(b"z").decode()
    assert "stringData" not in patched


def test_a_create_with_a_resource_version_is_refused(upstream: ClusterClient) -> None:
    body = {"metadata": {"name": "versioned", "resourceVersion": "12"}, "data": {}}
    refused = upstream.post(f"{NS}/configmaps", body)
    assert refused.status_code == 500
    status = refused.json()
    assert (status["reason"], status["message"]) == (
        "Unknown",
        "resourceVersion should not be set on objects to be created",
    )
    assert list(status) == ["kind", "apiVersion", "metadata", "status", "message", "reason", "code"]


def test_status_fields_in_the_real_order(upstream: ClusterClient) -> None:
    missing = upstream.get(f"{NS}/configmaps/absent").json()
    assert list(missing) == [
        "kind",
        "apiVersion",
        "metadata",
        "status",
        "message",
        "reason",
        "details",
        "code",
    ]


def test_namespaces_carry_their_name_label(upstream: ClusterClient) -> None:
    created = upstream.post("/api/v1/namespaces", {"metadata": {"generateName": "labelled-"}})
    namespace = created.json()
    name = namespace["metadata"]["name"]
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": name}
    stripped = upstream.patch(
        f"/api/v1/namespaces/{name}", {"metadata": {"labels": None}}, MERGE
    ).json()
    assert stripped["metadata"]["labels"] == {"kubernetes.io/metadata.name": name}


def test_generation_bumps_only_on_spec_changes(upstream: ClusterClient) -> None:
    created = upstream.post(f"{APPS}/deployments", minimal_body("deployment", "generations")).json()
    assert created["metadata"]["generation"] == 1
    path = f"{APPS}/deployments/generations"
    same = upstream.patch(path, {"spec": {"replicas": 1}}, MERGE).json()
    assert same["metadata"]["generation"] == 1, "writing a default's own value changes nothing"
    more = upstream.patch(path, {"spec": {"replicas": 2}}, MERGE).json()
    assert more["metadata"]["generation"] == 2


@pytest.mark.parametrize(
    ("collection", "kind", "returns_object"),
    [
        (f"{NS}/configmaps", "configmap", False),
        (f"{APPS}/deployments", "deployment", False),
        (f"{NS}/services", "service", True),
        (f"{NS}/pods", "pod", True),
    ],
)
def test_delete_answers_as_the_real_registry(
    upstream: ClusterClient, collection: str, kind: str, returns_object: bool
) -> None:
    body = (
        {"metadata": {"name": "gone-cm"}, "data": {}}
        if kind == "configmap"
        else minimal_body(kind, f"gone-{kind}")
    )
    created = upstream.post(collection, body).json()
    name, uid = created["metadata"]["name"], created["metadata"]["uid"]
    answer = upstream.delete(f"{collection}/{name}")
    assert answer.status_code == 200
    if returns_object:
        assert answer.json()["metadata"]["uid"] == uid
    else:
        resource = collection.rsplit("/", 1)[1]
        group = {"group": "apps"} if kind == "deployment" else {}
        details = {"name": name, **group, "kind": resource, "uid": uid}
        assert answer.json() == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }
        assert list(answer.json()["details"]) == list(details)


@pytest.mark.parametrize(
    ("collection", "kind", "returns_object"),
    [
        (f"{NS}/configmaps", "configmap", False),
        (f"{APPS}/deployments", "deployment", False),
        (f"{NS}/services", "service", True),
    ],
)
def test_delete_answers_the_same_in_protobuf_and_as_metadata(
    upstream: ClusterClient, collection: str, kind: str, returns_object: bool
) -> None:
    """The answer is chosen before the encoding: protobuf carries the same Status (or object),
    and a metadata-only Accept leaves a Status whole, as the real server's transform does."""
    for accept in (PROTOBUF, f"application/json;as=PartialObjectMetadata;{META}"):
        name = f"proto-{kind}" if accept == PROTOBUF else f"meta-{kind}"
        body = (
            {"metadata": {"name": name}, "data": {}}
            if kind == "configmap"
            else minimal_body(kind, name)
        )
        created = upstream.post(collection, body).json()
        uid = created["metadata"]["uid"]
        answer = upstream.delete(f"{collection}/{name}", headers={"Accept": accept})
        assert answer.status_code == 200, answer.content
        document = decode_object(answer.content) if accept == PROTOBUF else answer.json()
        if returns_object:
            assert document["metadata"]["uid"] == uid
            continue
        resource = collection.rsplit("/", 1)[1]
        group = {"group": "apps"} if kind == "deployment" else {}
        assert (document["kind"], document["apiVersion"]) == ("Status", "v1")
        assert document["status"] == "Success"
        assert document["details"] == {"name": name, **group, "kind": resource, "uid": uid}


def test_a_refusal_in_protobuf_is_the_same_status(upstream: ClusterClient) -> None:
    """An immutable-field 422 asked for in protobuf decodes to the JSON answer's Status."""
    path = f"{NS}/secrets/typed-in-protobuf"
    body = {"metadata": {"name": "typed-in-protobuf"}, "type": "Opaque", "data": {}}
    assert upstream.post(f"{NS}/secrets", body).status_code == 201
    change = {"type": "kubernetes.io/basic-auth"}
    as_json = upstream.patch(path, change, MERGE)
    headers = {"Content-Type": MERGE, "Accept": PROTOBUF}
    in_protobuf = upstream.request("PATCH", path, json=change, headers=headers)
    assert (as_json.status_code, in_protobuf.status_code) == (422, 422)
    assert in_protobuf.headers["Content-Type"] == PROTOBUF
    status = as_json.json()
    assert list(status) == [
        "kind",
        "apiVersion",
        "metadata",
        "status",
        "message",
        "reason",
        "details",
        "code",
    ]
    decoded = decode_object(in_protobuf.content)
    for field in ("kind", "apiVersion", "status", "message", "reason", "code"):
        assert decoded[field] == status[field], field
    assert decoded["details"]["causes"] == status["details"]["causes"]


def test_every_namespace_gets_the_root_ca_config_map(
    upstream: ClusterClient, apiserver: BackgroundAPIServer
) -> None:
    assert apiserver.ca_file is not None
    ca_pem = apiserver.ca_file.read_text()
    assert upstream.post("/api/v1/namespaces", {"metadata": {"name": "with-ca"}}).status_code == 201
    for namespace in ("default", "kube-system", "with-ca"):
        found = upstream.get(f"/api/v1/namespaces/{namespace}/configmaps/kube-root-ca.crt")
        assert found.status_code == 200, namespace
        config_map = found.json()
        assert config_map["data"] == {"ca.crt": ca_pem}
        assert config_map["metadata"]["annotations"]["kubernetes.io/description"].startswith(
            "Contains a CA bundle that can be used to verify the kube-apiserver"
        )
        accounts = upstream.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default")
        assert accounts.status_code == 200


def test_list_items_carry_no_type_meta(upstream: ClusterClient) -> None:
    """As a real server encodes a typed list: the list says what its items are."""
    listed = upstream.get(f"{NS}/configmaps").json()
    assert (listed["kind"], listed["apiVersion"]) == ("ConfigMapList", "v1")
    assert listed["items"]
    assert all("kind" not in item and "apiVersion" not in item for item in listed["items"])
    one = upstream.get(f"{NS}/configmaps/kube-root-ca.crt").json()
    assert (one["kind"], one["apiVersion"]) == ("ConfigMap", "v1")
