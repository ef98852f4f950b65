"""Server-side Tables: the real printers' columns, cells and kubectl's age format, per kind."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from pytest_syncer.apiserver.http.printing.formatting import human_duration
from pytest_syncer.apiserver.http.printing.jsonpath import json_path
from pytest_syncer.apiserver.http.printing.table import to_table

NOW = datetime.datetime(2026, 1, 10, 12, 0, 0, tzinfo=datetime.UTC)


def ago(**delta: float) -> str:
    return (NOW - datetime.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str = "x", **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "creationTimestamp": ago(minutes=5), **extra}


def table(kind: str, *objects: dict[str, Any], **options: Any) -> dict[str, Any]:
    return to_table(kind, list(objects), now=NOW, **options)


def columns(result: dict[str, Any], wide: bool = False) -> list[str]:
    return [c["name"] for c in result["columnDefinitions"] if wide or c["priority"] == 0]


def cells(result: dict[str, Any], index: int = 0) -> list[Any]:
    found: list[Any] = result["rows"][index]["cells"]
    return found


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-3, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (5, "5s"),
        (119, "119s"),
        (120, "2m"),
        (182, "3m2s"),
        (599, "9m59s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 60, "3h1m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (51 * 3600, "2d3h"),
        (8 * 86400, "8d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        (740 * 86400, "2y10d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_ages_read_like_kubectl(seconds, text):
    assert human_duration(seconds) == text


def test_table_shape_and_include_object():
    obj = {"metadata": meta("cm", uid="u1"), "data": {"a": "1"}}
    result = table("ConfigMap", obj)
    assert result["kind"] == "Table"
    assert result["apiVersion"] == "meta.k8s.io/v1"
    assert result["columnDefinitions"][0] == {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": "Name must be unique within a namespace.",
        "priority": 0,
    }
    assert result["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj["metadata"],
    }
    assert table("ConfigMap", obj, include_object="Object")["rows"][0]["object"] == obj
    assert "object" not in table("ConfigMap", obj, include_object="None")["rows"][0]
    assert table("ConfigMap", obj, include_columns=False)["columnDefinitions"] == []
    listed = table("ConfigMap", obj, list_metadata={"resourceVersion": "7"})
    assert listed["metadata"] == {"resourceVersion": "7"}
    assert table("ConfigMap")["rows"] == []
    with pytest.raises(ValueError, match="includeObject must be one of"):
        table("ConfigMap", obj, include_object="All")


def pod(**status: Any) -> dict[str, Any]:
    return {
        "metadata": meta("web-1"),
        "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "node-1"},
        "status": {"phase": "Running", "podIP": "10.0.0.5", **status},
    }


def running(name: str, ready: bool = True, restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ago(minutes=4)}},
        **extra,
    }


def test_pod_columns_and_running_row():
    result = table("Pod", pod(containerStatuses=[running("a"), running("b", ready=False)]))
    assert columns(result) == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert columns(result, wide=True)[5:] == ["IP", "Node", "Nominated Node", "Readiness Gates"]
    assert cells(result) == [
        "web-1",
        "1/2",
        "Running",
        "0",
        "5m",
        "10.0.0.5",
        "node-1",
        "<none>",
        "<none>",
    ]


def test_pod_restarts_say_when():
    finished = {"terminated": {"exitCode": 1, "finishedAt": ago(minutes=3)}}
    statuses = [running("a", restarts=2, lastState=finished), running("b")]
    assert cells(table("Pod", pod(containerStatuses=statuses)))[3] == "2 (3m ago)"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            {
                "containerStatuses": [
                    {"name": "a", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
                ]
            },
            "CrashLoopBackOff",
        ),
        (
            {
                "phase": "Succeeded",
                "containerStatuses": [
                    {"name": "a", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}
                ],
            },
            "Completed",
        ),
        (
            {"containerStatuses": [{"name": "a", "state": {"terminated": {"exitCode": 3}}}]},
            "ExitCode:3",
        ),
        ({"phase": "Pending", "containerStatuses": []}, "Pending"),
        ({"phase": "Failed", "reason": "Evicted"}, "Evicted"),
        (
            {
                "phase": "Pending",
                "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
                ],
            },
            "SchedulingGated",
        ),
    ],
)
def test_pod_status_column(status, expected):
    obj = pod(**status)
    assert cells(table("Pod", obj))[2] == expected


def test_pod_init_and_terminating():
    initializing = pod(
        phase="Pending", initContainerStatuses=[{"name": "init", "state": {"running": {}}}]
    )
    initializing["spec"]["initContainers"] = [{"name": "init"}]
    assert cells(table("Pod", initializing))[2] == "Init:0/1"
    deleting = pod(containerStatuses=[running("a"), running("b")])
    deleting["metadata"]["deletionTimestamp"] = ago(seconds=1)
    assert cells(table("Pod", deleting))[1:3] == ["2/2", "Terminating"]


def test_pod_without_status_reads_pending():
    bare = {"metadata": meta("p"), "spec": {"containers": [{"name": "a"}]}}
    assert cells(table("Pod", bare))[:5] == ["p", "0/1", "Pending", "0", "5m"]


def workload_spec() -> dict[str, Any]:
    return {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1"},
                    {"name": "log", "image": "busybox"},
                ]
            }
        },
    }


def test_deployment_row():
    obj = {
        "metadata": meta("web"),
        "spec": workload_spec(),
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    result = table("Deployment", obj)
    assert columns(result) == ["Name", "Ready", "Up-to-date", "Available", "Age"]
    assert cells(result) == ["web", "2/3", 3, 2, "5m", "web,log", "nginx:1,busybox", "app=web"]


def test_replicaset_statefulset_daemonset_rows():
    status = {"replicas": 3, "readyReplicas": 1}
    replica_set = table(
        "ReplicaSet", {"metadata": meta("rs"), "spec": workload_spec(), "status": status}
    )
    assert columns(replica_set) == ["Name", "Desired", "Current", "Ready", "Age"]
    assert cells(replica_set)[:5] == ["rs", 3, 3, 1, "5m"]
    stateful = table(
        "StatefulSet", {"metadata": meta("db"), "spec": workload_spec(), "status": status}
    )
    assert columns(stateful) == ["Name", "Ready", "Age"]
    assert cells(stateful) == ["db", "1/3", "5m", "web,log", "nginx:1,busybox"]
    daemon_spec = workload_spec()
    daemon_spec["template"]["spec"]["nodeSelector"] = {"zone": "a", "disk": "ssd"}
    daemon_status = {
        "desiredNumberScheduled": 4,
        "currentNumberScheduled": 4,
        "numberReady": 3,
        "updatedNumberScheduled": 4,
        "numberAvailable": 3,
    }
    daemon = table(
        "DaemonSet", {"metadata": meta("ds"), "spec": daemon_spec, "status": daemon_status}
    )
    assert columns(daemon) == [
        "Name",
        "Desired",
        "Current",
        "Ready",
        "Up-to-date",
        "Available",
        "Node Selector",
        "Age",
    ]
    assert cells(daemon)[:8] == ["ds", 4, 4, 3, 4, 3, "disk=ssd,zone=a", "5m"]


def test_job_rows():
    spec = {"completions": 2, "template": workload_spec()["template"]}
    done = {
        "metadata": meta("j"),
        "spec": spec,
        "status": {
            "succeeded": 2,
            "startTime": ago(minutes=5),
            "completionTime": ago(minutes=3, seconds=58),
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    }
    result = table("Job", done)
    assert columns(result) == ["Name", "Status", "Completions", "Duration", "Age"]
    assert cells(result)[:5] == ["j", "Complete", "2/2", "62s", "5m"]
    active = {
        "metadata": meta("k"),
        "spec": {"parallelism": 3},
        "status": {"startTime": ago(seconds=30)},
    }
    assert cells(table("Job", active))[:4] == ["k", "Running", "0/1 of 3", "30s"]
    failed = {
        "metadata": meta("f"),
        "status": {"conditions": [{"type": "Failed", "status": "True"}]},
    }
    assert cells(table("Job", failed))[1:4] == ["Failed", "0/1", ""]


def test_cronjob_row():
    obj = {
        "metadata": meta("c"),
        "spec": {"schedule": "*/5 * * * *", "suspend": False, "jobTemplate": {"spec": {}}},
        "status": {"active": [{"name": "c-1"}], "lastScheduleTime": ago(minutes=2)},
    }
    result = table("CronJob", obj)
    assert columns(result) == [
        "Name",
        "Schedule",
        "Timezone",
        "Suspend",
        "Active",
        "Last Schedule",
        "Age",
    ]
    assert cells(result)[:7] == ["c", "*/5 * * * *", "<none>", "False", 1, "2m", "5m"]


@pytest.mark.parametrize(
    ("spec", "status", "expected"),
    [
        (
            {
                "clusterIP": "10.96.0.10",
                "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                "selector": {"app": "web"},
            },
            {},
            ["svc", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP", "5m", "app=web"],
        ),
        (
            {
                "type": "NodePort",
                "clusterIPs": ["10.96.0.11"],
                "ports": [{"port": 80, "nodePort": 30080}],
            },
            {},
            ["svc", "NodePort", "10.96.0.11", "<none>", "80:30080/TCP", "5m", "<none>"],
        ),
        (
            {"type": "LoadBalancer", "ports": [{"port": 443}]},
            {},
            ["svc", "LoadBalancer", "<none>", "<pending>", "443/TCP", "5m", "<none>"],
        ),
        (
            {"type": "LoadBalancer", "ports": [{"port": 443}], "externalIPs": ["1.2.3.4"]},
            {"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}, {"hostname": "lb.example"}]}},
            [
                "svc",
                "LoadBalancer",
                "<none>",
                "5.6.7.8,lb.example,1.2.3.4",
                "443/TCP",
                "5m",
                "<none>",
            ],
        ),
        (
            {"type": "ExternalName", "externalName": "db.example.com"},
            {},
            ["svc", "ExternalName", "<none>", "db.example.com", "<none>", "5m", "<none>"],
        ),
    ],
)
def test_service_rows(spec, status, expected):
    result = table("Service", {"metadata": meta("svc"), "spec": spec, "status": status})
    assert columns(result) == ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"]
    assert cells(result) == expected


def test_simple_kinds():
    namespace = table("Namespace", {"metadata": meta("ns"), "status": {"phase": "Terminating"}})
    assert columns(namespace) == ["Name", "Status", "Age"]
    assert cells(namespace) == ["ns", "Terminating", "5m"]
    configmap = table(
        "ConfigMap", {"metadata": meta("cm"), "data": {"a": "", "b": ""}, "binaryData": {"c": ""}}
    )
    assert (columns(configmap), cells(configmap)) == (["Name", "Data", "Age"], ["cm", 3, "5m"])
    secret = table("Secret", {"metadata": meta("s"), "data": {"k": "dg=="}})
    assert (columns(secret), cells(secret)) == (
        ["Name", "Type", "Data", "Age"],
        ["s", "Opaque", 1, "5m"],
    )
    account = table("ServiceAccount", {"metadata": meta("default")})
    assert (columns(account), cells(account)) == (["Name", "Secrets", "Age"], ["default", 0, "5m"])
    lease = table("Lease", {"metadata": meta("l"), "spec": {"holderIdentity": "me"}})
    assert (columns(lease), cells(lease)) == (["Name", "Holder", "Age"], ["l", "me", "5m"])
    policy = table("NetworkPolicy", {"metadata": meta("np"), "spec": {"podSelector": {}}})
    assert (columns(policy), cells(policy)) == (
        ["Name", "Pod-Selector", "Age"],
        ["np", "<none>", "5m"],
    )


def test_endpoints_are_listed_up_to_three():
    subsets = [{"addresses": [{"ip": f"10.0.0.{n}"} for n in range(1, 5)], "ports": [{"port": 80}]}]
    result = table("Endpoints", {"metadata": meta("svc"), "subsets": subsets})
    assert cells(result) == ["svc", "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...", "5m"]
    assert cells(table("Endpoints", {"metadata": meta("e")}))[1] == "<none>"


def test_event_row():
    event = {
        "metadata": meta("web.1"),
        "type": "Warning",
        "reason": "BackOff",
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{a}"},
        "source": {"component": "kubelet", "host": "node-1"},
        "message": "Back-off restarting failed container ",
        "firstTimestamp": ago(minutes=10),
        "lastTimestamp": ago(seconds=30),
        "count": 4,
    }
    result = table("Event", event)
    assert columns(result) == ["Last Seen", "Type", "Reason", "Object", "Message"]
    assert cells(result) == [
        "30s",
        "Warning",
        "BackOff",
        "pod/web-1",
        "spec.containers{a}",
        "kubelet, node-1",
        "Back-off restarting failed container",
        "10m",
        4,
        "web.1",
    ]


def test_pvc_and_ingress_rows():
    pvc = {
        "metadata": meta("data"),
        "spec": {"volumeName": "pv-1", "storageClassName": "standard"},
        "status": {
            "phase": "Bound",
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
        },
    }
    result = table("PersistentVolumeClaim", pvc)
    assert columns(result) == [
        "Name",
        "Status",
        "Volume",
        "Capacity",
        "Access Modes",
        "StorageClass",
        "VolumeAttributesClass",
        "Age",
    ]
    assert cells(result) == [
        "data",
        "Bound",
        "pv-1",
        "1Gi",
        "RWO,RWX",
        "standard",
        "<unset>",
        "5m",
        "<unset>",
    ]
    ingress = {
        "metadata": meta("ing"),
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "a.example"}, {}], "tls": [{}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "1.1.1.1"}]}},
    }
    result = table("Ingress", ingress)
    assert columns(result) == ["Name", "Class", "Hosts", "Address", "Ports", "Age"]
    assert cells(result) == ["ing", "nginx", "a.example", "1.1.1.1", "80, 443", "5m"]


def test_rbac_rows():
    binding = {
        "metadata": meta("rb"),
        "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "sa", "namespace": "ns"},
        ],
    }
    assert cells(table("RoleBinding", binding)) == [
        "rb",
        "ClusterRole/view",
        "5m",
        "alice",
        "devs",
        "ns/sa",
    ]
    role = table("Role", {"metadata": {"name": "r", "creationTimestamp": "2026-01-01T00:00:00Z"}})
    assert columns(role) == ["Name", "Created At"]
    assert cells(role) == ["r", "2026-01-01T00:00:00Z"]


def test_unknown_kinds_get_name_and_age():
    result = table("SyncTarget", {"metadata": meta("us-east1")}, {"metadata": {"name": "new"}})
    assert columns(result) == ["Name", "Age"]
    assert cells(result) == ["us-east1", "5m"]
    assert cells(result, 1) == ["new", "<unknown>"]


def test_crd_printer_columns():
    printer_columns = [
        {
            "name": "Ready",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        },
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
        {"name": "Hosts", "type": "string", "jsonPath": ".spec.hosts[*]", "priority": 1},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        {"name": "Missing", "type": "string", "jsonPath": ".spec.nothing"},
    ]
    obj = {
        "metadata": meta("w"),
        "spec": {"replicas": 2, "hosts": ["a", "b"]},
        "status": {
            "conditions": [
                {"type": "Synced", "status": "False"},
                {"type": "Ready", "status": "True"},
            ]
        },
    }
    result = table("Widget", obj, printer_columns=printer_columns)
    assert columns(result) == ["Name", "Ready", "Replicas", "Age", "Missing"]
    assert cells(result) == ["w", "True", 2, "a,b", "5m", None]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".a.b", [1]),
        ("{.a.b}", [1]),
        (".list[1].n", ["y"]),
        (".list[*].n", ["x", "y"]),
        (".list[5].n", []),
        ('.list[?(@.n=="y")].v', [2]),
        (".a.missing", []),
        ("not a path", []),
    ],
)
def test_json_path(path, expected):
    obj = {"a": {"b": 1}, "list": [{"n": "x", "v": 1}, {"n": "y", "v": 2}]}
    assert json_path(obj, path) == expected
