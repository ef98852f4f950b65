"""The server's background controllers, started and stopped with the HTTP application.

Start-up first serves again the CustomResourceDefinitions a data dir kept, so the collector's
index and the requests that follow see their types.

The garbage collector, the namespace lifecycle, the CRD cleanup, the resource quotas and the
root CA publisher all hear every committed write (cheaply: they only queue work) and do that
work in their own asyncio tasks, between requests.
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.apiserver.api.object_api import ObjectAPI
from pytest_syncer.apiserver.controllers.base import StoreController
from pytest_syncer.apiserver.controllers.crd_cleanup import CustomResourceCleanup
from pytest_syncer.apiserver.controllers.garbage_collector import GarbageCollector
from pytest_syncer.apiserver.controllers.namespace_lifecycle import NamespaceLifecycle
from pytest_syncer.apiserver.controllers.resource_quota import ResourceQuotaController
from pytest_syncer.apiserver.controllers.root_ca_publisher import RootCAPublisher
from pytest_syncer.apiserver.store import WatchEvent


class Controllers:
    """Garbage collection, namespace and CRD deletion, quota usage and the root CA ConfigMap for
    every logical cluster."""

    def __init__(self, api: ObjectAPI) -> None:
        self._api = api
        self.garbage_collector = GarbageCollector(api)
        self.namespaces = NamespaceLifecycle(api)
        self.crd_cleanup = CustomResourceCleanup(api)
        self.resource_quotas = ResourceQuotaController(api)
        self.root_ca = RootCAPublisher(api)
        self._all: tuple[StoreController[Any], ...] = (
            self.garbage_collector,
            self.namespaces,
            self.crd_cleanup,
            self.resource_quotas,
            self.root_ca,
        )
        api.store.add_listener(self.observe)

    def observe(self, event: WatchEvent) -> None:
        for controller in self._all:
            controller.observe(event)

    async def start(self, _app: object = None) -> None:
        """Start every controller; ``_app`` lets this be an aiohttp on_startup hook."""
        self._api.crds.restore()
        for controller in self._all:
            controller.rebuild()
        for controller in self._all:
            controller.start()

    async def stop(self, _app: object = None) -> None:
        for controller in self._all:
            await controller.stop()
