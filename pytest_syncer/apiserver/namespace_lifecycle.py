"""Namespace deletion as Kubernetes does it: Terminating, then empty, then gone.

DELETE on a namespace only marks it (``deletionTimestamp``, ``status.phase: Terminating``); new
content is refused from then on. This controller, an asyncio task fed by store events, deletes
what the namespace holds (finalizers of the contents are honoured: those objects stay until
their finalizers are removed), and once nothing is left drops the ``kubernetes`` finalizer from
``spec.finalizers`` and removes the namespace.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from pytest_syncer.apiserver.garbage_collector import Policy
from pytest_syncer.apiserver.objects import CLUSTER_ANNOTATION, mark_deleting
from pytest_syncer.apiserver.store import ObjectKey, WatchEvent

if TYPE_CHECKING:
    from pytest_syncer.apiserver.api import ObjectAPI

logger = logging.getLogger(__name__)

NAMESPACE_KEY = "core/namespaces"
KUBERNETES_FINALIZER = "kubernetes"
TERMINATING = "Terminating"


def terminating(namespace: dict[str, Any]) -> dict[str, Any]:
    """The namespace as DELETE leaves it: deletionTimestamp set, phase Terminating."""
    marked = mark_deleting(namespace)
    marked["status"] = {**(namespace.get("status") or {}), "phase": TERMINATING}
    return marked


def without_spec_finalizer(namespace: dict[str, Any]) -> dict[str, Any]:
    """The namespace once its contents are gone: the ``kubernetes`` finalizer removed."""
    spec = dict(namespace.get("spec") or {})
    remaining = [f for f in spec.get("finalizers") or () if f != KUBERNETES_FINALIZER]
    if remaining:
        spec["finalizers"] = remaining
    else:
        spec.pop("finalizers", None)
    return {**namespace, "spec": spec}


def holds_back_release(namespace: dict[str, Any]) -> bool:
    """A namespace with spec finalizers left is not removed, whatever its metadata says."""
    return bool((namespace.get("spec") or {}).get("finalizers"))


class NamespaceLifecycle:
    """Empties Terminating namespaces; :meth:`observe` is a store listener."""

    def __init__(self, api: ObjectAPI) -> None:
        self.api = api
        self._terminating: set[tuple[str, str]] = set()
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    def observe(self, event: WatchEvent) -> None:
        key = event.key
        if key.resource == NAMESPACE_KEY:
            if event.type == "DELETED":
                self._terminating.discard((key.cluster, key.name))
            elif event.object["metadata"].get("deletionTimestamp"):
                self._terminating.add((key.cluster, key.name))
                self._queue.put_nowait((key.cluster, key.name))
        elif (
            event.type == "DELETED"
            and self._terminating
            and (key.cluster, key.namespace) in self._terminating
        ):
            self._queue.put_nowait((key.cluster, key.namespace))

    def rebuild(self) -> None:
        """Pick up namespaces that were Terminating when the server stopped."""
        for namespace in self.api.store.list_objects(NAMESPACE_KEY):
            metadata = namespace["metadata"]
            if metadata.get("deletionTimestamp"):
                cluster = (metadata.get("annotations") or {}).get(CLUSTER_ANNOTATION, "")
                self._terminating.add((cluster, metadata["name"]))
                self._queue.put_nowait((cluster, metadata["name"]))

    async def run(self) -> None:
        while True:
            cluster, name = await self._queue.get()
            try:
                self._sweep(cluster, name)
            except Exception:
                logger.exception("emptying namespace %s in cluster %s failed", name, cluster)

    def _sweep(self, cluster: str, name: str) -> None:
        store = self.api.store
        key = ObjectKey(NAMESPACE_KEY, cluster, "", name)
        namespace = store.get(key)
        if namespace is None or not namespace["metadata"].get("deletionTimestamp"):
            return
        left = 0
        seen: set[str] = set()
        for resource_type in self.api.registry.stored_types(cluster):
            if not resource_type.namespaced or resource_type.key in seen:
                continue
            seen.add(resource_type.key)
            for obj in store.list_objects(resource_type.key, cluster, name):
                object_key = ObjectKey(resource_type.key, cluster, name, obj["metadata"]["name"])
                if not obj["metadata"].get("deletionTimestamp"):
                    self.api.delete_key(object_key, obj, Policy.BACKGROUND)
                if store.get(object_key) is not None:
                    left += 1
        if left:
            return
        emptied = without_spec_finalizer(namespace)
        if namespace["metadata"].get("finalizers"):
            if emptied != namespace:
                store.update(key, emptied)
            return
        store.delete(key)
