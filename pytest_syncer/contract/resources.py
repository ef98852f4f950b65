"""The resources a syncer syncs unless told otherwise, and where each lives in the API.

`--resources` names resources as `<plural>.<group>` (`deployments.apps`, `configmaps` for the
core group), the form kcp's syncer takes (kcp-dev/kcp, `cmd/syncer` `--resources`). The
group, version and kind of each built-in are Kubernetes' own (the v1 APIs of apps, batch, core
and networking.k8s.io), so neither the harness nor a syncer needs discovery for them.
"""

from __future__ import annotations

from typing import NamedTuple


class BuiltinKind(NamedTuple):
    """Where one built-in resource lives: API group ("" for core), version, plural, kind."""

    group: str
    version: str
    resource: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


BUILTIN_KINDS: dict[str, BuiltinKind] = {
    "deployments.apps": BuiltinKind("apps", "v1", "deployments", "Deployment"),
    "replicasets.apps": BuiltinKind("apps", "v1", "replicasets", "ReplicaSet"),
    "statefulsets.apps": BuiltinKind("apps", "v1", "statefulsets", "StatefulSet"),
    "daemonsets.apps": BuiltinKind("apps", "v1", "daemonsets", "DaemonSet"),
    "jobs.batch": BuiltinKind("batch", "v1", "jobs", "Job"),
    "cronjobs.batch": BuiltinKind("batch", "v1", "cronjobs", "CronJob"),
    "services": BuiltinKind("", "v1", "services", "Service"),
    "configmaps": BuiltinKind("", "v1", "configmaps", "ConfigMap"),
    "secrets": BuiltinKind("", "v1", "secrets", "Secret"),
    "persistentvolumeclaims": BuiltinKind(
        "", "v1", "persistentvolumeclaims", "PersistentVolumeClaim"
    ),
    "ingresses.networking.k8s.io": BuiltinKind("networking.k8s.io", "v1", "ingresses", "Ingress"),
}
"""Every built-in kind a workload handler exists for."""

DEFAULT_RESOURCES: tuple[str, ...] = tuple(BUILTIN_KINDS)
"""`--resources` by default: every built-in kind with a handler."""
