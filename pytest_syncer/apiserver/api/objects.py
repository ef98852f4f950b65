"""The rules the server applies to an object on create, update and status update.

Kubernetes owns some fields (uid, creationTimestamp, generation, resourceVersion, deletion
fields) and ignores what clients send for them; resources with a status subresource split
writes in two: the main resource ignores ``status`` and ``/status`` ignores everything else;
``generation`` is kept by the kinds whose registry keeps one, each by its own rule
(``kinds/generation.py``).

Stored objects are shared and never mutated: each function copies the levels it changes.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from pytest_syncer.apiserver.api.kinds import generation, on_write
from pytest_syncer.apiserver.api.resources import ResourceType

CLUSTER_ANNOTATION = "kcp.io/cluster"
NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SERVER_OWNED = ("uid", "creationTimestamp", "generation", "deletionTimestamp")


def generation_rule(resource_type: ResourceType) -> generation.Changed | None:
    return generation.rule_for(
        resource_type.group,
        resource_type.kind,
        custom=bool(resource_type.definition),
        has_status=resource_type.has_status,
    )


def stored_cluster(obj: dict[str, Any]) -> str:
    """The logical cluster a stored object belongs to ("" when it carries none)."""
    return str(((obj.get("metadata") or {}).get("annotations") or {}).get(CLUSTER_ANNOTATION, ""))


#: The last second :func:`now_timestamp` formatted, and its text: writes in one second share it.
_formatted: tuple[int, str] = (-1, "")


def now_timestamp() -> str:
    global _formatted
    second = int(time.time())
    if second != _formatted[0]:
        _formatted = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return _formatted[1]


def generate_name(prefix: str) -> str:
    """``generateName`` + five characters, as Kubernetes makes them (no vowels, no look-alikes)."""
    return prefix + "".join(secrets.choice(NAME_SUFFIX_ALPHABET) for _ in range(5))


def _own_metadata(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A shallow copy of ``obj`` with its own metadata dict, so edits never touch a shared one."""
    copy = dict(obj)
    metadata = dict(copy.get("metadata") or {})
    copy["metadata"] = metadata
    return copy, metadata


def _annotate_cluster(metadata: dict[str, Any], cluster: str) -> None:
    annotations = dict(metadata.get("annotations") or {})
    annotations[CLUSTER_ANNOTATION] = cluster
    metadata["annotations"] = annotations


def prepare_create(
    resource_type: ResourceType, obj: dict[str, Any], *, cluster: str, namespace: str
) -> dict[str, Any]:
    """The object as first stored: server-owned fields set, client-sent ones dropped."""
    body, metadata = _own_metadata(obj)
    result = {"apiVersion": resource_type.api_version, "kind": resource_type.kind, **body}
    result["apiVersion"] = resource_type.api_version
    result["kind"] = resource_type.kind
    for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
        metadata.pop(field, None)
    if resource_type.namespaced:
        metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)
    metadata["uid"] = str(uuid.uuid4())
    metadata["creationTimestamp"] = now_timestamp()
    generation.on_create(generation_rule(resource_type), metadata)
    _annotate_cluster(metadata, cluster)
    if resource_type.has_status:
        result.pop("status", None)
    if resource_type.kind == "Namespace":
        result["spec"] = {"finalizers": ["kubernetes"], **(result.get("spec") or {})}
        result["status"] = {"phase": "Active"}
    return on_write(resource_type.group, resource_type.kind, result)


def prepare_update(
    resource_type: ResourceType, new: dict[str, Any], old: dict[str, Any]
) -> dict[str, Any]:
    """A write to the main resource: keep what the server owns and, with a subresource, status."""
    result, metadata = _own_metadata(new)
    old_metadata = old["metadata"]
    result["apiVersion"] = old["apiVersion"]
    result["kind"] = old["kind"]
    for field in (*_SERVER_OWNED, "deletionGracePeriodSeconds", "namespace", "name"):
        if field in old_metadata:
            metadata[field] = old_metadata[field]
        else:
            metadata.pop(field, None)
    cluster = (old_metadata.get("annotations") or {}).get(CLUSTER_ANNOTATION)
    if cluster is not None:
        _annotate_cluster(metadata, cluster)
    if resource_type.has_status:
        if "status" in old:
            result["status"] = old["status"]
        else:
            result.pop("status", None)
    result = on_write(resource_type.group, resource_type.kind, result)
    kept = generation.on_update(generation_rule(resource_type), result, old)
    if kept is not None:
        result["metadata"]["generation"] = kept
    return result


def prepare_status_update(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """A write to ``/status``: the old object with the new status and nothing else changed."""
    result, _ = _own_metadata(old)
    if "status" in new:
        result["status"] = new["status"]
    else:
        result.pop("status", None)
    return result


def unchanged(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """Whether a write changes nothing but resourceVersion: then it is not written at all."""
    if new.keys() != old.keys():
        return False
    for field, value in new.items():
        if field == "metadata":
            new_meta = {k: v for k, v in value.items() if k != "resourceVersion"}
            old_meta = {k: v for k, v in old[field].items() if k != "resourceVersion"}
            if new_meta != old_meta:
                return False
        elif value != old[field]:
            return False
    return True


def mark_deleting(old: dict[str, Any]) -> dict[str, Any]:
    """What DELETE does to an object that still has finalizers: set deletionTimestamp once."""
    result, metadata = _own_metadata(old)
    metadata.setdefault("deletionTimestamp", now_timestamp())
    metadata.setdefault("deletionGracePeriodSeconds", 0)
    return result


def is_releasable(obj: dict[str, Any]) -> bool:
    """Deleting, no finalizer left and no grace period running (``ShouldDeleteDuringUpdate``):
    the object goes away now."""
    metadata = obj.get("metadata") or {}
    return (
        bool(metadata.get("deletionTimestamp"))
        and not metadata.get("finalizers")
        and not metadata.get("deletionGracePeriodSeconds")
    )
