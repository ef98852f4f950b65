"""The ``scale`` subresource (``autoscaling/v1`` Scale) of deployments, replicasets, statefulsets.

``kubectl scale`` reads and patches it; discovery must name its kind ``autoscaling/v1 Scale``
or the scale client refuses it. Only ``spec.replicas`` is writable through it.
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.errors import APIError
from pytest_syncer.apiserver.tables import selector_text

SCALE = "scale"
SCALE_GROUP = "autoscaling"
SCALE_VERSION = "v1"
SCALE_KIND = "Scale"
SCALE_API_VERSION = f"{SCALE_GROUP}/{SCALE_VERSION}"


def to_scale(obj: dict[str, Any]) -> dict[str, Any]:
    """The Scale view of a scalable object."""
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    shown = {
        key: metadata[key]
        for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if key in metadata
    }
    scale_status: dict[str, Any] = {"replicas": int(status.get("replicas") or 0)}
    selector = selector_text(spec.get("selector"), "")
    if selector:
        scale_status["selector"] = selector
    return {
        "kind": SCALE_KIND,
        "apiVersion": SCALE_API_VERSION,
        "metadata": shown,
        "spec": {"replicas": int(spec.get("replicas", 1))},
        "status": scale_status,
    }


def with_scale(obj: dict[str, Any], scale: Any) -> dict[str, Any]:
    """``obj`` with the replicas a written Scale asks for; 422 when it asks for nonsense."""
    spec = scale.get("spec") if isinstance(scale, dict) else None
    replicas = spec.get("replicas", 0) if isinstance(spec, dict) else 0
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise APIError(
            422,
            f'Scale.autoscaling "{obj["metadata"]["name"]}" is invalid: spec.replicas: '
            f"Invalid value: {replicas!r}: must be greater than or equal to 0",
            kind=SCALE_KIND,
            group=SCALE_GROUP,
            causes=[
                {
                    "reason": "FieldValueInvalid",
                    "message": "must be greater than or equal to 0",
                    "field": "spec.replicas",
                }
            ],
        )
    metadata = scale.get("metadata") or {}
    result = {**obj, "spec": {**(obj.get("spec") or {}), "replicas": replicas}}
    if metadata.get("resourceVersion"):
        result["metadata"] = {**obj["metadata"], "resourceVersion": metadata["resourceVersion"]}
    return result
