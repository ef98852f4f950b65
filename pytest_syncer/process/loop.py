"""The event loop a service process runs on: uvloop where it is installed, else asyncio's.

Under the load test uvloop's C transports cost 8 to 10% less CPU per placed cycle than
asyncio's selector loop (docs/benchmarks.md, "uvloop, with every waiting connection
accepted"). Its servers accept one connection per loop iteration, which is why the servers
listen through `listener.Listener`. `PYTEST_SYNCER_LOOP=asyncio` puts a service on asyncio's
loop, to tell whether a problem is the loop's.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from collections.abc import Mapping

LOOP_VARIABLE = "PYTEST_SYNCER_LOOP"
LOOPS = ("uvloop", "asyncio")


def loop_choice(environ: Mapping[str, str] = os.environ) -> str:
    """`uvloop` or `asyncio`: what ``PYTEST_SYNCER_LOOP`` names, and when it names nothing,
    uvloop if it is installed (it is a dependency except on Windows, which it does not run on)."""
    named = environ.get(LOOP_VARIABLE, "").strip()
    if named and named not in LOOPS:
        raise ValueError(f"{LOOP_VARIABLE}={named!r}: choose one of {', '.join(LOOPS)}")
    installed = importlib.util.find_spec("uvloop") is not None
    if named == "uvloop" and not installed:
        raise ValueError(f"{LOOP_VARIABLE}=uvloop, but uvloop is not installed")
    if named:
        return named
    return "uvloop" if installed else "asyncio"


def new_loop(choice: str) -> asyncio.AbstractEventLoop:
    if choice == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()
