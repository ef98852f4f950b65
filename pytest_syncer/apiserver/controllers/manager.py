"""The server's background controllers, started and stopped with the HTTP application.

Start-up first serves again the CustomResourceDefinitions a data dir kept, so the collector's
index and the requests that follow see their types.

The garbage collector, the namespace lifecycle, the CRD cleanup, the resource quotas and the
root CA publisher all
hear every committed write (cheaply: they only queue work) and do that work in their own
asyncio tasks, between requests.
"""

from __future__ import annotations

from pytest_syncer.apiserver.api.object_api import ObjectAPI
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
        api.store.add_listener(self.observe)

    def observe(self, event: WatchEvent) -> None:
        self.garbage_collector.observe(event)
        self.namespaces.observe(event)
        self.crd_cleanup.observe(event)
        self.resource_quotas.observe(event)
        self.root_ca.observe(event)

    async def start(self, _app: object = None) -> None:
        """Start every controller; ``_app`` lets this be an aiohttp on_startup hook."""
        self._api.crds.restore()
        self.garbage_collector.rebuild()
        self.namespaces.rebuild()
        self.crd_cleanup.rebuild()
        self.resource_quotas.rebuild()
        self.root_ca.rebuild()
        self.garbage_collector.start()
        self.namespaces.start()
        self.crd_cleanup.start()
        self.resource_quotas.start()
        self.root_ca.start()

    async def stop(self, _app: object = None) -> None:
        await self.garbage_collector.stop()
        await self.namespaces.stop()
        await self.crd_cleanup.stop()
        await self.resource_quotas.stop()
        await self.root_ca.stop()
