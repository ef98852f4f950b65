"""``rbac.authorization.k8s.io/v1`` defaults: a binding's ``roleRef`` and subjects' apiGroup.

Source: kubernetes/kubernetes ``pkg/apis/rbac/v1/defaults.go`` (``SetDefaults_RoleBinding``,
``SetDefaults_ClusterRoleBinding``, ``SetDefaults_Subject``).
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.api.kinds.tree import child, items

GROUP = "rbac.authorization.k8s.io"
SUBJECT_GROUPS = {"ServiceAccount": "", "User": GROUP, "Group": GROUP}


def binding(obj: dict[str, Any]) -> None:
    """RoleBinding and ClusterRoleBinding alike."""
    ref = child(obj, "roleRef")
    if ref is not None and not ref.get("apiGroup"):
        ref["apiGroup"] = GROUP
    for subject in items(obj, "subjects"):
        kind = subject.get("kind")
        if not subject.get("apiGroup") and isinstance(kind, str) and kind in SUBJECT_GROUPS:
            subject["apiGroup"] = SUBJECT_GROUPS[kind]
