"""A work queue in client-go's shape: keys, not events, so a burst of changes costs one reconcile.

A key waits once however often it is added; a key being processed is never handed to a second
worker (an add during processing comes back after `done`); a failed key returns after a per-key
exponential backoff, and all retries together share a token bucket so a broken target cannot
hammer its API server.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

Clock = Callable[[], float]


class ShutDown(Exception):
    """The queue was shut down: workers stop."""


class ExponentialBackoff(Generic[K]):
    """`base * 2**(failures-1)`, capped: the delay before a failed key's next attempt."""

    def __init__(self, base: float = 0.005, cap: float = 30.0) -> None:
        self.base = base
        self.cap = cap
        self._failures: dict[K, int] = {}

    def next_delay(self, key: K) -> float:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        if failures >= 64:
            return self.cap
        return min(self.cap, self.base * float(2**failures))

    def failures(self, key: K) -> int:
        return self._failures.get(key, 0)

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved: the delay until the next retry may run."""

    def __init__(self, rate: float = 50.0, burst: int = 200, clock: Clock = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def reserve(self) -> float:
        """Take one token, now or in the future; return how long to wait for it."""
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.rate


class WorkQueue(Generic[K]):
    """Dedup, one worker per key at a time, delayed and rate-limited retries."""

    def __init__(
        self,
        backoff: ExponentialBackoff[K] | None = None,
        bucket: TokenBucket | None = None,
    ) -> None:
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._timers: dict[K, asyncio.TimerHandle] = {}
        """The delayed keys, each with its one timer (a fired timer leaves)."""
        self._backoff: ExponentialBackoff[K] = backoff or ExponentialBackoff()
        self._bucket = bucket or TokenBucket()
        self._idle: deque[asyncio.Future[None]] = deque()
        """Workers waiting for a key, oldest first: a key wakes one of them, not every worker
        of the target (an Event woke all of them for each key, and all but one slept again)."""
        self._shut_down = False

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def processing(self) -> int:
        return len(self._processing)

    @property
    def delayed(self) -> int:
        """Keys waiting for their delay (`add_after`, a retry's backoff)."""
        return len(self._timers)

    @property
    def shutting_down(self) -> bool:
        return self._shut_down

    def add(self, key: K) -> None:
        if self._shut_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        self._wake_one()

    def _wake_one(self) -> None:
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def add_after(self, key: K, delay: float) -> None:
        """Add once `delay` seconds have passed; many delayed adds of one key collapse."""
        if self._shut_down:
            return
        if delay <= 0:
            self.add(key)
            return
        if key in self._timers:
            return
        self._timers[key] = asyncio.get_running_loop().call_later(delay, self._fire, key)

    def _fire(self, key: K) -> None:
        del self._timers[key]
        self.add(key)

    def add_rate_limited(self, key: K) -> float:
        """Retry a failed key after its backoff (and the shared bucket's); returns the delay."""
        delay = max(self._backoff.next_delay(key), self._bucket.reserve())
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """The key succeeded: its next failure starts the backoff again."""
        self._backoff.forget(key)

    def failures(self, key: K) -> int:
        return self._backoff.failures(key)

    async def get(self) -> K:
        """The next key; this worker owns it until `done`. Raises `ShutDown` when shut down."""
        while not self._queue:
            if self._shut_down:
                raise ShutDown
            waiter = asyncio.get_running_loop().create_future()
            self._idle.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # the key it was woken for goes to another worker
                raise
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if key in self._dirty and not self._shut_down:
            self._queue.append(key)
            self._wake_one()

    async def serve(
        self,
        process: Callable[[K], Awaitable[float | None]],
        on_failure: Callable[[K, Exception, float], None],
        retry_on: tuple[type[Exception], ...] = (Exception,),
    ) -> None:
        """One worker: hand keys to `process` until the queue shuts down.

        A key that succeeds has its backoff forgotten, and comes back after the delay
        `process` returns, if any. A key that raises one of `retry_on` comes back after its
        backoff, and `on_failure(key, error, delay)` says so; any other error propagates.
        """
        while True:
            try:
                key = await self.get()
            except ShutDown:
                return
            try:
                again = await process(key)
            except retry_on as error:
                on_failure(key, error, self.add_rate_limited(key))
            else:
                self.forget(key)
                if again is not None:
                    self.add_after(key, again)
            finally:
                self.done(key)

    def shut_down(self) -> None:
        self._shut_down = True
        self._queue.clear()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        while self._idle:
            self._wake_one()
