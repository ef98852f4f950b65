"""Downstream namespaces: one per (upstream namespace, target), made on demand, removed when empty.

A namespace carries the locator it was named after and the target's cluster label, so the
engine can map any object below back to its upstream namespace, and so two targets that share
one physical cluster never share a namespace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from functools import lru_cache, partial

from pytest_syncer.contract.naming import CLUSTER_LABEL, LOCATOR_ANNOTATION
from pytest_syncer.contract.objects import KubeObject, NamespaceLocator
from pytest_syncer.kubeclient.client import NAMESPACES, REQUEST_ERRORS, ApiError, KubeClient
from pytest_syncer.kubeclient.reflector import Reflector
from pytest_syncer.syncer.engine.targetlog import TargetLog
from pytest_syncer.syncer.interfaces import TransformContext

_read_locator = lru_cache(maxsize=4096)(NamespaceLocator.from_json)
"""A locator annotation read once: every event of a copy below maps its namespace back."""


class NamespaceNotReady(Exception):
    """The namespace below is terminating, or belongs to another locator: try again later."""


class DownstreamNamespaces:
    def __init__(
        self,
        client: KubeClient,
        cache: Reflector,
        context: TransformContext,
        log: TargetLog,
    ) -> None:
        self._client = client
        self._cache = cache
        self._context = context
        self._log = log
        self._empty_since: dict[str, float] = {}
        self._creating: dict[str, asyncio.Future[KubeObject]] = {}

    def locator_of(self, downstream_namespace: str) -> NamespaceLocator | None:
        """The locator of one of this target's namespaces, read from its annotation."""
        namespace = self._cache.get("", downstream_namespace)
        if namespace is None:
            return None
        text = (namespace["metadata"].get("annotations") or {}).get(LOCATOR_ANNOTATION)
        if not text:
            return None
        locator = _read_locator(text)
        if locator.sync_target != self._context.sync_target:
            return None
        return locator

    def build(self, locator: NamespaceLocator) -> KubeObject:
        return {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": locator.downstream_namespace,
                "labels": {CLUSTER_LABEL: self._context.sync_target.key},
                "annotations": {LOCATOR_ANNOTATION: locator.to_json()},
            },
        }

    async def ensure(self, upstream_namespace: str) -> str:
        """The downstream namespace for an upstream one, created when missing."""
        locator = self._context.locator(upstream_namespace)
        name = locator.downstream_namespace
        self._empty_since.pop(name, None)
        existing = self._cache.get("", name)
        if existing is None:
            creating = self._creating.get(name)
            if creating is None:
                creating = asyncio.ensure_future(self._create(locator, upstream_namespace))
                self._creating[name] = creating
                creating.add_done_callback(partial(self._created, name))
            existing = await asyncio.shield(creating)
        self._check(existing, locator)
        return name

    def _created(self, name: str, creating: asyncio.Future[KubeObject]) -> None:
        """Forget the create once done; its error is the waiters' (retrieved here, so one
        whose waiters were all cancelled is not reported as never retrieved)."""
        self._creating.pop(name, None)
        if not creating.cancelled():
            creating.exception()

    async def _create(self, locator: NamespaceLocator, upstream_namespace: str) -> KubeObject:
        """One create per namespace in flight: the workers that find it missing at once (the
        first copies of a burst, one per worker) wait for that one, instead of each sending a
        create that is answered AlreadyExists and then reading the namespace again."""
        name = locator.downstream_namespace
        try:
            created = await self._client.create(NAMESPACES, self.build(locator))
        except ApiError as error:
            if not error.already_exists:
                raise
            return await self._client.get(NAMESPACES, name)
        self._log.info("namespace %s created for %s", name, upstream_namespace)
        return created

    def _check(self, namespace: KubeObject, locator: NamespaceLocator) -> None:
        metadata = namespace["metadata"]
        if metadata.get("deletionTimestamp"):
            raise NamespaceNotReady(f"namespace {metadata['name']} is terminating")
        found = (metadata.get("annotations") or {}).get(LOCATOR_ANNOTATION)
        if found != locator.to_json():
            raise NamespaceNotReady(
                f"namespace {metadata['name']} belongs to another locator ({found!r}): "
                "a locator collision"
            )

    async def clean_up_forever(self, delay: float, occupied: Callable[[], Iterable[str]]) -> None:
        """Delete this target's namespaces that stayed empty for `delay` seconds.

        A cluster that cannot be reached (restarting, say) is only a failed round: letting
        the error end this loop left every namespace emptied afterwards behind for good."""
        interval = max(0.2, min(delay / 2, 5.0))
        while True:
            await asyncio.sleep(interval)
            if not self._cache.cache:
                continue  # no namespace below: nothing to weigh against every cached object
            try:
                await self.clean_up(delay, set(occupied()))
            except REQUEST_ERRORS as error:
                self._log.warning(
                    "namespace clean-up failed (%s: %s); trying again", type(error).__name__, error
                )

    async def clean_up(self, delay: float, occupied: set[str]) -> None:
        now = time.monotonic()
        for namespace in self._cache.objects():
            metadata = namespace["metadata"]
            name = metadata["name"]
            if name in occupied or metadata.get("deletionTimestamp"):
                self._empty_since.pop(name, None)
                continue
            since = self._empty_since.setdefault(name, now)
            if now - since >= delay:
                self._empty_since.pop(name, None)
                await self._client.delete(NAMESPACES, name)
                self._log.info("namespace %s deleted: empty for %.0fs", name, now - since)
