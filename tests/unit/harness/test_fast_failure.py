"""A syncer that never heartbeats fails the environment once, quickly when its processes are
gone, and within the start-up deadline when they hang on (`sleep infinity`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from pytest_syncer.harness.config import HarnessConfig
from pytest_syncer.harness.environment import (
    SyncerEnvironment,
    SyncerNeverReady,
    _wait_heartbeats,
    startup_deadline,
)
from pytest_syncer.harness.kube import Cluster
from pytest_syncer.harness.waiting import WaitTimeout, wait_until


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


def test_a_wait_gives_up_at_once_with_the_reason_when_it_can_no_longer_hold() -> None:
    asked: list[int] = []

    def give_up() -> str | None:
        asked.append(1)
        return "the syncer process of target-001 exited" if len(asked) > 2 else None

    with pytest.raises(WaitTimeout, match=r"gave up after .*s \(the syncer process of target-001"):
        wait_until(lambda: 1, lambda value: value == 2, what="two", timeout=3600, give_up=give_up)
    assert len(asked) == 3


class Process:
    def __init__(self, running: bool) -> None:
        self.running = running


def test_the_environment_names_the_targets_whose_syncer_exited() -> None:
    processes = {"target-000": Process(True), "target-001": Process(False)}
    fleet = SimpleNamespace(process_of=lambda name: processes[name])
    env = cast(SyncerEnvironment, SimpleNamespace(syncers=fleet))
    exited = SyncerEnvironment.syncers_exited
    assert exited(env, ["target-000"]) is None
    assert exited(env, ["target-000", "target-001"]) == "the syncer process of target-001 exited"
    assert exited(env, ["target-404"]) is None  # not this environment's to know
