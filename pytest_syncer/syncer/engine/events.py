"""Events on the upstream workload: what the syncer decided about it on one target, and why."""

from __future__ import annotations

import datetime
import secrets

from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.kubeclient.client import EVENTS, ApiError, KubeClient
from pytest_syncer.syncer.engine.targetlog import TargetLog

REPORTING_COMPONENT = "pytest-syncer"


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_event(
    workload: KubeObject, reason: str, message: str, warning: bool, target: str
) -> KubeObject:
    """A v1 Event whose involvedObject is the workload, in the workload's namespace."""
    metadata = workload["metadata"]
    stamp = now_rfc3339()
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{metadata['name']}.{secrets.token_hex(8)}",
            "namespace": metadata["namespace"],
        },
        "involvedObject": {
            "apiVersion": workload.get("apiVersion", ""),
            "kind": workload.get("kind", ""),
            "name": metadata["name"],
            "namespace": metadata["namespace"],
            "uid": metadata.get("uid", ""),
            "resourceVersion": metadata.get("resourceVersion", ""),
        },
        "reason": reason,
        "message": f"sync target {target}: {message}",
        "type": "Warning" if warning else "Normal",
        "source": {"component": f"{REPORTING_COMPONENT}/{target}"},
        "reportingComponent": REPORTING_COMPONENT,
        "reportingInstance": target,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


class EventRecorder:
    """Writes Events; a failed Event is logged, never a reason to fail the sync itself."""

    def __init__(self, client: KubeClient, log: TargetLog) -> None:
        self._client = client
        self._log = log

    async def record(
        self, workload: KubeObject, reason: str, message: str, *, warning: bool = False
    ) -> None:
        event = build_event(workload, reason, message, warning, self._log.target)
        try:
            await self._client.create(EVENTS, event)
        except ApiError as error:
            self._log.warning("event %s on %s not recorded: %s", reason, event["metadata"], error)
