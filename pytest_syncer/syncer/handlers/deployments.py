"""Deployments: ready once the current spec is rolled out, as `kubectl rollout status` says."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.syncer.handlers.base import KindHandler
from pytest_syncer.syncer.handlers.readiness import (
    condition,
    count,
    desired_replicas,
    generation_observed,
    status_of,
)


def deployment_ready(obj: Mapping[str, Any]) -> bool:
    """Current generation observed, every replica updated and available, no old one left.

    A Deployment past its progress deadline is not ready however many pods it has.
    """
    if not generation_observed(obj):
        return False
    progressing = condition(obj, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return False
    status = status_of(obj)
    wanted = desired_replicas(obj)
    updated = count(status, "updatedReplicas")
    return (
        updated >= wanted
        and count(status, "replicas") <= updated
        and count(status, "availableReplicas") >= wanted
    )


HANDLER = KindHandler("apps/v1", "Deployment", "deployments", deployment_ready)
