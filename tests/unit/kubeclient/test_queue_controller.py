"""The queue-controller base: one key processed once per wait, errors logged, the loop kept."""

from __future__ import annotations

import logging

import pytest

from pytest_syncer.harness.waiting import await_until
from pytest_syncer.kubeclient.controller import QueueController


class Recorder(QueueController[str]):
    """Records the keys it processes; fails on the keys in ``failing`` (once each if ``flaky``)."""

    name = "recorder"

    def __init__(self, failing: set[str], *, flaky: bool = False) -> None:
        super().__init__()
        self.failing = failing
        self.flaky = flaky
        self.processed: list[str] = []

    async def process(self, key: str) -> None:
        self.processed.append(key)
        if key in self.failing:
            if self.flaky:
                self.failing.discard(key)
            raise RuntimeError(f"cannot process {key}")


class RetryingRecorder(Recorder):
    retry_on = (RuntimeError,)


async def _processed(controller: Recorder) -> list[str]:
    return list(controller.processed)


async def test_a_key_added_while_waiting_is_processed_once() -> None:
    controller = Recorder(set())
    for key in ("a", "b", "a", "a", "c"):
        controller.enqueue(key)
    controller.start()
    try:
        seen = await await_until(
            lambda: _processed(controller),
            lambda keys: len(keys) >= 3,
            what="keys a, b and c processed",
            timeout=5,
        )
    finally:
        await controller.stop()
    assert seen == ["a", "b", "c"]


async def test_a_failing_key_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    controller = Recorder({"bad"})
    caplog.set_level(logging.ERROR)
    controller.enqueue("bad")
    controller.enqueue("good")
    controller.start()
    try:
        seen = await await_until(
            lambda: _processed(controller),
            lambda keys: "good" in keys,
            what="the key after the failing one processed",
            timeout=5,
        )
    finally:
        await controller.stop()
    assert seen == ["bad", "good"]
    assert any(
        "recorder" in record.getMessage() and "bad" in record.getMessage()
        for record in caplog.records
    ), [record.getMessage() for record in caplog.records]


async def test_errors_of_retry_on_come_back_after_the_backoff() -> None:
    controller = RetryingRecorder({"flaky"}, flaky=True)
    controller.enqueue("flaky")
    controller.start()
    try:
        seen = await await_until(
            lambda: _processed(controller),
            lambda keys: keys.count("flaky") >= 2,
            what="the flaky key processed a second time",
            timeout=5,
        )
    finally:
        await controller.stop()
    assert seen == ["flaky", "flaky"]


async def test_keys_queued_while_stopped_wait_for_the_next_start() -> None:
    controller = Recorder(set())
    controller.start()
    await controller.stop()
    controller.enqueue("later")
    controller.start()
    try:
        seen = await await_until(
            lambda: _processed(controller),
            lambda keys: bool(keys),
            what="the key queued while stopped processed after start",
            timeout=5,
        )
    finally:
        await controller.stop()
    assert seen == ["later"]


async def test_a_controller_built_around_a_callable_runs_its_workers_until_closed() -> None:
    processed: list[str] = []
    retried: list[str] = []

    async def process(key: str) -> None:
        processed.append(key)
        if processed.count(key) == 1 and key == "flaky":
            raise RuntimeError("once")

    controller: QueueController[str] = QueueController(
        process,
        name="callable",
        workers=2,
        retry_on=(Exception,),
        on_retry=lambda key, error, delay: retried.append(key),
    )
    controller.enqueue("flaky")
    controller.enqueue("later", 0.01)
    controller.start()
    assert sorted(task.get_name() for task in controller._tasks) == ["callable 0", "callable 1"]
    try:
        await await_until(
            lambda: _keys(processed),
            lambda keys: keys.count("flaky") == 2 and "later" in keys,
            what="the flaky key retried and the delayed key processed",
            timeout=5,
        )
    finally:
        await controller.close()
    assert retried == ["flaky"]
    controller.enqueue("after close")
    assert len(controller.queue) == 0


async def test_a_loop_that_ends_before_stop_is_logged_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    controller = Recorder(set())
    caplog.set_level(logging.ERROR)

    async def dies() -> None:
        raise RuntimeError("boom")

    controller.spawn(dies(), "side loop")
    try:
        messages = await await_until(
            lambda: _messages(caplog),
            lambda lines: any("side loop ended" in line for line in lines),
            what="the early end logged",
            timeout=5,
        )
    finally:
        with pytest.raises(RuntimeError):
            await controller.stop()
    assert messages


async def _keys(keys: list[str]) -> list[str]:
    return list(keys)


async def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]
