"""A resync must never rescue a watch event the syncer missed within a wait: the reference
syncer the harness starts resyncs less often than the deadline of any event-driven wait, so a
syncer that drops an event fails the wait instead of passing it a resync period late.

Both sides come from the objects an environment is built from: the fleet `for_config` makes
(the syncer's command line) and the deadline a `Workload`'s waits use.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_syncer.harness.config import POOL_SIZE, resolve
from pytest_syncer.harness.run_stats import RunStats
from pytest_syncer.harness.syncers import SyncerFleet, SyncerProcess
from pytest_syncer.harness.workloads import Workload
from tests.support.wiring import flag_value, unstarted_wirings

TARGETS = ("target-000", "target-001")
CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}


def resync_of(process: SyncerProcess) -> float:
    return flag_value(process, "resync-period")


@pytest.mark.parametrize("timeout", [None, "0.5", "30", "600"])
def test_the_reference_syncer_resyncs_less_often_than_any_wait_ends(
    tmp_path: Path, timeout: str | None
) -> None:
    config = resolve({"syncer_timeout": timeout}, {"syncer_timeout"} if timeout else set())
    wirings = unstarted_wirings(TARGETS, tmp_path)
    fleet = SyncerFleet.for_config(
        config, wirings, tmp_path, pool_size=POOL_SIZE, wait_ready=lambda _: None
    )
    env: Any = SimpleNamespace(config=config, stats=RunStats())
    deadline = Workload(env, CONFIGMAP, "ns", TARGETS).timeout
    assert deadline == config.timeout
    pooled, alone = fleet.make(list(TARGETS)), fleet.make(["target-000"])
    for process in (pooled, alone):
        assert resync_of(process) > deadline, (
            f"the syncer resyncs every {resync_of(process):g}s, within the {deadline:g}s "
            "a wait allows: a resync would rescue a missed watch event"
        )


def test_the_run_says_how_resync_relates_to_the_waits() -> None:
    assert resolve({}, set()).resync_line() == (
        "syncer resync: 600s, 10x the 60s wait deadline: a watch event the syncer misses "
        "fails the wait, no resync rescues it"
    )
    command = resolve(
        {"syncer_command": "s {upstream_kubeconfig} {downstream_kubeconfig} {target}"},
        {"syncer_command"},
    )
    assert "set by --syncer-command, unknown to the harness" in command.resync_line()
