"""The server's background controllers, started and stopped with the HTTP application.

Start-up first serves again the CustomResourceDefinitions a data dir kept, so the collector's
index and the requests that follow see their types.

The garbage collector, the namespace lifecycle and the CRD cleanup all hear every committed
write (cheaply: they only queue work) and do that work in their own asyncio tasks, between
requests.
"""

from __future__ import annotations

from pytest_syncer.apiserver.api.object_api import ObjectAPI
from pytest_syncer.apiserver.controllers.crd_cleanup import CustomResourceCleanup
from pytest_syncer.apiserver.controllers.garbage_collector import GarbageCollector
from pytest_syncer.apiserver.controllers.namespace_lifecycle import NamespaceLifecycle
from pytest_syncer.apiserver.store import WatchEvent


class Controllers:
    """Garbage collection, namespace and CRD deletion for every logical cluster of one server."""

    def __init__(self, api: ObjectAPI) -> None:
        self._api = api
        self.garbage_collector = GarbageCollector(api)
        self.namespaces = NamespaceLifecycle(api)
        self.crd_cleanup = CustomResourceCleanup(api)
        api.store.add_listener(self.observe)

    def observe(self, event: WatchEvent) -> None:
        self.garbage_collector.observe(event)
        self.namespaces.observe(event)
        self.crd_cleanup.observe(event)

    async def start(self, _app: object = None) -> None:
        """Start every controller; ``_app`` lets this be an aiohttp on_startup hook."""
        self._api.crds.restore()
        self.garbage_collector.rebuild()
        self.namespaces.rebuild()
        self.crd_cleanup.rebuild()
        self.garbage_collector.start()
        self.namespaces.start()
        self.crd_cleanup.start()

    async def stop(self, _app: object = None) -> None:
        await self.garbage_collector.stop()
        await self.namespaces.stop()
        await self.crd_cleanup.stop()
