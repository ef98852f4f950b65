"""ReplicaSets: ready when exactly the wanted number of pods exists and all are available."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.syncer.handlers.base import KindHandler
from pytest_syncer.syncer.handlers.readiness import (
    count,
    desired_replicas,
    generation_observed,
    status_of,
)


def replicaset_ready(obj: Mapping[str, Any]) -> bool:
    """Generation observed, `replicas` at the wanted count (no surplus) and all available."""
    if not generation_observed(obj):
        return False
    status = status_of(obj)
    wanted = desired_replicas(obj)
    return count(status, "replicas") == wanted and count(status, "availableReplicas") >= wanted


HANDLER = KindHandler("apps/v1", "ReplicaSet", "replicasets", replicaset_ready)
