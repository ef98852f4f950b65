"""A watch's wait on either event loop the API servers run on: uvloop hands back a plain
`Handle` (no `when()`) for a timer due within its millisecond clock tick, which a watch's next
wait once read as a `TimerHandle`, killing the stream mid-watch (its client then heard nothing
until its read timeout); and it may run such a timer before its due time, so a wait must not
count on a timer that has already run. Each wait here is bounded; none is timed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from pytest_syncer.apiserver.api.object_api import Selection
from pytest_syncer.apiserver.api.watch import Watcher
from pytest_syncer.apiserver.store import ObjectKey, WatchEvent

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}
EVENT = WatchEvent(
    "ADDED", 1, ObjectKey("core/configmaps", "c", "ns", "x"), {"metadata": {"name": "x"}}, None
)


def run_on(loop_name: str, coroutine: Coroutine[Any, Any, None]) -> None:
    loop = LOOPS[loop_name]()
    try:
        loop.run_until_complete(coroutine)
    finally:
        loop.close()


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_wait_after_a_timer_due_within_a_tick_returns_with_the_next_event(
    loop_name: str,
) -> None:
    async def scenario() -> None:
        watcher = Watcher("core/configmaps", "c", None, Selection())
        for timeout in (0.0, 0.0001, 0.0009, 0.0001):
            await asyncio.wait_for(watcher.wait(timeout), 10)
        waiting = asyncio.ensure_future(watcher.wait(3600))
        await asyncio.sleep(0)
        assert not waiting.done(), "an hour's wait with nothing pending ended at once"
        watcher.offer(EVENT)
        await asyncio.wait_for(waiting, 10)
        assert watcher.drain(), "the offered event is pending"
        watcher.stop_timer()

    run_on(loop_name, scenario())


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_shorter_wait_after_a_longer_one_still_ends_by_its_own_timer(loop_name: str) -> None:
    async def scenario() -> None:
        watcher = Watcher("core/configmaps", "c", None, Selection())
        first = asyncio.ensure_future(watcher.wait(3600))
        await asyncio.sleep(0)
        watcher.close()
        await first
        watcher.closed = False
        await asyncio.wait_for(watcher.wait(0.01), 10)
        watcher.stop_timer()

    run_on(loop_name, scenario())
