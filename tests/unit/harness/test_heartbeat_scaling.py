"""Heartbeats at scale: the reference syncers of a big environment heartbeat less often, so
all targets together write at most 50 heartbeats a second upstream, and the hub's staleness
threshold grows with the interval; 50 targets and fewer keep 1 s and 5 s (the fault tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_syncer.harness.config import POOL_SIZE, resolve
from pytest_syncer.harness.environment import heartbeat_threshold_for
from pytest_syncer.harness.syncers import SyncerFleet
from tests.support.wiring import flag_value, unstarted_wirings


def interval_flag(targets: int, tmp_path: Path) -> float:
    """The `--heartbeat-interval` of the first pool of an environment of `targets` targets."""
    names = [f"target-{index:03d}" for index in range(targets)]
    wirings = unstarted_wirings(names, tmp_path)
    fleet = SyncerFleet.for_config(
        resolve({}, set()), wirings, tmp_path, pool_size=POOL_SIZE, wait_ready=lambda _: None
    )
    return flag_value(fleet.make(names[:POOL_SIZE]), "heartbeat-interval")


@pytest.mark.parametrize(
    ("targets", "interval", "threshold"),
    [(5, 1.0, 5.0), (50, 1.0, 5.0), (200, 4.0, 20.0), (1000, 20.0, 100.0)],
)
def test_heartbeat_interval_and_threshold_scale_with_the_targets(
    tmp_path: Path, targets: int, interval: float, threshold: float
) -> None:
    assert interval_flag(targets, tmp_path) == interval
    assert heartbeat_threshold_for(targets) == threshold
    assert targets / interval <= 50, "heartbeat writes per second, all targets together"
