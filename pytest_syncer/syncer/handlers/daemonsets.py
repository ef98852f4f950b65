"""DaemonSets: ready when every node that should run a pod runs an updated, available one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_syncer.syncer.handlers.base import KindHandler
from pytest_syncer.syncer.handlers.readiness import (
    count,
    generation_observed,
    spec_of,
    status_of,
)


def daemonset_ready(obj: Mapping[str, Any]) -> bool:
    """Generation observed; updated and available pods cover `desiredNumberScheduled`.

    A cluster with no matching node wants zero pods, and zero of zero is ready.
    """
    if not generation_observed(obj):
        return False
    status = status_of(obj)
    wanted = count(status, "desiredNumberScheduled")
    strategy = spec_of(obj).get("updateStrategy")
    on_delete = isinstance(strategy, Mapping) and strategy.get("type") == "OnDelete"
    updated = on_delete or count(status, "updatedNumberScheduled") >= wanted
    return updated and count(status, "numberAvailable") >= wanted


HANDLER = KindHandler("apps/v1", "DaemonSet", "daemonsets", daemonset_ready)
