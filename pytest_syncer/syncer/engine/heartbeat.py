"""The syncer's side of the SyncTarget heartbeat: it writes what
`pytest_syncer.contract.heartbeat` reads (the hub calls a target stale when this stops)."""

from __future__ import annotations

import asyncio

from pytest_syncer.contract.heartbeat import HEARTBEAT_FIELD, READY_CONDITION
from pytest_syncer.kubeclient.client import REQUEST_ERRORS, SYNC_TARGETS, KubeClient
from pytest_syncer.syncer.engine.events import now_rfc3339
from pytest_syncer.syncer.engine.targetlog import TargetLog


def heartbeat_patch(stamp: str, since: str) -> dict[str, object]:
    return {
        "status": {
            HEARTBEAT_FIELD: stamp,
            "conditions": [
                {
                    "type": READY_CONDITION,
                    "status": "True",
                    "reason": "SyncerHeartbeat",
                    "message": "the syncer is running and its informers have synced",
                    "lastTransitionTime": since,
                }
            ],
        }
    }


async def beat_forever(client: KubeClient, target: str, interval: float, log: TargetLog) -> None:
    """Patch the SyncTarget's status every `interval`; failures are logged and retried."""
    since = now_rfc3339()
    while True:
        try:
            await client.patch(
                SYNC_TARGETS, target, heartbeat_patch(now_rfc3339(), since), subresource="status"
            )
        except REQUEST_ERRORS as error:
            log.warning("heartbeat not written: %s", error)
        await asyncio.sleep(interval)
