"""The garbage collector of a process that is one long-running service.

What a service allocates until it is ready (modules, the official client's models, an API
server's bootstrap objects, a syncer's synced caches) lives as long as the process, and a full
collection walked all of it: 110-125 ms of CPU every few seconds in a syncer pool, a stall of
every target it serves. After start-up almost everything is freed by reference counting long
before a collection could see it, so CPython's young threshold of 700 allocations mostly
re-walks the same survivors: under load the collector took a sixth of a pool's CPU and about a
twentieth of the upstream API server's (docs/benchmarks.md).
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

YOUNG_THRESHOLD = 10_000
"""Allocations between two young collections (CPython's default is 700)."""


def settle_after_start() -> int:
    """Collect once (so no start-up garbage is kept for good), freeze what is alive out of
    the collector's way, and space young collections out; returns the objects frozen."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    frozen = gc.get_freeze_count()
    log.info("%d objects frozen out of garbage collection", frozen)
    return frozen
