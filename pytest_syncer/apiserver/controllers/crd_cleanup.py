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
from pytest_syncer.apiserver.api.deletion import is_terminating, with_terminating_condition
from pytest_syncer.apiserver.controllers.base import StoreController
from pytest_syncer.apiserver.store import ObjectKey, WatchEvent

if TYPE_CHECKING:
    from pytest_syncer.apiserver.api.object_api import ObjectAPI


class CustomResourceCleanup(StoreController[tuple[str, str]]):
    """Empties deleted CRDs, then lets them go; :meth:`observe` is a store listener."""

    name = "crd-cleanup"

    def __init__(self, api: ObjectAPI) -> None:
        super().__init__(api)
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
        for cluster, crd in self.stored(CRD_KEY):
            if crd["metadata"].get("deletionTimestamp"):
                self.enqueue((cluster, crd["metadata"]["name"]))

    async def process(self, key: tuple[str, str]) -> None:
        cluster, name = key
        crd = self.terminating(CRD_KEY, cluster, name)
        if crd is None or CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or ()):
            return
        crd_key = ObjectKey(CRD_KEY, cluster, "", name)
        if not is_terminating(crd):
            self.api.store.update(crd_key, with_terminating_condition(crd))
        left = 0
        for object_key in self.api.crds.object_keys(cluster, name):
            self._emptying[(cluster, object_key)] = name
            left += self.delete_each(object_key, cluster)
        if left:
            return
        for object_key in self.api.crds.object_keys(cluster, name):
            self._emptying.pop((cluster, object_key), None)
        self.api.remove_finalizer(crd_key, CLEANUP_FINALIZER)
