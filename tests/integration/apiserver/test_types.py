"""Every type the server promises, over HTTP: discovery, CRUD, list, watch and `/status`.

The table is written from the issues' type lists and from Kubernetes 1.32 (which types have a
`status` or `scale` subresource), not from `resources.py`, so a type dropped or served wrong
there fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_syncer.harness.waiting import wait_until
from tests.integration.apiserver.clients import ClusterClient

MERGE = "application/merge-patch+json"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
RULES = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]
CONTAINERS = [{"name": "c", "image": "busybox"}]
TEMPLATE = {"metadata": {"labels": {"app": "t"}}, "spec": {"containers": CONTAINERS}}
WORKLOAD_SPEC = {"selector": {"matchLabels": {"app": "t"}}, "template": TEMPLATE}
JOB_TEMPLATE = {"spec": {"restartPolicy": "Never", "containers": CONTAINERS}}
LOAD_BALANCER = {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}


class Case:
    """One type: where it lives, a valid body, a change, and its subresources."""

    def __init__(
        self,
        group_version: str,
        resource: str,
        kind: str,
        body: dict[str, Any],
        change: dict[str, Any],
        *,
        namespaced: bool = True,
        status: dict[str, Any] | None = None,
        scale: bool = False,
        token: bool = False,
    ) -> None:
        self.group_version = group_version
        self.resource = resource
        self.kind = kind
        self.body = body
        self.change = change
        self.namespaced = namespaced
        self.status = status
        self.subresources = {"status"} if status is not None else set()
        if scale:
            self.subresources.add("scale")
        if token:
            self.subresources.add("token")

    @property
    def collection(self) -> str:
        namespace = "/namespaces/default" if self.namespaced else ""
        return f"{self.group_version}{namespace}/{self.resource}"


CASES = [
    # Issue 2: the core types.
    Case("/api/v1", "namespaces", "Namespace", {}, {"metadata": {"labels": {"a": "b"}}},
         namespaced=False, status={"phase": "Active"}),
    Case("/api/v1", "configmaps", "ConfigMap", {"data": {"a": "b"}}, {"data": {"a": "c"}}),
    Case("/api/v1", "secrets", "Secret", {"data": {"a": "Yg=="}}, {"data": {"a": "Yw=="}}),
    Case("/api/v1", "services", "Service", {"spec": {"ports": [{"port": 80}]}},
         {"spec": {"selector": {"app": "t"}}}, status=LOAD_BALANCER),
    Case("/api/v1", "serviceaccounts", "ServiceAccount", {},
         {"automountServiceAccountToken": False}, token=True),
    Case("/api/v1", "endpoints", "Endpoints", {"subsets": []},
         {"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]}),
    Case("/api/v1", "pods", "Pod", {"spec": {"containers": CONTAINERS}},
         {"metadata": {"labels": {"a": "b"}}}, status={"phase": "Running"}),
    Case("/api/v1", "events", "Event",
         {"involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
          "reason": "Tested", "message": "one", "type": "Normal"},
         {"message": "two"}),
    Case("/api/v1", "persistentvolumeclaims", "PersistentVolumeClaim",
         {"spec": {"accessModes": ["ReadWriteOnce"],
                   "resources": {"requests": {"storage": "1Gi"}}}},
         {"metadata": {"labels": {"a": "b"}}}, status={"phase": "Bound"}),
    Case("/apis/apps/v1", "deployments", "Deployment", {"spec": WORKLOAD_SPEC},
         {"spec": {"replicas": 2}}, status={"replicas": 1}, scale=True),
    Case("/apis/apps/v1", "replicasets", "ReplicaSet", {"spec": WORKLOAD_SPEC},
         {"spec": {"replicas": 2}}, status={"replicas": 1}, scale=True),
    Case("/apis/apps/v1", "statefulsets", "StatefulSet",
         {"spec": {**WORKLOAD_SPEC, "serviceName": "t"}},
         {"spec": {"replicas": 2}}, status={"replicas": 1}, scale=True),
    Case("/apis/apps/v1", "daemonsets", "DaemonSet", {"spec": WORKLOAD_SPEC},
         {"spec": {"minReadySeconds": 5}},
         status={"currentNumberScheduled": 1, "desiredNumberScheduled": 1,
                 "numberMisscheduled": 0, "numberReady": 1}),
    Case("/apis/batch/v1", "jobs", "Job", {"spec": {"template": JOB_TEMPLATE}},
         {"spec": {"parallelism": 2}}, status={"active": 1}),
    Case("/apis/networking.k8s.io/v1", "ingresses", "Ingress",
         {"spec": {"defaultBackend": {"service": {"name": "s", "port": {"number": 80}}}}},
         {"spec": {"ingressClassName": "nginx"}}, status=LOAD_BALANCER),
    Case("/apis/coordination.k8s.io/v1", "leases", "Lease", {"spec": {"holderIdentity": "a"}},
         {"spec": {"holderIdentity": "b"}}),
    Case("/apis/workload.kcp.io/v1alpha1", "synctargets", "SyncTarget", {"spec": {}},
         {"spec": {"unschedulable": True}}, namespaced=False,
         status={"lastSyncerHeartbeatTime": "2026-01-01T00:00:00Z"}),
    Case("/apis/workload.kcp.io/v1alpha1", "syncstatuses", "SyncStatus",
         {"spec": {"target": {"name": "t", "key": "k"}}}, {"spec": {"target": {"key": "k2"}}},
         status={"phase": "Synced"}),
    # Issue 3: stored and served.
    Case("/apis/networking.k8s.io/v1", "networkpolicies", "NetworkPolicy",
         {"spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
         {"spec": {"podSelector": {"matchLabels": {"app": "web"}}}}),
    Case("/apis/batch/v1", "cronjobs", "CronJob",
         {"spec": {"schedule": "*/5 * * * *",
                   "jobTemplate": {"spec": {"template": JOB_TEMPLATE}}}},
         {"spec": {"schedule": "0 * * * *"}}, status={"lastScheduleTime": "2026-01-01T00:00:00Z"}),
    Case(RBAC, "roles", "Role", {"rules": RULES}, {"rules": []}),
    Case(RBAC, "rolebindings", "RoleBinding",
         {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
          "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}]},
         {"subjects": []}),
    Case(RBAC, "clusterroles", "ClusterRole", {"rules": RULES}, {"rules": []}, namespaced=False),
    Case(RBAC, "clusterrolebindings", "ClusterRoleBinding",
         {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                      "name": "c"},
          "subjects": [{"kind": "User", "name": "someone"}]},
         {"subjects": []}, namespaced=False),
    # Issue 16, item 2: the rest of what a cluster serves.
    Case("/api/v1", "nodes", "Node", {"spec": {"podCIDR": "10.9.0.0/24"}},
         {"spec": {"unschedulable": True}}, namespaced=False,
         status={"capacity": {"cpu": "2"}}),
    Case("/api/v1", "replicationcontrollers", "ReplicationController",
         {"spec": {"selector": {"app": "t"}, "template": TEMPLATE}}, {"spec": {"replicas": 2}},
         status={"replicas": 1}),
    Case("/api/v1", "resourcequotas", "ResourceQuota", {"spec": {"hard": {"pods": "4"}}},
         {"metadata": {"labels": {"a": "b"}}}, status={"hard": {"pods": "4"}}),
    Case("/api/v1", "limitranges", "LimitRange",
         {"spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}}]}},
         {"spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}}]}}),
    Case("/api/v1", "podtemplates", "PodTemplate", {"template": TEMPLATE},
         {"metadata": {"labels": {"a": "b"}}}),
    Case("/api/v1", "persistentvolumes", "PersistentVolume",
         {"spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                   "hostPath": {"path": "/tmp/pv"}}},
         {"spec": {"persistentVolumeReclaimPolicy": "Delete"}}, namespaced=False,
         status={"phase": "Available"}),
    Case("/apis/discovery.k8s.io/v1", "endpointslices", "EndpointSlice",
         {"addressType": "IPv4", "endpoints": []},
         {"endpoints": [{"addresses": ["10.0.0.1"]}]}),
    Case("/apis/policy/v1", "poddisruptionbudgets", "PodDisruptionBudget",
         {"spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "t"}}}},
         {"spec": {"minAvailable": 2}},
         status={"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 1,
                 "expectedPods": 0}),
    Case("/apis/scheduling.k8s.io/v1", "priorityclasses", "PriorityClass", {"value": 100},
         {"description": "changed"}, namespaced=False),
    Case("/apis/autoscaling/v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler",
         {"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                      "name": "d"}, "maxReplicas": 3}},
         {"spec": {"maxReplicas": 4}}, status={"currentReplicas": 1, "desiredReplicas": 1}),
    Case("/apis/apps/v1", "controllerrevisions", "ControllerRevision", {"revision": 1},
         {"metadata": {"labels": {"a": "b"}}}),
    Case("/apis/storage.k8s.io/v1", "storageclasses", "StorageClass", {"provisioner": "x"},
         {"metadata": {"labels": {"a": "b"}}}, namespaced=False),
    Case("/apis/apiregistration.k8s.io/v1", "apiservices", "APIService",
         {"spec": {"group": "example.com", "version": "v1", "groupPriorityMinimum": 100,
                   "versionPriority": 10}},
         {"spec": {"versionPriority": 20}}, namespaced=False,
         status={"conditions": [{"type": "Available", "status": "False",
                                 "reason": "Tested", "message": "by the test"}]}),
]  # fmt: skip


def _watched_types(client: ClusterClient, case: Case, name: str, revision: str) -> list[str]:
    params = {
        "watch": "1",
        "resourceVersion": revision,
        "fieldSelector": f"metadata.name={name}",
        "timeoutSeconds": "10",
    }
    seen: list[str] = []
    with client.get(case.collection, params=params, stream=True) as response:
        assert response.status_code == 200, response.text
        for line in response.iter_lines():
            if line:
                seen.append(json.loads(line)["type"])
            if seen[-1:] == ["DELETED"]:
                break
    return seen


@pytest.mark.parametrize("case", CASES, ids=[case.resource for case in CASES])
def test_every_promised_type_is_served(upstream: ClusterClient, case: Case) -> None:
    discovered = {
        item["name"]: item for item in upstream.get(case.group_version).json()["resources"]
    }
    entry = discovered[case.resource]
    assert (entry["kind"], entry["namespaced"]) == (case.kind, case.namespaced)
    subresources = {
        name.split("/", 1)[1] for name in discovered if name.startswith(f"{case.resource}/")
    }
    assert subresources == case.subresources

    name = f"typed-{case.resource}"
    revision = upstream.get(case.collection).json()["metadata"]["resourceVersion"]
    created = upstream.post(case.collection, {"metadata": {"name": name}, **case.body})
    assert created.status_code == 201, created.text
    assert (created.json()["kind"], created.json()["metadata"]["name"]) == (case.kind, name)
    assert upstream.get(f"{case.collection}/{name}").json()["metadata"]["uid"]
    patched = upstream.patch(f"{case.collection}/{name}", case.change, MERGE)
    assert patched.status_code == 200, patched.text
    assert (
        patched.json()["metadata"]["resourceVersion"]
        != created.json()["metadata"]["resourceVersion"]
    )
    if case.status is not None:
        written = upstream.patch(f"{case.collection}/{name}/status", {"status": case.status}, MERGE)
        assert written.status_code == 200, written.text
        stored = upstream.get(f"{case.collection}/{name}/status").json()["status"]
        assert stored.items() >= case.status.items(), stored
    listed = upstream.get(case.collection).json()
    assert listed["kind"] == f"{case.kind}List"
    assert name in [item["metadata"]["name"] for item in listed["items"]]
    assert upstream.delete(f"{case.collection}/{name}").status_code == 200
    wait_until(
        lambda: upstream.get(f"{case.collection}/{name}").status_code,
        lambda code: code == 404,
        what=f"{case.resource}/{name} to be gone after its DELETE",
    )
    seen = _watched_types(upstream, case, name, revision)
    assert (seen[0], seen[-1]) == ("ADDED", "DELETED"), seen
    assert "MODIFIED" in seen, seen


def test_reviews_are_create_only(upstream: ClusterClient) -> None:
    """As Kubernetes 1.32 lists them."""
    authentication = upstream.get("/apis/authentication.k8s.io/v1").json()["resources"]
    assert sorted((entry["name"], entry["verbs"]) for entry in authentication) == [
        ("selfsubjectreviews", ["create"]),
        ("tokenreviews", ["create"]),
    ]
    authorization = upstream.get("/apis/authorization.k8s.io/v1").json()["resources"]
    assert sorted((entry["name"], entry["verbs"]) for entry in authorization) == [
        ("localsubjectaccessreviews", ["create"]),
        ("selfsubjectaccessreviews", ["create"]),
        ("selfsubjectrulesreviews", ["create"]),
        ("subjectaccessreviews", ["create"]),
    ]


def test_rbac_objects_are_validated_not_enforced(upstream: ClusterClient) -> None:
    bad = {"metadata": {"name": "bad"}, "roleRef": {"kind": "Nope", "name": ""}}
    refused = upstream.post(f"{RBAC}/namespaces/default/rolebindings", bad)
    assert refused.status_code == 422
    deny_all = {"metadata": {"name": "nothing"}, "rules": []}
    assert upstream.post(f"{RBAC}/clusterroles", deny_all).status_code == 201
    assert upstream.get("/api/v1/namespaces/default/configmaps").status_code == 200
