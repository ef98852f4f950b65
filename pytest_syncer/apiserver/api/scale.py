"""The ``scale`` subresource (``autoscaling/v1`` Scale) of deployments, replicasets, statefulsets.

``kubectl scale`` reads and patches it; discovery must name its kind ``autoscaling/v1 Scale``
or the scale client refuses it. Only ``spec.replicas`` is writable through it. Custom resources
whose CRD declares ``subresources.scale`` pass their ``specReplicasPath``, ``statusReplicasPath``
and ``labelSelectorPath`` (the selector there is already a string).
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.selectors import selector_text

SCALE = "scale"
SCALE_GROUP = "autoscaling"
SCALE_VERSION = "v1"
SCALE_KIND = "Scale"
SCALE_API_VERSION = f"{SCALE_GROUP}/{SCALE_VERSION}"

#: (specReplicasPath, statusReplicasPath, labelSelectorPath) of a custom resource.
ScalePaths = tuple[str, str, str]


def _field_path(path: str) -> list[str]:
    return [part for part in path.lstrip(".").split(".") if part]


def _read(obj: dict[str, Any], path: str) -> Any:
    value: Any = obj
    for part in _field_path(path):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _written(obj: dict[str, Any], path: str, new: Any) -> dict[str, Any]:
    """A copy of ``obj`` with ``new`` at ``path`` (the levels on the way copied, not mutated)."""
    parts = _field_path(path)
    if not parts:
        return obj
    head, rest = parts[0], ".".join(parts[1:])
    if not rest:
        return {**obj, head: new}
    inner = obj.get(head)
    return {**obj, head: _written(inner if isinstance(inner, dict) else {}, rest, new)}


def to_scale(obj: dict[str, Any], paths: ScalePaths | None = None) -> dict[str, Any]:
    """The Scale view of a scalable object (of a custom resource when ``paths`` are given)."""
    if paths is not None:
        return _custom_scale(obj, paths)
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


def _custom_scale(obj: dict[str, Any], paths: ScalePaths) -> dict[str, Any]:
    spec_path, status_path, selector_path = paths
    metadata = obj.get("metadata") or {}
    shown = {
        key: metadata[key]
        for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if key in metadata
    }
    replicas = _read(obj, spec_path)
    observed = _read(obj, status_path)
    scale_status: dict[str, Any] = {"replicas": observed if isinstance(observed, int) else 0}
    selector = _read(obj, selector_path) if selector_path else None
    if isinstance(selector, str) and selector:
        scale_status["selector"] = selector
    return {
        "kind": SCALE_KIND,
        "apiVersion": SCALE_API_VERSION,
        "metadata": shown,
        "spec": {"replicas": replicas if isinstance(replicas, int) else 0},
        "status": scale_status,
    }


def with_scale(obj: dict[str, Any], scale: Any, paths: ScalePaths | None = None) -> dict[str, Any]:
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
    if paths is not None:
        result = _written(obj, paths[0], replicas)
    else:
        result = {**obj, "spec": {**(obj.get("spec") or {}), "replicas": replicas}}
    if metadata.get("resourceVersion"):
        result["metadata"] = {**obj["metadata"], "resourceVersion": metadata["resourceVersion"]}
    return result
