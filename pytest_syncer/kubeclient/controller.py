"""One small base for a controller: named loops taking keys from a work queue.

A controller hears about changes cheaply (its ``enqueue`` only adds keys, on the caller's event
loop) and does the work later in its own asyncio tasks, one key at a time per worker. The queue
is a :class:`~pytest_syncer.kubeclient.workqueue.WorkQueue`, so a key added many times while it
waits is processed once, and never by two workers at once. A key whose processing fails is
logged and dropped: the controller keeps serving, and the next change to that key queues it
again. Errors of the types in ``retry_on`` are instead retried after the queue's backoff.

Subclass it (set :attr:`name`, implement :meth:`process`), or build one around a callable:
``QueueController(self._reconcile, name=..., workers=4, retry_on=(Exception,))``. The workers
are meant to run until :meth:`stop` or :meth:`close`; one that ends sooner is logged at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

from pytest_syncer.kubeclient.workqueue import WorkQueue

K = TypeVar("K", bound=Hashable)

logger = logging.getLogger(__name__)


class QueueController(Generic[K]):
    """Subclasses set :attr:`name` and implement :meth:`process`; :meth:`enqueue` feeds them."""

    #: The asyncio tasks' name and the log's word for this controller.
    name = "controller"
    #: Failures retried with the queue's backoff; any other error is logged and the key dropped.
    retry_on: tuple[type[Exception], ...] = ()

    def __init__(
        self,
        process: Callable[[K], Awaitable[float | None]] | None = None,
        *,
        name: str | None = None,
        workers: int = 1,
        retry_on: tuple[type[Exception], ...] | None = None,
        on_retry: Callable[[K, Exception, float], None] | None = None,
    ) -> None:
        """``on_retry(key, error, delay)`` replaces the warning logged before a retry."""
        self.queue: WorkQueue[K] = WorkQueue()
        if name is not None:
            self.name = name
        if retry_on is not None:
            self.retry_on = retry_on
        self.workers = workers
        self._process = process
        self._on_retry = on_retry
        self._tasks: list[asyncio.Task[None]] = []

    def enqueue(self, key: K, after: float = 0.0) -> None:
        """Queue ``key``, once ``after`` seconds have passed if positive."""
        self.queue.add_after(key, after)

    async def process(self, key: K) -> float | None:
        """Do the work for ``key``; return seconds after which to process it again, or None."""
        if self._process is None:
            raise NotImplementedError
        return await self._process(key)

    async def run(self) -> None:
        """Serve keys until cancelled or the queue shuts down."""
        await self.queue.serve(self._process_logged, self._retrying, self.retry_on)

    def start(self) -> None:
        for index in range(self.workers):
            self.spawn(self.run(), self.name if self.workers == 1 else f"{self.name} {index}")

    def spawn(self, loop: Coroutine[Any, Any, None], name: str) -> None:
        """Run another loop beside the workers (a periodic look, say) until :meth:`stop`."""
        task = asyncio.create_task(loop, name=name)
        task.add_done_callback(self._ended)
        self._tasks.append(task)

    async def stop(self) -> None:
        """Cancel the loops; keys queued meanwhile wait for the next :meth:`start`, which
        starts the workers again (not the loops :meth:`spawn` ran)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """Shut the queue down for good (later keys are ignored) and stop the loops."""
        self.queue.shut_down()
        await self.stop()

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self.queue.shutting_down:
            return
        logger.error(
            "%s ended before it was stopped; its keys are no longer processed",
            task.get_name(),
            exc_info=task.exception(),
        )

    async def _process_logged(self, key: K) -> float | None:
        try:
            return await self.process(key)
        except self.retry_on:
            raise
        except Exception:
            logger.exception("%s: processing %s failed", self.name, key)
            return None

    def _retrying(self, key: K, error: Exception, delay: float) -> None:
        if self._on_retry is not None:
            self._on_retry(key, error, delay)
            return
        logger.warning(
            "%s: processing %s failed (%s); retrying in %.3fs", self.name, key, error, delay
        )
