"""What one target's engine is told: its names, its clusters' resources, its timings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pytest_syncer.syncer.client import Resource
from pytest_syncer.syncer.interfaces import ConflictStrategy

DEFAULT_RESOURCES = (
    "deployments.apps",
    "replicasets.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "jobs.batch",
    "cronjobs.batch",
    "services",
    "configmaps",
    "secrets",
    "persistentvolumeclaims",
    "ingresses.networking.k8s.io",
)
"""`--resources` by default: every kind with a handler (DESIGN.md, command-line contract)."""

KNOWN_RESOURCES: dict[str, Resource] = {
    "deployments.apps": Resource("apps", "v1", "deployments", "Deployment"),
    "replicasets.apps": Resource("apps", "v1", "replicasets", "ReplicaSet"),
    "statefulsets.apps": Resource("apps", "v1", "statefulsets", "StatefulSet"),
    "daemonsets.apps": Resource("apps", "v1", "daemonsets", "DaemonSet"),
    "jobs.batch": Resource("batch", "v1", "jobs", "Job"),
    "cronjobs.batch": Resource("batch", "v1", "cronjobs", "CronJob"),
    "services": Resource("", "v1", "services", "Service"),
    "configmaps": Resource("", "v1", "configmaps", "ConfigMap"),
    "secrets": Resource("", "v1", "secrets", "Secret"),
    "persistentvolumeclaims": Resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim"),
    "ingresses.networking.k8s.io": Resource("networking.k8s.io", "v1", "ingresses", "Ingress"),
}
"""The built-in kinds need no discovery; anything else named in `--resources` is discovered."""


class StatusMode(StrEnum):
    """Where a target's downstream status goes up (DESIGN.md, "Status")."""

    SYNCSTATUS = "syncstatus"
    ANNOTATION = "annotation"


@dataclass(frozen=True)
class EngineSettings:
    """Timings in seconds; tests shrink them, the defaults are kcp's or DESIGN.md's."""

    resources: tuple[str, ...] = DEFAULT_RESOURCES
    conflict_strategy: ConflictStrategy = ConflictStrategy.UPSTREAM_WINS
    heartbeat_interval: float = 20.0
    resync_period: float = 600.0
    namespace_cleanup_delay: float = 30.0
    workers: int = 4
    status_mode: StatusMode = StatusMode.SYNCSTATUS
    removal_recheck: float = 2.0
    """How soon a removal held by a soft finalizer or a copy still terminating looks again."""
