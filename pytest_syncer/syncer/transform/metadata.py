"""Metadata steps: what upstream-only metadata is dropped, what marks a copy, where it lives.

Downstream, an object keeps only what the downstream cluster should see: placement labels, kcp's
annotations and the server-owned fields of the upstream object would leak the upstream's
bookkeeping (and an upstream uid in ownerReferences would get the copy garbage-collected).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from pytest_syncer.contract.naming import (
    CLUSTER_ANNOTATION,
    CLUSTER_LABEL,
    DELETION_ANNOTATION_PREFIX,
    PLACEMENT_LABEL_PREFIX,
    SOFT_FINALIZER_ANNOTATION_PREFIX,
    STATUS_ANNOTATION_PREFIX,
)
from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.syncer.interfaces import TransformContext
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

UPSTREAM_ANNOTATIONS = (
    CLUSTER_ANNOTATION,
    STATUS_ANNOTATION_PREFIX,
    SOFT_FINALIZER_ANNOTATION_PREFIX,
    DELETION_ANNOTATION_PREFIX,
)


@lru_cache(maxsize=256)
def _name_matcher(fixed: tuple[str, ...], entries: tuple[str, ...]) -> Callable[[str], bool]:
    """A predicate for names in `fixed` or `entries`: an entry ending in `/` covers its whole
    domain, any other matches exactly. Built once per context, as it runs for every name."""
    names = fixed + entries
    prefixes = tuple(name for name in names if name.endswith("/"))
    exact = frozenset(name for name in names if not name.endswith("/"))
    return lambda name: name in exact or name.startswith(prefixes)


def upstream_only_label(context: TransformContext) -> Callable[[str], bool]:
    """Placement labels and the syncer's own."""
    return _name_matcher((PLACEMENT_LABEL_PREFIX,), context.own_labels)


def upstream_only_annotation(context: TransformContext) -> Callable[[str], bool]:
    """kcp's cluster, status, soft-finalizer and deletion annotations and the syncer's own."""
    return _name_matcher(UPSTREAM_ANNOTATIONS, context.own_annotations)


def strip_upstream_labels(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Drop every `state.workload.kcp.io/*` placement label and the syncer's own labels."""
    return filter_metadata_map(obj, "labels", upstream_only_label(context))


def strip_upstream_annotations(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Drop kcp's cluster, status, soft-finalizer and deletion annotations and the syncer's own."""
    return filter_metadata_map(obj, "annotations", upstream_only_annotation(context))


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
