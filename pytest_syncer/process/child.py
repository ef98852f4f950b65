"""Conventions every long-running ``pytest-syncer`` command shares.

A service logs one line per event to stderr, prints exactly one JSON line to stdout once it
is ready (what a caller needs to reach it), and stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from functools import partial
from types import FrameType
from typing import Any

from pytest_syncer.process.collector import settle_after_start
from pytest_syncer.process.lifetime import Lifetime
from pytest_syncer.process.loop import loop_choice, new_loop

log = logging.getLogger(__name__)

ServiceFactory = Callable[[], AbstractAsyncContextManager[dict[str, Any]]]

LISTEN_BACKLOG = socket.SOMAXCONN
"""The listen backlog of every server a service opens: the kernel's cap, as Go's `net.Listen`
asks for (it reads /proc/sys/net/core/somaxconn), so kube-apiserver's. aiohttp's default of
128 overflowed when the syncer pools opened their connections at once at the start of a load
(two pools x 128 connections to one server): the kernel dropped the handshakes past the
backlog and each client's connect waited a second for the retransmission."""


class AsyncService(Lifetime, abc.ABC, start="_start", stop="_stop", stop_failed_start=True):
    """A service's life as an async context. A start that fails half-way stops what it had
    started, so a service that never became ready leaves no server or task behind."""

    @abc.abstractmethod
    async def _start(self) -> None:
        """Start every part; may fail part-way."""

    @abc.abstractmethod
    async def _stop(self) -> None:
        """Stop whatever `_start` got to; safe after a partial start."""


def configure_logging(component: str, level: str = "INFO") -> None:
    """One line per event on stderr: time, level, component, then the message.

    Messages name the target themselves (``target=us-east1 ...``) so a pooled process that
    serves many targets still writes lines a reader can grep by target.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(f"%(asctime)s %(levelname)s {component} %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "websockets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def announce_ready(payload: dict[str, Any]) -> None:
    """Print the one ready line on stdout; callers block on reading it."""
    sys.stdout.write(json.dumps(payload, sort_keys=True) + "\n")
    sys.stdout.flush()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    """Once: the teardown the first signal starts may run inside the block (a start-up that
    cleans up after itself), and a second signal must not cut it short there either."""
    for ignored in (signal.SIGINT, signal.SIGTERM):
        signal.signal(ignored, signal.SIG_IGN)
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """For the blocking commands (`up`, `soak`): inside the block SIGTERM raises
    KeyboardInterrupt as Ctrl-C does, once; after that, and once the block is left, both are
    ignored, so a second signal cannot cut the teardown short."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        yield
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)


@contextlib.asynccontextmanager
async def _stop_signals(*, ignore_when_done: bool) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        yield stop
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
            if ignore_when_done:
                # A second SIGTERM during shutdown (a supervisor's stop() racing the first
                # one) must not turn a clean exit into death by signal.
                signal.signal(signum, signal.SIG_IGN)


async def serve_until_signalled(factory: ServiceFactory, *, process_exits: bool = False) -> None:
    """Enter the service, announce it, and leave it when SIGTERM or SIGINT arrives.

    ``process_exits`` says the process is the service and ends with it: once ready, what it
    started with is settled out of the garbage collector's way, and later stop signals are
    ignored while it shuts down. In-process callers keep their own collector and signals.
    """
    async with _stop_signals(ignore_when_done=process_exits) as stop, factory() as ready:
        if process_exits:
            settle_after_start()
        announce_ready(ready)
        await stop.wait()


def run_service(factory: ServiceFactory, *, loop: str = "asyncio") -> int:
    """Blocking entry point for a command's ``main``: returns the process exit code. ``loop``
    is the service's event loop unless ``PYTEST_SYNCER_LOOP`` names one (`process/loop.py`)."""
    try:
        choice = loop_choice(loop)
    except ValueError as error:
        print(f"pytest-syncer: {error}", file=sys.stderr)
        return 2
    with asyncio.Runner(loop_factory=partial(new_loop, choice)) as runner:
        log.info("event loop: %s", choice)
        runner.run(serve_until_signalled(factory, process_exits=True))
    return 0
