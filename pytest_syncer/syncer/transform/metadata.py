"""Metadata steps: what upstream-only metadata is dropped, what marks a copy, where it lives.

Downstream, an object keeps only what the downstream cluster should see: placement labels, kcp's
annotations and the server-owned fields of the upstream object would leak the upstream's
bookkeeping (and an upstream uid in ownerReferences would get the copy garbage-collected).
"""

from __future__ import annotations

from pytest_syncer.syncer.interfaces import KubeObject, TransformContext
from pytest_syncer.syncer.transform.naming import (
    CLUSTER_ANNOTATION,
    CLUSTER_LABEL,
    DELETION_ANNOTATION_PREFIX,
    PLACEMENT_LABEL_PREFIX,
    SOFT_FINALIZER_ANNOTATION_PREFIX,
    STATUS_ANNOTATION_PREFIX,
)
from pytest_syncer.syncer.transform.objects import (
    filter_metadata_map,
    metadata_map,
    with_metadata,
)

SERVER_METADATA_FIELDS = (
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
)
"""Fields the API server (or a controller) owns; each cluster sets its own."""

UPSTREAM_ANNOTATION_PREFIXES = (
    STATUS_ANNOTATION_PREFIX,
    SOFT_FINALIZER_ANNOTATION_PREFIX,
    DELETION_ANNOTATION_PREFIX,
)


def _matches(name: str, entries: tuple[str, ...]) -> bool:
    """An entry ending in `/` matches its whole domain; any other entry matches exactly."""
    return any(
        name.startswith(entry) if entry.endswith("/") else name == entry for entry in entries
    )


def is_upstream_only_label(name: str, context: TransformContext) -> bool:
    return name.startswith(PLACEMENT_LABEL_PREFIX) or _matches(name, context.own_labels)


def is_upstream_only_annotation(name: str, context: TransformContext) -> bool:
    return (
        name == CLUSTER_ANNOTATION
        or name.startswith(UPSTREAM_ANNOTATION_PREFIXES)
        or _matches(name, context.own_annotations)
    )


def strip_upstream_labels(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Drop every `state.workload.kcp.io/*` placement label and the syncer's own labels."""
    return filter_metadata_map(obj, "labels", lambda name: is_upstream_only_label(name, context))


def strip_upstream_annotations(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Drop kcp's cluster, status, soft-finalizer and deletion annotations and the syncer's own."""
    return filter_metadata_map(
        obj, "annotations", lambda name: is_upstream_only_annotation(name, context)
    )


def strip_server_metadata(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Drop uid, resourceVersion, generation, timestamps, owners, finalizers, managedFields."""
    metadata = obj["metadata"]
    if not any(field in metadata for field in SERVER_METADATA_FIELDS):
        return obj
    return with_metadata(obj, **dict.fromkeys(SERVER_METADATA_FIELDS))


def map_namespace_down(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Move the object into the downstream namespace its locator hashes to."""
    namespace = context.locator(obj["metadata"]["namespace"]).downstream_namespace
    return with_metadata(obj, namespace=namespace)


def add_cluster_label(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Mark the copy as this target's: `internal.workload.kcp.io/cluster: <key>`."""
    labels = metadata_map(obj, "labels")
    key = context.sync_target.key
    if labels.get(CLUSTER_LABEL) == key:
        return obj
    return with_metadata(obj, labels={**labels, CLUSTER_LABEL: key})


def map_namespace_up(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Move a downstream object back to the upstream namespace named by its locator."""
    locator = context.upstream_locator(obj["metadata"]["namespace"])
    return with_metadata(obj, namespace=locator.namespace)


def strip_cluster_label(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Drop the downstream marker label on the way up."""
    return filter_metadata_map(obj, "labels", lambda name: name == CLUSTER_LABEL)
