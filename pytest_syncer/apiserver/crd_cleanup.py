"""Deleting a CustomResourceDefinition as Kubernetes does: Terminating until its objects are gone.

A CRD is stored with the finalizer ``customresourcecleanup.apiextensions.k8s.io``, so DELETE
only marks it. This controller (an asyncio task fed by store events) then sets the CRD's
``Terminating`` condition, deletes its objects in that cluster (their own finalizers honoured:
they stay until those are removed; new objects are refused meanwhile), and once none is left
removes the finalizer, which removes the CRD and stops serving its types.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_syncer.apiserver.crds import CLEANUP_FINALIZER, CRD_KEY
from pytest_syncer.apiserver.garbage_collector import Policy
from pytest_syncer.apiserver.objects import CLUSTER_ANNOTATION, now_timestamp
from pytest_syncer.apiserver.store import ObjectKey, WatchEvent

if TYPE_CHECKING:
    from pytest_syncer.apiserver.api import ObjectAPI

logger = logging.getLogger(__name__)


def with_terminating_condition(crd: Mapping[str, Any]) -> dict[str, Any]:
    """The CRD with ``Terminating: True`` among its conditions (replacing an older one)."""
    status = dict(crd.get("status") or {})
    conditions = [c for c in status.get("conditions") or () if c.get("type") != "Terminating"]
    conditions.append(
        {
            "type": "Terminating",
            "status": "True",
            "reason": "InstanceDeletionInProgress",
            "message": "CustomResource deletion is in progress",
            "lastTransitionTime": now_timestamp(),
        }
    )
    status["conditions"] = conditions
    return {**crd, "status": status}


def is_terminating(crd: Mapping[str, Any]) -> bool:
    return any(
        c.get("type") == "Terminating" and c.get("status") == "True"
        for c in (crd.get("status") or {}).get("conditions") or ()
    )


class CustomResourceCleanup:
    """Empties deleted CRDs, then lets them go; :meth:`observe` is a store listener."""

    def __init__(self, api: ObjectAPI) -> None:
        self.api = api
        #: (cluster, store key of its objects) -> the terminating CRD's name.
        self._emptying: dict[tuple[str, str], str] = {}
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    def observe(self, event: WatchEvent) -> None:
        key = event.key
        if key.resource == CRD_KEY:
            metadata = event.object["metadata"]
            if event.type != "DELETED" and metadata.get("deletionTimestamp"):
                self._queue.put_nowait((key.cluster, key.name))
            return
        if event.type == "DELETED" and self._emptying:
            name = self._emptying.get((key.cluster, key.resource))
            if name is not None:
                self._queue.put_nowait((key.cluster, name))

    def rebuild(self) -> None:
        """Pick up CRDs that were being deleted when the server stopped."""
        for crd in self.api.store.list_objects(CRD_KEY):
            metadata = crd["metadata"]
            if metadata.get("deletionTimestamp"):
                cluster = (metadata.get("annotations") or {}).get(CLUSTER_ANNOTATION, "")
                self._queue.put_nowait((cluster, metadata["name"]))

    async def run(self) -> None:
        while True:
            cluster, name = await self._queue.get()
            try:
                self._sweep(cluster, name)
            except Exception:
                logger.exception("cleaning up CRD %s in cluster %s failed", name, cluster)

    def _sweep(self, cluster: str, name: str) -> None:
        store = self.api.store
        key = ObjectKey(CRD_KEY, cluster, "", name)
        crd = store.get(key)
        if crd is None or not crd["metadata"].get("deletionTimestamp"):
            return
        if CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or ()):
            return
        if not is_terminating(crd):
            store.update(key, with_terminating_condition(crd))
        left = 0
        for object_key in self.api.crds.object_keys(cluster, name):
            self._emptying[(cluster, object_key)] = name
            for obj in store.list_objects(object_key, cluster):
                metadata = obj["metadata"]
                found = ObjectKey(
                    object_key, cluster, metadata.get("namespace", ""), metadata["name"]
                )
                if not metadata.get("deletionTimestamp"):
                    self.api.delete_key(found, obj, Policy.BACKGROUND)
                if store.get(found) is not None:
                    left += 1
        if left:
            return
        for object_key in self.api.crds.object_keys(cluster, name):
            self._emptying.pop((cluster, object_key), None)
        self.api.remove_finalizer(key, CLEANUP_FINALIZER)
