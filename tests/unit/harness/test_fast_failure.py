"""A syncer that never heartbeats fails the environment once, quickly when its processes are
gone, and within the start-up deadline when they hang on (`sleep infinity`)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from pytest_syncer.harness.config import HarnessConfig
from pytest_syncer.harness.environment import SyncerNeverReady, _wait_heartbeats, startup_deadline
from pytest_syncer.harness.kube import Cluster


class Upstream:
    """SyncTargets that never got a heartbeat."""

    def list(self, kind: Any) -> list[dict[str, Any]]:
        return [{"metadata": {"name": "target-000"}, "status": {}}]


def test_exited_syncers_fail_the_wait_at_once() -> None:
    with pytest.raises(SyncerNeverReady, match=r"every syncer process exited .* target-000"):
        _wait_heartbeats(cast(Cluster, Upstream()), ["target-000"], 3600, lambda: False)


def test_a_hanging_syncer_fails_at_the_deadline_saying_which_targets() -> None:
    with pytest.raises(
        SyncerNeverReady, match=r"no heartbeat within 0.3s .* \(\['target-000'\], True\)"
    ):
        _wait_heartbeats(cast(Cluster, Upstream()), ["target-000"], 0.3, lambda: True)


def test_the_start_up_deadline_scales_with_the_environment() -> None:
    assert startup_deadline(HarnessConfig(targets=3, timeout=60)) == 63
    assert startup_deadline(HarnessConfig(targets=50, timeout=60)) == 110
