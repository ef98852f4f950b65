"""The event loop a service process runs on: uvloop or asyncio's own.

The API servers run on uvloop by default: they only accept connections, and under the load
test uvloop's C transports cost 7 to 18% less CPU per placed cycle than asyncio's selector
loop, and a fraction of the memory per TLS connection (docs/benchmarks.md, "uvloop, with every
waiting connection accepted"). Its servers accept one connection per loop iteration, which is
why they listen through `listener.Listener`. The services that also open connections (the hub,
the syncers, the simulator) stay on asyncio's loop: at 200 targets, under the fault tests'
cancelled connects, a syncer on uvloop lost its connections and then met uvloop's
"File descriptor N is used by transport" (uvloop issue 653, open: a connect cancelled at the
wrong moment leaves a transport holding a descriptor the kernel has reused).

`PYTEST_SYNCER_LOOP=asyncio` or `=uvloop` puts every service on that loop instead.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from collections.abc import Mapping

LOOP_VARIABLE = "PYTEST_SYNCER_LOOP"
LOOPS = ("uvloop", "asyncio")


def loop_choice(default: str = "asyncio", environ: Mapping[str, str] = os.environ) -> str:
    """`uvloop` or `asyncio`: what ``PYTEST_SYNCER_LOOP`` names, else the service's `default`
    (uvloop only where it is installed: it is a dependency except on Windows)."""
    named = environ.get(LOOP_VARIABLE, "").strip()
    if named and named not in LOOPS:
        raise ValueError(f"{LOOP_VARIABLE}={named!r}: choose one of {', '.join(LOOPS)}")
    installed = importlib.util.find_spec("uvloop") is not None
    if named == "uvloop" and not installed:
        raise ValueError(f"{LOOP_VARIABLE}=uvloop, but uvloop is not installed")
    choice = named or default
    return "asyncio" if choice == "uvloop" and not installed else choice


def new_loop(choice: str) -> asyncio.AbstractEventLoop:
    if choice == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()
