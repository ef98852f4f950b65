"""Objects as a syncer or a user writes them upstream: for status tests, benchmarks, harnesses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pytest_syncer.contract.naming import placement_label
from pytest_syncer.contract.objects import ObjectReference, SyncPhase, SyncStatusRecord
from pytest_syncer.status.conditions import rfc3339


def sync_target(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "workload.kcp.io/v1alpha1",
        "kind": "SyncTarget",
        "metadata": {"name": name},
        "spec": {},
    }


def heartbeat(now: float) -> dict[str, Any]:
    """The `/status` merge patch a syncer's heartbeat sends."""
    return {
        "status": {
            "lastSyncerHeartbeatTime": rfc3339(now),
            "conditions": [{"type": "Ready", "status": "True", "reason": "Heartbeat"}],
        }
    }


def deployment(name: str, namespace: str, keys: Iterable[str], replicas: int = 3) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {placement_label(key): "Sync" for key in keys},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx"}]},
            },
        },
    }


def sync_status(
    workload: Mapping[str, Any],
    target_name: str,
    target_key: str,
    downstream_status: Mapping[str, Any] | None,
    phase: SyncPhase = SyncPhase.SYNCED,
) -> dict[str, Any]:
    """The SyncStatus a target's syncer keeps for a Deployment."""
    metadata = workload["metadata"]
    record = SyncStatusRecord(
        workload=ObjectReference(
            api_version="apps/v1",
            kind="Deployment",
            resource="deployments",
            name=metadata["name"],
            namespace=metadata["namespace"],
            uid=metadata["uid"],
        ),
        target_name=target_name,
        target_key=target_key,
        phase=phase,
        observed_generation=metadata.get("generation"),
        downstream_status=downstream_status,
    )
    return record.to_object()


def deployment_status(
    generation: int, replicas: int, ready: int, available: bool
) -> dict[str, Any]:
    """A downstream Deployment status in upstream form, as the collector writes it."""
    return {
        "observedGeneration": generation,
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "unavailableReplicas": replicas - ready,
        "conditions": [
            {
                "type": "Available",
                "status": "True" if available else "False",
                "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
            },
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
        ],
    }
