"""What every logical cluster is born with besides its namespaces, as a real cluster has it.

- Nodes: three Ready nodes (``node-1`` is the control plane, as in a kind cluster), so
  ``kubectl get nodes`` and node-watching code see a cluster; their status is fixed (nothing
  runs on them).
- The two system PriorityClasses every kube-apiserver creates at start-up, with the values and
  descriptions of ``pkg/apis/scheduling/v1/helpers.go``: ``system-node-critical`` 2000001000
  and ``system-cluster-critical`` 2000000000.
- An APIService per served built-in group-version (``v1.``, ``v1.apps``, ...), served locally
  and Available, as kube-aggregator's autoregistration lists them.

Objects are created once; a cluster restored from a data dir keeps what it has.
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.api.objects import now_timestamp
from pytest_syncer.apiserver.api.resources import ResourceRegistry

NODE_COUNT = 3
KUBELET_VERSION = "v1.32.0"
#: ``kube-apiserver``'s ``SystemCriticalPriority`` (2 * HighestUserDefinablePriority).
SYSTEM_CRITICAL_PRIORITY = 2_000_000_000
#: The group priorities kube-aggregator gives the built-in groups it knows (others: 1000).
_GROUP_PRIORITY = {
    "": 18000,
    "apps": 17800,
    "authentication.k8s.io": 17700,
    "authorization.k8s.io": 17600,
    "autoscaling": 17500,
    "batch": 17400,
    "networking.k8s.io": 17200,
    "policy": 17100,
    "rbac.authorization.k8s.io": 17000,
    "storage.k8s.io": 16800,
    "apiextensions.k8s.io": 16700,
    "coordination.k8s.io": 16500,
    "discovery.k8s.io": 16200,
    "scheduling.k8s.io": 16600,
    "apiregistration.k8s.io": 18200,
}


def nodes() -> list[dict[str, Any]]:
    """``NODE_COUNT`` Ready nodes with capacity, allocatable, addresses and nodeInfo."""
    now = now_timestamp()
    made = []
    for index in range(1, NODE_COUNT + 1):
        name = f"node-{index}"
        labels = {
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
        }
        if index == 1:
            labels["node-role.kubernetes.io/control-plane"] = ""
        capacity: dict[str, str] = {
            "cpu": "4",
            "memory": "16318412Ki",
            "ephemeral-storage": "102626232Ki",
            "hugepages-2Mi": "0",
            "pods": "110",
        }
        made.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "labels": labels},
                "spec": {"podCIDR": f"10.244.{index - 1}.0/24"},
                "status": {
                    "capacity": capacity,
                    "allocatable": dict(capacity, cpu="3800m", memory="15294412Ki"),
                    "addresses": [
                        {"type": "InternalIP", "address": f"172.18.0.{index + 1}"},
                        {"type": "Hostname", "address": name},
                    ],
                    "conditions": [
                        _condition(kind, "False", reason, message, now)
                        for kind, reason, message in (
                            ("MemoryPressure", "KubeletHasSufficientMemory", "sufficient memory"),
                            ("DiskPressure", "KubeletHasNoDiskPressure", "no disk pressure"),
                            ("PIDPressure", "KubeletHasSufficientPID", "sufficient PID"),
                        )
                    ]
                    + [_condition("Ready", "True", "KubeletReady", "kubelet is ready", now)],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                    "nodeInfo": {
                        "machineID": f"{index:032x}",
                        "systemUUID": f"00000000-0000-0000-0000-{index:012x}",
                        "bootID": f"00000000-0000-0000-0001-{index:012x}",
                        "kernelVersion": "6.1.0",
                        "osImage": "Debian GNU/Linux 12 (bookworm)",
                        "containerRuntimeVersion": "containerd://1.7.24",
                        "kubeletVersion": KUBELET_VERSION,
                        "kubeProxyVersion": KUBELET_VERSION,
                        "operatingSystem": "linux",
                        "architecture": "amd64",
                    },
                },
            }
        )
    return made


def _condition(kind: str, status: str, reason: str, message: str, now: str) -> dict[str, str]:
    return {
        "type": kind,
        "status": status,
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": f"kubelet has {message}" if kind != "Ready" else message,
    }


def system_priority_classes() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": "system-node-critical"},
            "value": SYSTEM_CRITICAL_PRIORITY + 1000,
            "description": "Used for system critical pods that must not be moved from their "
            "current node.",
            "preemptionPolicy": "PreemptLowerPriority",
        },
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": "system-cluster-critical"},
            "value": SYSTEM_CRITICAL_PRIORITY,
            "description": "Used for system critical pods that must run in the cluster, but "
            "can be moved to another node if necessary.",
            "preemptionPolicy": "PreemptLowerPriority",
        },
    ]


def api_services(registry: ResourceRegistry) -> list[dict[str, Any]]:
    """One Available, locally served APIService per built-in group-version."""
    now = now_timestamp()
    versions = [("", "v1"), *((g, v) for g, vs in registry.groups().items() for v in vs)]
    made = []
    for group, version in versions:
        made.append(
            {
                "apiVersion": "apiregistration.k8s.io/v1",
                "kind": "APIService",
                "metadata": {
                    "name": f"{version}.{group}",
                    "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"},
                },
                "spec": {
                    "group": group,
                    "version": version,
                    "groupPriorityMinimum": _GROUP_PRIORITY.get(group, 1000),
                    "versionPriority": 15,
                },
                "status": {
                    "conditions": [
                        {
                            "type": "Available",
                            "status": "True",
                            "lastTransitionTime": now,
                            "reason": "Local",
                            "message": "Local APIServices are always available",
                        }
                    ]
                },
            }
        )
    return made
