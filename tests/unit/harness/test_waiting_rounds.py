"""`harness/waiting.py`: a failing observation is "not yet", a failing acceptance is a bug."""

from __future__ import annotations

import pytest

from pytest_syncer.harness.waiting import WaitTimeout, await_until, wait_until


def flaky(results: list[object]) -> object:
    result = results.pop(0)
    if isinstance(result, Exception):
        raise result
    return result


def refuse(value: object) -> bool:
    raise TypeError("accept is broken")


def test_observe_errors_are_retried_and_reported() -> None:
    results: list[object] = [OSError("down"), 1, 2]
    assert wait_until(lambda: flaky(results), lambda v: v == 2, what="two", interval=0) == 2
    failing: list[object] = [1] + [OSError("down")] * 10_000
    with pytest.raises(WaitTimeout, match=r"last seen: 1 \(last error: OSError: down\)"):
        wait_until(
            lambda: flaky(failing), lambda v: False, what="never", timeout=0.05, interval=0.001
        )


def test_accept_errors_propagate() -> None:
    with pytest.raises(TypeError, match="accept is broken"):
        wait_until(lambda: 1, refuse, what="x", timeout=1)


def test_give_up_says_why() -> None:
    with pytest.raises(WaitTimeout, match=r"gave up after .*\(gone\)"):
        wait_until(lambda: 1, lambda v: False, what="x", give_up=lambda: "gone")


async def test_async_twin() -> None:
    results: list[object] = [OSError("down"), 3]

    async def observe() -> object:
        return flaky(results)

    assert await await_until(observe, lambda v: v == 3, what="three", interval=0) == 3
    with pytest.raises(TypeError, match="accept is broken"):
        await await_until(observe_one, refuse, what="x", timeout=1)


async def observe_one() -> object:
    return 1
