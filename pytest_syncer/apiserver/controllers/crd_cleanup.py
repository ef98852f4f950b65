"""The CRD cleanup controller: empties a deleted CustomResourceDefinition, then lets it go.

A CRD is stored with the finalizer ``customresourcecleanup.apiextensions.k8s.io``, so DELETE
only marks it. This controller then sets the CRD's ``Terminating`` condition, deletes its objects
in that cluster (their own finalizers honoured: they stay until those are removed; new objects
are refused meanwhile), and once none is left removes the finalizer, which removes the CRD and
stops serving its types, as apiextensions-apiserver's finalizer controller
(``pkg/controller/finalizer``) does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_syncer.apiserver.api.crds import CLEANUP_FINALIZER, CRD_KEY
from pytest_syncer.apiserver.api.deletion import Policy, is_terminating, with_terminating_condition
from pytest_syncer.apiserver.api.objects import CLUSTER_ANNOTATION
from pytest_syncer.apiserver.store import ObjectKey, WatchEvent
from pytest_syncer.kubeclient.controller import QueueController

if TYPE_CHECKING:
    from pytest_syncer.apiserver.api.object_api import ObjectAPI


class CustomResourceCleanup(QueueController[tuple[str, str]]):
    """Empties deleted CRDs, then lets them go; :meth:`observe` is a store listener."""

    name = "crd-cleanup"

    def __init__(self, api: ObjectAPI) -> None:
        super().__init__()
        self.api = api
        #: (cluster, store key of its objects) -> the terminating CRD's name.
        self._emptying: dict[tuple[str, str], str] = {}

    def observe(self, event: WatchEvent) -> None:
        key = event.key
        if key.resource == CRD_KEY:
            metadata = event.object["metadata"]
            if event.type != "DELETED" and metadata.get("deletionTimestamp"):
                self.enqueue((key.cluster, key.name))
            return
        if event.type == "DELETED" and self._emptying:
            name = self._emptying.get((key.cluster, key.resource))
            if name is not None:
                self.enqueue((key.cluster, name))

    def rebuild(self) -> None:
        """Pick up CRDs that were being deleted when the server stopped."""
        for crd in self.api.store.list_objects(CRD_KEY):
            metadata = crd["metadata"]
            if metadata.get("deletionTimestamp"):
                cluster = (metadata.get("annotations") or {}).get(CLUSTER_ANNOTATION, "")
                self.enqueue((cluster, metadata["name"]))

    async def process(self, key: tuple[str, str]) -> None:
        cluster, name = key
        self._sweep(cluster, name)

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
