"""What one target's engine is told: its names, its clusters' resources, its timings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pytest_syncer.contract.resources import BUILTIN_KINDS, DEFAULT_RESOURCES
from pytest_syncer.kubeclient.client import Resource
from pytest_syncer.syncer.interfaces import ConflictStrategy

KNOWN_RESOURCES: dict[str, Resource] = {
    name: Resource(kind.group, kind.version, kind.resource, kind.kind)
    for name, kind in BUILTIN_KINDS.items()
}
"""The built-in kinds need no discovery; anything else named in `--resources` is discovered."""


class StatusMode(StrEnum):
    """Where a target's downstream status goes up: a SyncStatus per (workload, target), or kcp's
    `experimental.status.workload.kcp.io/<key>` annotation on the upstream object."""

    SYNCSTATUS = "syncstatus"
    ANNOTATION = "annotation"


@dataclass(frozen=True)
class EngineSettings:
    """Timings in seconds; tests shrink them. The defaults are kcp's syncer's (a 20 s heartbeat,
    `cmd/syncer` in kcp-dev/kcp) or this project's (docs/syncer.md lists each flag)."""

    resources: tuple[str, ...] = DEFAULT_RESOURCES
    conflict_strategy: ConflictStrategy = ConflictStrategy.UPSTREAM_WINS
    heartbeat_interval: float = 20.0
    resync_period: float = 600.0
    namespace_cleanup_delay: float = 30.0
    workers: int = 16
    status_mode: StatusMode = StatusMode.SYNCSTATUS
    removal_recheck: float = 2.0
    """How soon a removal held by a soft finalizer or a copy still terminating looks again."""
