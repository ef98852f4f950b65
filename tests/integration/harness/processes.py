"""How many processes an embedded environment of the default options runs."""

from __future__ import annotations

from pytest_syncer.harness.clusters.embedded import spread
from pytest_syncer.harness.config import auto_apiservers


def embedded_processes(targets: int, syncer_pools: int = 1) -> int:
    """The API servers `--syncer-apiservers auto` gives `targets` targets on this machine, the
    simulator, the hub and the syncer pools."""
    names = [f"target-{index:03}" for index in range(targets)]
    return len(spread(names, auto_apiservers())) + 2 + syncer_pools
