"""Defaulting as the real API server does it when it decodes a write, per API group.

Each kind's function takes a copy of the object (top level copied, deeper levels shared) and
copies what it changes (see ``tree.py``). The source of every default is named in the group's
module; ``DEFAULTERS`` maps ``(group, kind)`` to its function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_syncer.apiserver.api.kinds.defaults import apps, batch, core, networking, rbac

Defaulter = Callable[[dict[str, Any]], None]

DEFAULTERS: dict[tuple[str, str], Defaulter] = {
    ("", "Pod"): core.pod,
    ("", "Service"): core.service,
    ("", "Secret"): core.secret,
    ("", "PersistentVolumeClaim"): core.persistent_volume_claim,
    ("", "Namespace"): core.namespace,
    ("", "Endpoints"): core.endpoints,
    ("apps", "Deployment"): apps.deployment,
    ("apps", "ReplicaSet"): apps.replica_set,
    ("apps", "StatefulSet"): apps.stateful_set,
    ("apps", "DaemonSet"): apps.daemon_set,
    ("batch", "Job"): batch.job,
    ("batch", "CronJob"): batch.cron_job,
    ("networking.k8s.io", "NetworkPolicy"): networking.network_policy,
    ("rbac.authorization.k8s.io", "RoleBinding"): rbac.binding,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): rbac.binding,
}


def apply_defaults(group: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with the defaults of its kind filled in; ``obj`` itself when the kind has none."""
    defaulter = DEFAULTERS.get((group, kind))
    if defaulter is None:
        return obj
    result = dict(obj)
    defaulter(result)
    return result
