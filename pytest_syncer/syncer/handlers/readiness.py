"""Reading the status fields readiness rules share, defensively: status is written by others.

A field of the wrong type reads as absent, so a malformed status makes an object not ready
rather than an error in the syncer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def status_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, Mapping) else {}


def spec_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def count(mapping: Mapping[str, Any], name: str, default: int = 0) -> int:
    """An integer field (JSON omits zero counters), `default` when absent or not an integer."""
    value = mapping.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value


def desired_replicas(obj: Mapping[str, Any]) -> int:
    """`spec.replicas`, which the API server defaults to 1."""
    return count(spec_of(obj), "replicas", 1)


def generation_observed(obj: Mapping[str, Any]) -> bool:
    """The controller has seen the current spec: `status.observedGeneration >= generation`."""
    observed = status_of(obj).get("observedGeneration")
    if isinstance(observed, bool) or not isinstance(observed, int):
        return False
    metadata = obj.get("metadata")
    generation = metadata.get("generation") if isinstance(metadata, Mapping) else None
    if isinstance(generation, bool) or not isinstance(generation, int):
        return True
    return observed >= generation


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """The status condition of this type, if any."""
    conditions = status_of(obj).get("conditions")
    if not isinstance(conditions, list):
        return None
    for item in conditions:
        if isinstance(item, Mapping) and item.get("type") == kind:
            return item
    return None


def condition_is(obj: Mapping[str, Any], kind: str, status: str) -> bool:
    found = condition(obj, kind)
    return found is not None and found.get("status") == status


def has_load_balancer_address(obj: Mapping[str, Any]) -> bool:
    """`status.loadBalancer.ingress` lists at least one address (Services, Ingresses)."""
    balancer = status_of(obj).get("loadBalancer")
    ingress = balancer.get("ingress") if isinstance(balancer, Mapping) else None
    return isinstance(ingress, list) and len(ingress) > 0
