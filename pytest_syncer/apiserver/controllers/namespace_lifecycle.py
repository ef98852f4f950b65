"""The namespace lifecycle controller: empties Terminating namespaces, then lets them go.

DELETE on a namespace only marks it (:func:`~pytest_syncer.apiserver.api.deletion.terminating`);
new content is refused from then on. This controller deletes what the namespace holds (finalizers
of the contents are honoured: those objects stay until their finalizers are removed), and once
nothing is left drops the ``kubernetes`` finalizer from ``spec.finalizers`` and removes the
namespace, as Kubernetes' namespace controller (``pkg/controller/namespace``) does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_syncer.apiserver.api.deletion import NAMESPACE_KEY, without_spec_finalizer
from pytest_syncer.apiserver.controllers.base import StoreController
from pytest_syncer.apiserver.store import ObjectKey, WatchEvent

if TYPE_CHECKING:
    from pytest_syncer.apiserver.api.object_api import ObjectAPI


class NamespaceLifecycle(StoreController[tuple[str, str]]):
    """Empties Terminating namespaces; :meth:`observe` is a store listener."""

    name = "namespace-lifecycle"

    def __init__(self, api: ObjectAPI) -> None:
        super().__init__(api)
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
        for cluster, namespace in self.stored(NAMESPACE_KEY):
            metadata = namespace["metadata"]
            if metadata.get("deletionTimestamp"):
                self._terminating.add((cluster, metadata["name"]))
                self.enqueue((cluster, metadata["name"]))

    async def process(self, key: tuple[str, str]) -> None:
        cluster, name = key
        namespace = self.terminating(NAMESPACE_KEY, cluster, name)
        if namespace is None:
            return
        resources = dict.fromkeys(
            resource_type.key
            for resource_type in self.api.registry.stored_types(cluster)
            if resource_type.namespaced
        )
        left = sum(self.delete_each(resource, cluster, name) for resource in resources)
        if left:
            return
        store = self.api.store
        namespace_key = ObjectKey(NAMESPACE_KEY, cluster, "", name)
        emptied = without_spec_finalizer(namespace)
        if namespace["metadata"].get("finalizers"):
            if emptied != namespace:
                store.update(namespace_key, emptied)
            return
        store.delete(namespace_key)
