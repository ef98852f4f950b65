"""Reading a SyncTarget's heartbeat: the hub calls a target stale, and the harness waits for
one to be ready, by when its syncer last beat.

kcp's SyncTarget carries `status.lastSyncerHeartbeatTime` (kcp-dev/kcp,
`pkg/apis/workload/v1alpha1` SyncTargetStatus) and a `Ready` condition; the syncer writes both
(the reference syncer's writer is `syncer/engine/heartbeat.py`), everyone else reads them here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

READY_CONDITION = "Ready"
HEARTBEAT_FIELD = "lastSyncerHeartbeatTime"


def parse_time(text: object) -> float | None:
    """An RFC 3339 timestamp as seconds since the epoch; None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def last_heartbeat(sync_target: Mapping[str, Any]) -> float | None:
    """When a SyncTarget's syncer last beat, in seconds since the epoch; None before it ever
    did."""
    return parse_time((sync_target.get("status") or {}).get(HEARTBEAT_FIELD))
