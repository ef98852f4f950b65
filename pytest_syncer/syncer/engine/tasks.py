"""The loops a target runs until it stops, and a loud word when one of them ends sooner.

Workers, the heartbeat, the resync and the namespace clean-up each run for the life of the
target. One that dies stops part of the target's work for good, and without a word it looks like
a slow syncer until shutdown: the soak found a clean-up loop ended by a connection error during
an API server restart that way. So an early end is logged at once, with its traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any


class ForeverTasks:
    """Tasks meant to run until `close`; `spawn` them, `close` cancels and awaits them."""

    def __init__(self, log: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> None:
        self._log = log
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(self._ended)
        self._tasks.append(task)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if self._closing or task.cancelled():
            return
        error = task.exception()
        if error is None:
            self._log.error(
                "%s ended before the syncer stopped; its work is no longer done", task.get_name()
            )
        else:
            self._log.error(
                "%s died; its work is no longer done until the syncer restarts",
                task.get_name(),
                exc_info=error,
            )

    async def close(self) -> None:
        """Cancel every task and wait for all of them. The error of a task that died before
        (logged when it died) is raised here again, as awaiting that task always did."""
        self._closing = True
        for task in self._tasks:
            task.cancel()
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for result in results:
            if isinstance(result, Exception):
                raise result
