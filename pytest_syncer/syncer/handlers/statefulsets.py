"""StatefulSets: ready when every replica is ready and, for rolling updates, updated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.syncer.handlers.base import KindHandler
from pytest_syncer.syncer.handlers.readiness import (
    count,
    desired_replicas,
    generation_observed,
    spec_of,
    status_of,
)


def _partition(spec: Mapping[str, Any]) -> int:
    strategy = spec.get("updateStrategy")
    rolling = strategy.get("rollingUpdate") if isinstance(strategy, Mapping) else None
    return count(rolling, "partition") if isinstance(rolling, Mapping) else 0


def statefulset_ready(obj: Mapping[str, Any]) -> bool:
    """Generation observed, `readyReplicas` reached, and the pods above the partition updated.

    With `updateStrategy: OnDelete` the controller updates nothing by itself, so only the
    readiness of the replicas counts.
    """
    if not generation_observed(obj):
        return False
    status, spec = status_of(obj), spec_of(obj)
    wanted = desired_replicas(obj)
    if count(status, "readyReplicas") < wanted:
        return False
    strategy = spec.get("updateStrategy")
    if isinstance(strategy, Mapping) and strategy.get("type") == "OnDelete":
        return True
    return count(status, "updatedReplicas") >= wanted - _partition(spec)


HANDLER = KindHandler("apps/v1", "StatefulSet", "statefulsets", statefulset_ready)
