"""The shape every controller of the server's own objects shares.

Each hears every committed write through :meth:`observe` (on the event loop, so it only looks
and queues keys), picks up what a data dir kept through :meth:`rebuild` before it starts, and
does its work in :meth:`process`, between requests, like kube-controller-manager's controllers
do against a real server.
"""

from __future__ import annotations

import abc
from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from pytest_syncer.apiserver.api.deletion import Policy
from pytest_syncer.apiserver.api.objects import stored_cluster
from pytest_syncer.apiserver.store import ObjectKey, WatchEvent
from pytest_syncer.kubeclient.controller import QueueController

if TYPE_CHECKING:
    from pytest_syncer.apiserver.api.object_api import ObjectAPI

K = TypeVar("K", bound=Hashable)


class StoreController(QueueController[K], abc.ABC):
    """A queue controller that reads and writes the server's store through its object API."""

    def __init__(self, api: ObjectAPI) -> None:
        super().__init__()
        self.api = api

    @abc.abstractmethod
    def observe(self, event: WatchEvent) -> None:
        """Queue the keys ``event`` concerns; a store listener, so it must stay cheap."""

    @abc.abstractmethod
    def rebuild(self) -> None:
        """Index what the store already holds (a restart) and queue what is pending."""

    def terminating(self, resource: str, cluster: str, name: str) -> dict[str, Any] | None:
        """The cluster-scoped object ``name`` of ``resource`` if it is being deleted."""
        obj = self.api.store.get(ObjectKey(resource, cluster, "", name))
        if obj is None or not obj["metadata"].get("deletionTimestamp"):
            return None
        return obj

    def delete_each(self, resource: str, cluster: str, namespace: str | None = None) -> int:
        """Delete, in the background, every object of ``resource`` there not yet being deleted;
        how many are still stored (their own finalizers hold them)."""
        left = 0
        for obj in self.api.store.list_objects(resource, cluster, namespace):
            metadata = obj["metadata"]
            key = ObjectKey(resource, cluster, metadata.get("namespace", ""), metadata["name"])
            if not metadata.get("deletionTimestamp"):
                self.api.delete_key(key, obj, Policy.BACKGROUND)
            if self.api.store.get(key) is not None:
                left += 1
        return left

    def stored(self, resource: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every stored object of ``resource`` in every logical cluster, with its cluster."""
        for obj in self.api.store.list_objects(resource):
            yield stored_cluster(obj), obj
