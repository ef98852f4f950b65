"""``metadata.generation`` per kind, through HTTP: only where the real registry keeps one.

The table is written from kubernetes/kubernetes v1.32, ``pkg/registry/<group>/<kind>/strategy.go``:
``PrepareForCreate`` sets ``Generation = 1`` and ``PrepareForUpdate`` adds one when ``Spec``
changes for ReplicaSet, StatefulSet, DaemonSet, ReplicationController, Job, CronJob, Ingress,
NetworkPolicy and PodDisruptionBudget; when ``Spec`` or the annotations change for Deployment;
when ``Template`` changes for PodTemplate; when anything but metadata, or the labels, change for
EndpointSlice. Every other kind's strategy leaves generation alone, so ``rest.BeforeCreate``
(``staging/src/k8s.io/apiserver/pkg/registry/rest/create.go``) stores what the client sent and
``rest.BeforeUpdate`` ("Ensure requests cannot update generation") keeps the old value.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.apiserver.clients import ClusterClient
from tests.integration.apiserver.test_kinds import (
    APPS,
    BATCH,
    MERGE,
    NET,
    NS,
    SELECTOR,
    STRATEGIC,
    TEMPLATE,
    minimal_body,
)

POLICY = "/apis/policy/v1/namespaces/default"
DISCOVERY = "/apis/discovery.k8s.io/v1/namespaces/default"
COORDINATION = "/apis/coordination.k8s.io/v1/namespaces/default"
RBAC = "/apis/rbac.authorization.k8s.io/v1/namespaces/default"
LABEL_ONLY = {"metadata": {"labels": {"touched": "yes"}}}
ANNOTATION_ONLY = {"metadata": {"annotations": {"touched": "yes"}}}


def _body(api_version: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, **fields}


def _kinds_body(kind: str) -> dict[str, Any]:
    body = minimal_body(kind, "x")
    del body["metadata"]
    return body


# name: (collection, body without metadata, a merge patch that changes what the kind compares)
KEPT: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "Deployment": (f"{APPS}/deployments", _kinds_body("deployment"), {"spec": {"replicas": 2}}),
    "ReplicaSet": (f"{APPS}/replicasets", _kinds_body("replicaset"), {"spec": {"replicas": 2}}),
    "StatefulSet": (f"{APPS}/statefulsets", _kinds_body("statefulset"), {"spec": {"replicas": 2}}),
    "DaemonSet": (f"{APPS}/daemonsets", _kinds_body("daemonset"), {"spec": {"minReadySeconds": 5}}),
    "Job": (f"{BATCH}/jobs", _kinds_body("job"), {"spec": {"parallelism": 2}}),
    "CronJob": (f"{BATCH}/cronjobs", _kinds_body("cronjob"), {"spec": {"schedule": "1 * * * *"}}),
    "NetworkPolicy": (
        f"{NET}/networkpolicies",
        _kinds_body("networkpolicy"),
        {"spec": {"podSelector": {"matchLabels": {"app": "y"}}}},
    ),
    "Ingress": (
        f"{NET}/ingresses",
        _body(
            "networking.k8s.io/v1",
            "Ingress",
            spec={"defaultBackend": {"service": {"name": "s", "port": {"number": 80}}}},
        ),
        {"spec": {"defaultBackend": {"service": {"name": "s", "port": {"number": 81}}}}},
    ),
    "PodDisruptionBudget": (
        f"{POLICY}/poddisruptionbudgets",
        _body("policy/v1", "PodDisruptionBudget", spec={"minAvailable": 1, "selector": SELECTOR}),
        {"spec": {"minAvailable": 2}},
    ),
    "ReplicationController": (
        f"{NS}/replicationcontrollers",
        _body("v1", "ReplicationController", spec={"selector": {"app": "x"}, "template": TEMPLATE}),
        {"spec": {"replicas": 2}},
    ),
    "PodTemplate": (
        f"{NS}/podtemplates",
        _body("v1", "PodTemplate", template=TEMPLATE),
        {"template": {"metadata": {"labels": {"app": "y"}}}},
    ),
    "EndpointSlice": (
        f"{DISCOVERY}/endpointslices",
        _body(
            "discovery.k8s.io/v1",
            "EndpointSlice",
            addressType="IPv4",
            endpoints=[{"addresses": ["10.0.0.1"]}],
        ),
        {"endpoints": [{"addresses": ["10.0.0.2"]}]},
    ),
}
# name: (collection, body without metadata, a merge patch that changes its content)
NOT_KEPT: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "ConfigMap": (
        f"{NS}/configmaps",
        _body("v1", "ConfigMap", data={"a": "1"}),
        {"data": {"a": "2"}},
    ),
    "Secret": (f"{NS}/secrets", _kinds_body("secret"), {"data": {"k": "dw=="}}),
    "Service": (
        f"{NS}/services",
        _kinds_body("service"),
        {"spec": {"sessionAffinity": "ClientIP"}},
    ),
    "ServiceAccount": (
        f"{NS}/serviceaccounts",
        _body("v1", "ServiceAccount"),
        {"automountServiceAccountToken": False},
    ),
    "Pod": (f"{NS}/pods", _kinds_body("pod"), {"spec": {"activeDeadlineSeconds": 60}}),
    "Lease": (
        f"{COORDINATION}/leases",
        _body("coordination.k8s.io/v1", "Lease", spec={"holderIdentity": "a"}),
        {"spec": {"holderIdentity": "b"}},
    ),
    "Role": (
        f"{RBAC}/roles",
        _body("rbac.authorization.k8s.io/v1", "Role", rules=[]),
        {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
    ),
}


def _created(client: ClusterClient, collection: str, body: dict[str, Any], name: str) -> Any:
    answer = client.post(collection, {**body, "metadata": {"name": name}})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _patched(client: ClusterClient, path: str, patch: dict[str, Any]) -> Any:
    answer = client.patch(path, patch, MERGE)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("kind", sorted(KEPT))
def test_kinds_with_a_generation_start_at_one_and_bump_on_their_field(
    upstream: ClusterClient, kind: str
) -> None:
    collection, body, change = KEPT[kind]
    name = f"gen-{kind.lower()}"
    assert _created(upstream, collection, body, name)["metadata"].get("generation") == 1
    path = f"{collection}/{name}"
    labelled = _patched(upstream, path, LABEL_ONLY)["metadata"].get("generation")
    bumped = _patched(upstream, path, change)["metadata"].get("generation")
    expected_after_label = 2 if kind == "EndpointSlice" else 1
    assert (labelled, bumped) == (expected_after_label, expected_after_label + 1)


@pytest.mark.parametrize("kind", sorted(KEPT))
def test_only_a_deployment_bumps_on_an_annotation(upstream: ClusterClient, kind: str) -> None:
    collection, body, _ = KEPT[kind]
    name = f"annotated-{kind.lower()}"
    _created(upstream, collection, body, name)
    annotated = _patched(upstream, f"{collection}/{name}", ANNOTATION_ONLY)
    assert annotated["metadata"].get("generation") == (2 if kind == "Deployment" else 1)


@pytest.mark.parametrize("kind", sorted(NOT_KEPT))
def test_other_kinds_carry_no_generation(upstream: ClusterClient, kind: str) -> None:
    collection, body, change = NOT_KEPT[kind]
    name = f"nogen-{kind.lower()}"
    created = _created(upstream, collection, body, name)
    changed = _patched(upstream, f"{collection}/{name}", change)
    assert "generation" not in created["metadata"], created["metadata"]
    assert "generation" not in changed["metadata"], changed["metadata"]


def test_namespaces_carry_no_generation(upstream: ClusterClient) -> None:
    created = upstream.post("/api/v1/namespaces", {"metadata": {"name": "nogen"}}).json()
    relabelled = _patched(upstream, "/api/v1/namespaces/nogen", LABEL_ONLY)
    assert "generation" not in created["metadata"]
    assert "generation" not in relabelled["metadata"]


def test_a_sent_generation_is_stored_only_where_no_rule_sets_one(upstream: ClusterClient) -> None:
    """A ConfigMap keeps the generation its create carried (BeforeCreate leaves it) and no
    update moves it (BeforeUpdate); a Deployment's create starts at 1 whatever was sent."""
    config_map = {"metadata": {"name": "sent-gen", "generation": 7}, "data": {"a": "1"}}
    created = upstream.post(f"{NS}/configmaps", config_map).json()
    path = f"{NS}/configmaps/sent-gen"
    resent = {**config_map, "metadata": {"name": "sent-gen", "generation": 9}, "data": {"a": "2"}}
    replaced = upstream.put(path, resent).json()
    patched = upstream.patch(path, {"metadata": {"generation": 11}}, STRATEGIC).json()
    generations = [obj["metadata"].get("generation") for obj in (created, replaced, patched)]
    assert generations == [7, 7, 7]
    deployment = minimal_body("deployment", "sent-gen")
    deployment["metadata"]["generation"] = 7
    assert upstream.post(f"{APPS}/deployments", deployment).json()["metadata"]["generation"] == 1
    bumped = upstream.patch(
        f"{APPS}/deployments/sent-gen",
        {"metadata": {"generation": 40}, "spec": {"replicas": 3}},
        MERGE,
    ).json()
    assert bumped["metadata"]["generation"] == 2
