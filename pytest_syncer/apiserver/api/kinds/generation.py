"""``metadata.generation``: set and moved only by the kinds whose registry strategy keeps one.

Sources (kubernetes/kubernetes, v1.32): each kind's ``pkg/registry/<group>/<kind>/strategy.go``
sets ``Generation = 1`` in ``PrepareForCreate`` and bumps it in ``PrepareForUpdate`` when the
part it compares changes: ``Spec`` for ReplicaSet, StatefulSet, DaemonSet, ReplicationController,
Job, CronJob, Ingress, NetworkPolicy and PodDisruptionBudget; ``Spec`` or
``metadata.annotations`` for Deployment (annotations are copied to its ReplicaSets);
``Template`` for PodTemplate; everything but metadata, or the labels, for EndpointSlice;
``Spec`` for CustomResourceDefinition (``apiextensions-apiserver/pkg/registry/
customresourcedefinition/strategy.go``); everything but metadata (and ``status`` behind a status
subresource) for custom resources (``.../registry/customresource/strategy.go``). The
HorizontalPodAutoscaler's generation is behind the ``HPAGeneration`` gate (after 1.32) and Pods'
behind 1.33's ``PodObservedGenerationTracking``: neither here.

Every other kind (ConfigMap, Secret, Service, Namespace, ServiceAccount, Pod, PVC, Event, Lease,
RBAC, ...) has no rule: ``rest.BeforeCreate`` leaves whatever the client sent (usually nothing)
and ``rest.BeforeUpdate`` copies the old value over whatever an update sends, so it never moves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Changed = Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
"""Whether an update from the old object (second) to the new (first) bumps the generation."""

CUSTOM_GROUPS = frozenset({"workload.kcp.io"})
"""Groups served as built-ins here that kcp serves as custom resources."""


def _field_changed(*fields: str) -> Changed:
    def changed(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
        return any(new.get(field) != old.get(field) for field in fields)

    return changed


def _deployment_changed(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    return new.get("spec") != old.get("spec") or (new.get("metadata") or {}).get("annotations") != (
        old.get("metadata") or {}
    ).get("annotations")


def _endpoint_slice_changed(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    return _beyond(new, ("metadata",)) != _beyond(old, ("metadata",)) or (
        new.get("metadata") or {}
    ).get("labels") != (old.get("metadata") or {}).get("labels")


def _beyond(obj: Mapping[str, Any], skipped: tuple[str, ...]) -> dict[str, Any]:
    return {
        key: value
        for key, value in obj.items()
        if key not in skipped and key not in ("kind", "apiVersion")
    }


_SPEC = _field_changed("spec")
RULES: dict[tuple[str, str], Changed] = {
    ("apps", "Deployment"): _deployment_changed,
    ("apps", "ReplicaSet"): _SPEC,
    ("apps", "StatefulSet"): _SPEC,
    ("apps", "DaemonSet"): _SPEC,
    ("", "ReplicationController"): _SPEC,
    ("", "PodTemplate"): _field_changed("template"),
    ("batch", "Job"): _SPEC,
    ("batch", "CronJob"): _SPEC,
    ("networking.k8s.io", "Ingress"): _SPEC,
    ("networking.k8s.io", "NetworkPolicy"): _SPEC,
    ("policy", "PodDisruptionBudget"): _SPEC,
    ("discovery.k8s.io", "EndpointSlice"): _endpoint_slice_changed,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _SPEC,
}


def rule_for(group: str, kind: str, *, custom: bool, has_status: bool) -> Changed | None:
    """The kind's bump rule, or None when its objects carry no server-kept generation."""
    if custom or group in CUSTOM_GROUPS:
        skipped = ("metadata", "status") if has_status else ("metadata",)
        return lambda new, old: _beyond(new, skipped) != _beyond(old, skipped)
    return RULES.get((group, kind))


def on_create(rule: Changed | None, metadata: dict[str, Any]) -> None:
    """``PrepareForCreate``: 1 for a kind with a rule; anything else is left as it was sent."""
    if rule is not None:
        metadata["generation"] = 1


def on_update(rule: Changed | None, new: Mapping[str, Any], old: Mapping[str, Any]) -> int | None:
    """The generation an update stores: the old one, plus one when the rule says so."""
    generation = (old.get("metadata") or {}).get("generation")
    if rule is not None and rule(new, old):
        return int(generation or 0) + 1
    return generation if isinstance(generation, int) else None
