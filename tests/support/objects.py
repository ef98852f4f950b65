"""Kubernetes objects as the contract describes them, for tests of any part."""

from __future__ import annotations

from hypothesis import strategies as st

from pytest_syncer import strategies as k8s
from pytest_syncer.harness.kube import KubeObject

SERVER_FIELDS = frozenset(
    {
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "ownerReferences",
        "finalizers",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    }
)
"""Metadata a user's manifest does not carry and a downstream copy must not: what the API server
sets (ObjectMeta's read-only fields, in the Kubernetes API reference) and the owner and finalizer
links that belong to the cluster where they were set."""


def syncable_objects() -> st.SearchStrategy[KubeObject]:
    """An upstream object: one of the built-in kinds the strategies draw, or a custom resource."""
    return st.one_of(
        k8s.deployments(),
        k8s.statefulsets(),
        k8s.jobs(),
        k8s.services(),
        k8s.configmaps(),
        k8s.secrets(),
        k8s.ingresses(),
        k8s.custom_resources(),
    )
