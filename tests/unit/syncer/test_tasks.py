"""A target's forever loops: an early end is logged at once; close cancels quietly."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pytest_syncer.harness.waiting import await_until
from pytest_syncer.syncer.engine.tasks import ForeverTasks

log = logging.getLogger("test.forever")


async def forever() -> None:
    await asyncio.Event().wait()


async def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == log.name and r.levelno == logging.ERROR]


async def test_a_loop_that_dies_is_logged_at_once_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = ForeverTasks(log)

    async def clean_up() -> None:
        raise ConnectionResetError("the API server restarted")

    tasks.spawn(forever(), "target=t1 worker 0")
    tasks.spawn(clean_up(), "target=t1 namespace clean-up")
    [record] = await await_until(
        lambda: errors(caplog),
        lambda found: len(found) == 1,
        what="one error line for the loop that died",
        timeout=5,
    )
    assert "target=t1 namespace clean-up died" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ConnectionResetError)
    with pytest.raises(ConnectionResetError):
        await tasks.close()
    assert len(tasks) == 0


async def test_a_loop_that_returns_early_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    tasks = ForeverTasks(log)

    async def resync() -> None:
        return None

    tasks.spawn(resync(), "target=t1 resync")
    [record] = await await_until(
        lambda: errors(caplog),
        lambda found: len(found) == 1,
        what="one error line for the loop that ended",
        timeout=5,
    )
    assert "target=t1 resync ended before the syncer stopped" in record.getMessage()
    await tasks.close()


async def test_close_cancels_every_loop_without_a_word(caplog: pytest.LogCaptureFixture) -> None:
    tasks = ForeverTasks(log)
    for index in range(3):
        tasks.spawn(forever(), f"worker {index}")
    await tasks.close()
    assert len(tasks) == 0
    assert await errors(caplog) == []
