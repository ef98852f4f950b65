"""``apps/v1`` defaults: Deployment, ReplicaSet, StatefulSet, DaemonSet.

Source: kubernetes/kubernetes ``pkg/apis/apps/v1/defaults.go`` (``SetDefaults_Deployment``,
``SetDefaults_DaemonSet``, ``SetDefaults_StatefulSet`` with the ``StatefulSetAutoDeletePVC``
gate on, as it is by default since 1.27, ``SetDefaults_ReplicaSet``); the pod templates take the
core pod spec defaults and a StatefulSet's ``volumeClaimTemplates`` the PVC ones (the generated
``SetObjectDefaults_StatefulSet`` runs both).
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.api.kinds.defaults import core
from pytest_syncer.apiserver.api.kinds.tree import child, items, setdefault


def _replicas_and_history(spec: dict[str, Any], *, history: bool = True) -> None:
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    if history and spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10


def _rolling_update(spec: dict[str, Any], field: str, unavailable: Any, surge: Any) -> None:
    """``spec[field]``: a RollingUpdate strategy unless it names another, with its two bounds."""
    strategy = child(spec, field, create=True)
    if strategy is None:
        return
    setdefault(strategy, "type", "RollingUpdate")
    if strategy["type"] != "RollingUpdate":
        return
    rolling = child(strategy, "rollingUpdate", create=True)
    if rolling is None:
        return
    if rolling.get("maxUnavailable") is None:
        rolling["maxUnavailable"] = unavailable
    if rolling.get("maxSurge") is None:
        rolling["maxSurge"] = surge


def deployment(obj: dict[str, Any]) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    _replicas_and_history(spec)
    _rolling_update(spec, "strategy", "25%", "25%")
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600
    core.pod_template(spec)


def replica_set(obj: dict[str, Any]) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    _replicas_and_history(spec, history=False)
    core.pod_template(spec)


def daemon_set(obj: dict[str, Any]) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    _rolling_update(spec, "updateStrategy", 1, 0)
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    core.pod_template(spec)


def stateful_set(obj: dict[str, Any]) -> None:
    spec = child(obj, "spec")
    if spec is None:
        return
    setdefault(spec, "podManagementPolicy", "OrderedReady")
    strategy = child(spec, "updateStrategy", create=True)
    if strategy is not None:
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
            child(strategy, "rollingUpdate", create=True)
        rolling = child(strategy, "rollingUpdate") if strategy["type"] == "RollingUpdate" else None
        if rolling is not None and rolling.get("partition") is None:
            rolling["partition"] = 0
    retention = child(spec, "persistentVolumeClaimRetentionPolicy", create=True)
    if retention is not None:
        setdefault(retention, "whenDeleted", "Retain")
        setdefault(retention, "whenScaled", "Retain")
    _replicas_and_history(spec)
    core.pod_template(spec)
    for claim in items(spec, "volumeClaimTemplates"):
        core.persistent_volume_claim(claim)
