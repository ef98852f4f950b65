"""Waiting on a condition with a deadline, and saying what was last seen when it never held.

kcp's e2e suite taught that "condition never satisfied" with no detail is the worst flake
report; every wait here names what it waited for and the last observation.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline; the message says what was last seen."""


def _message(what: str, timeout: float, last: object, error: BaseException | None) -> str:
    text = f"timed out after {timeout:g}s waiting for {what}; last seen: {last!r}"
    if error is not None:
        text += f" (last error: {type(error).__name__}: {error})"
    return text


class _Rounds:
    """What one wait has seen: the last value, the error of the last round (if it failed) and
    the deadline it keeps."""

    def __init__(self, what: str, timeout: float) -> None:
        self.what = what
        self.timeout = timeout
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.last: object = None
        self.error: BaseException | None = None
        self._observing = False

    @contextlib.contextmanager
    def observing(self) -> Iterator[None]:
        """One round: an exception from ``observe`` is kept as the round's error (not yet),
        one from ``accept`` propagates."""
        self._observing = True
        try:
            yield
        except Exception as exc:
            if not self._observing:
                raise
            self.error = exc
        finally:
            self._observing = False

    def seen(self, value: T) -> T:
        self.last, self.error = value, None
        self._observing = False
        return value

    def check_deadline(self) -> None:
        if time.monotonic() >= self.deadline:
            raise WaitTimeout(_message(self.what, self.timeout, self.last, self.error))

    def given_up(self, reason: str) -> WaitTimeout:
        elapsed = time.monotonic() - self.started
        text = _message(self.what, self.timeout, self.last, self.error).replace(
            f"timed out after {self.timeout:g}s", f"gave up after {elapsed:.1f}s ({reason})", 1
        )
        return WaitTimeout(text)


def wait_until(
    observe: Callable[[], T],
    accept: Callable[[T], bool],
    *,
    what: str,
    timeout: float = 30.0,
    interval: float = 0.05,
    give_up: Callable[[], str | None] | None = None,
) -> T:
    """Call ``observe`` until ``accept`` holds for its result; return that result.

    Exceptions from ``observe`` count as "not yet" and are reported if the deadline passes.
    ``give_up`` is asked after each round that did not hold: a reason (what the wait needs can
    no longer happen) ends the wait at once instead of at the deadline.
    """
    rounds = _Rounds(what, timeout)
    while True:
        with rounds.observing():
            value = rounds.seen(observe())
            if accept(value):
                return value
        rounds.check_deadline()
        reason = give_up() if give_up is not None else None
        if reason:
            raise rounds.given_up(reason)
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
    rounds = _Rounds(what, timeout)
    while True:
        with rounds.observing():
            if accept(value := rounds.seen(await observe())):
                return value
        rounds.check_deadline()
        await asyncio.sleep(interval)
