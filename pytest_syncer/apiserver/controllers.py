"""The server's background controllers, started and stopped with the aiohttp application.

Start-up first serves again the CustomResourceDefinitions a data dir kept, so the collector's
index and the requests that follow see their types.

The garbage collector, the namespace lifecycle and the CRD cleanup all hear every committed
write (cheaply: they only queue work) and do that work in their own asyncio tasks, between
requests.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from pytest_syncer.apiserver.api import ObjectAPI
from pytest_syncer.apiserver.crd_cleanup import CustomResourceCleanup
from pytest_syncer.apiserver.garbage_collector import GarbageCollector
from pytest_syncer.apiserver.namespace_lifecycle import NamespaceLifecycle
from pytest_syncer.apiserver.store import WatchEvent


class Controllers:
    """Garbage collection, namespace and CRD deletion for every logical cluster of one server."""

    def __init__(self, api: ObjectAPI) -> None:
        self._api = api
        self.garbage_collector = GarbageCollector(api)
        self.namespaces = NamespaceLifecycle(api)
        self.crd_cleanup = CustomResourceCleanup(api)
        self._tasks: list[asyncio.Task[None]] = []
        api.store.add_listener(self.observe)

    def observe(self, event: WatchEvent) -> None:
        self.garbage_collector.observe(event)
        self.namespaces.observe(event)
        self.crd_cleanup.observe(event)

    async def start(self, _app: web.Application | None = None) -> None:
        self._api.crds.restore()
        self.garbage_collector.rebuild()
        self.namespaces.rebuild()
        self.crd_cleanup.rebuild()
        self._tasks = [
            asyncio.create_task(self.garbage_collector.run(), name="garbage-collector"),
            asyncio.create_task(self.namespaces.run(), name="namespace-lifecycle"),
            asyncio.create_task(self.crd_cleanup.run(), name="crd-cleanup"),
        ]

    async def stop(self, _app: web.Application | None = None) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
