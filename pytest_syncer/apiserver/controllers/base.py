"""One small base for a controller: a named loop taking keys from a work queue.

A controller hears about changes cheaply (its ``observe`` only adds keys, on the caller's event
loop) and does the work later in its own asyncio task, one key at a time. The queue is the
syncer's :class:`~pytest_syncer.syncer.workqueue.WorkQueue`, so a key added many times while it
waits is processed once, and never by two workers at once. A key whose processing fails is
logged and dropped: the controller keeps serving, and the next change to that key queues it
again. Errors of the types in ``retry_on`` are instead retried after the queue's backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable
from typing import Generic, TypeVar

from pytest_syncer.kubeclient.workqueue import WorkQueue

K = TypeVar("K", bound=Hashable)

logger = logging.getLogger(__name__)


class QueueController(Generic[K]):
    """Subclasses set :attr:`name` and implement :meth:`process`; :meth:`enqueue` feeds them."""

    #: The asyncio task's name and the log's word for this controller.
    name = "controller"
    #: Failures retried with the queue's backoff; any other error is logged and the key dropped.
    retry_on: tuple[type[Exception], ...] = ()

    def __init__(self) -> None:
        self.queue: WorkQueue[K] = WorkQueue()
        self._task: asyncio.Task[None] | None = None

    def enqueue(self, key: K) -> None:
        self.queue.add(key)

    async def process(self, key: K) -> float | None:
        """Do the work for ``key``; return seconds after which to process it again, or None."""
        raise NotImplementedError

    async def run(self) -> None:
        """Serve keys until cancelled or the queue shuts down."""
        await self.queue.serve(self._process_logged, self._retrying, self.retry_on)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop; keys queued meanwhile wait for the next :meth:`start`."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _process_logged(self, key: K) -> float | None:
        try:
            return await self.process(key)
        except self.retry_on:
            raise
        except Exception:
            logger.exception("%s: processing %s failed", self.name, key)
            return None

    def _retrying(self, key: K, error: Exception, delay: float) -> None:
        logger.warning(
            "%s: processing %s failed (%s); retrying in %.3fs", self.name, key, error, delay
        )
