"""Waiting on a condition with a deadline, and saying what was last seen when it never held.

kcp's e2e suite taught that "condition never satisfied" with no detail is the worst flake
report; every wait here names what it waited for and the last observation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline; the message says what was last seen."""


def _message(what: str, timeout: float, last: object, error: BaseException | None) -> str:
    text = f"timed out after {timeout:g}s waiting for {what}; last seen: {last!r}"
    if error is not None:
        text += f" (last error: {type(error).__name__}: {error})"
    return text


def wait_until(
    observe: Callable[[], T],
    accept: Callable[[T], bool],
    *,
    what: str,
    timeout: float = 30.0,
    interval: float = 0.05,
) -> T:
    """Call ``observe`` until ``accept`` holds for its result; return that result.

    Exceptions from ``observe`` count as "not yet" and are reported if the deadline passes.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    error: BaseException | None = None
    while True:
        try:
            value = observe()
        except Exception as exc:
            error = exc
        else:
            last, error = value, None
            if accept(value):
                return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(_message(what, timeout, last, error))
        time.sleep(interval)


async def await_until(
    observe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    *,
    what: str,
    timeout: float = 30.0,
    interval: float = 0.05,
) -> T:
    """The asyncio twin of :func:`wait_until`."""
    deadline = time.monotonic() + timeout
    last: object = None
    error: BaseException | None = None
    while True:
        try:
            value = await observe()
        except Exception as exc:
            error = exc
        else:
            last, error = value, None
            if accept(value):
                return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(_message(what, timeout, last, error))
        await asyncio.sleep(interval)
