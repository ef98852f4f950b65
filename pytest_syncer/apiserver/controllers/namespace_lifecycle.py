"""The namespace lifecycle controller: empties Terminating namespaces, then lets them go.

DELETE on a namespace only marks it (:func:`~pytest_syncer.apiserver.api.deletion.terminating`);
new content is refused from then on. This controller deletes what the namespace holds (finalizers
of the contents are honoured: those objects stay until their finalizers are removed), and once
nothing is left drops the ``kubernetes`` finalizer from ``spec.finalizers`` and removes the
namespace, as Kubernetes' namespace controller (``pkg/controller/namespace``) does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_syncer.apiserver.api.deletion import NAMESPACE_KEY, Policy, without_spec_finalizer
from pytest_syncer.apiserver.api.objects import CLUSTER_ANNOTATION
from pytest_syncer.apiserver.store import ObjectKey, WatchEvent
from pytest_syncer.kubeclient.controller import QueueController

if TYPE_CHECKING:
    from pytest_syncer.apiserver.api.object_api import ObjectAPI


class NamespaceLifecycle(QueueController[tuple[str, str]]):
    """Empties Terminating namespaces; :meth:`observe` is a store listener."""

    name = "namespace-lifecycle"

    def __init__(self, api: ObjectAPI) -> None:
        super().__init__()
        self.api = api
        self._terminating: set[tuple[str, str]] = set()

    def observe(self, event: WatchEvent) -> None:
        key = event.key
        if key.resource == NAMESPACE_KEY:
            if event.type == "DELETED":
                self._terminating.discard((key.cluster, key.name))
            elif event.object["metadata"].get("deletionTimestamp"):
                self._terminating.add((key.cluster, key.name))
                self.enqueue((key.cluster, key.name))
        elif (
            event.type == "DELETED"
            and self._terminating
            and (key.cluster, key.namespace) in self._terminating
        ):
            self.enqueue((key.cluster, key.namespace))

    def rebuild(self) -> None:
        """Pick up namespaces that were Terminating when the server stopped."""
        for namespace in self.api.store.list_objects(NAMESPACE_KEY):
            metadata = namespace["metadata"]
            if metadata.get("deletionTimestamp"):
                cluster = (metadata.get("annotations") or {}).get(CLUSTER_ANNOTATION, "")
                self._terminating.add((cluster, metadata["name"]))
                self.enqueue((cluster, metadata["name"]))

    async def process(self, key: tuple[str, str]) -> None:
        cluster, name = key
        self._sweep(cluster, name)

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
