"""The syncer fleet at scale: a thousand targets are forty pooled processes, so their start-ups
and shutdowns overlap instead of queueing, and asking which process serves a target (every wait
does it for every placed target on every poll) costs the same at any size.

Fake processes record what the fleet asks of them; no syncer runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pytest_syncer.harness.config import MAX_POOLED_PROCESSES, resolve
from pytest_syncer.harness.syncers import SyncerFleet, SyncerProcess
from tests.support.wiring import unstarted_wirings


class FakeSyncer:
    """A syncer process that logs every call into the shared `log` and counts how often its
    `targets` are read."""

    def __init__(self, targets: Sequence[str], label: str, log: list[str]) -> None:
        self._targets = tuple(targets)
        self.log_path = Path(f"syncer-{label}.log")
        self.label = label
        self.log = log
        self.reads = 0
        self.started = False

    @property
    def targets(self) -> tuple[str, ...]:
        self.reads += 1
        return self._targets

    @property
    def running(self) -> bool:
        return self.started

    @property
    def pid(self) -> int | None:
        return 1 if self.started else None

    def start(self) -> None:
        self.started = True
        self.log.append(f"start {self.label}")

    def wait_started(self) -> None:
        self.log.append(f"wait {self.label}")

    def signal(self, signum: int) -> None:
        self.log.append(f"signal {self.label}")

    def stop(self) -> None:
        self.started = False
        self.log.append(f"stop {self.label}")


class FakeFleet(SyncerFleet):
    def __init__(self, targets: int, pool_size: int, tmp_path: Path) -> None:
        wirings = unstarted_wirings((f"target-{index:04d}" for index in range(targets)), tmp_path)
        self.log: list[str] = []
        self.ready: list[Sequence[str]] = []
        self.fakes: list[FakeSyncer] = []
        super().__init__(
            wirings,
            tmp_path,
            pool_size=pool_size,
            command=None,
            wait_ready=self.ready.append,
            resync_period=resolve({}, set()).resync_period,
        )

    def make(self, targets: Sequence[str]) -> SyncerProcess:
        fake = FakeSyncer(targets, f"pool{len(self.fakes) + 1}", self.log)
        self.fakes.append(fake)
        return fake


def test_every_pool_starts_before_the_fleet_waits_for_any(tmp_path: Path) -> None:
    fleet = FakeFleet(100, 25, tmp_path)
    fleet.start()
    labels = [f"pool{index}" for index in range(1, 5)]
    assert fleet.log == [f"start {label}" for label in labels] + [
        f"wait {label}" for label in labels
    ]
    assert [len(targets) for targets in fleet.ready] == [100]


def test_every_pool_is_signalled_before_the_fleet_waits_for_any_to_stop(tmp_path: Path) -> None:
    fleet = FakeFleet(75, 25, tmp_path)
    fleet.start()
    fleet.log.clear()
    fleet.stop()
    first_stop = fleet.log.index("stop pool1")
    assert all(entry.startswith("signal") for entry in fleet.log[:first_stop])
    assert {entry.split()[1] for entry in fleet.log[:first_stop]} == {"pool1", "pool2", "pool3"}
    assert fleet.log[first_stop:] == ["stop pool1", "stop pool2", "stop pool3"]


def test_finding_the_process_of_every_target_grows_linearly_with_the_targets(
    tmp_path: Path,
) -> None:
    """Looking up all N targets reads the fleet's processes O(N) times, not O(N x pools):
    at 1000 targets in pools of 25 a scan would read 20 processes per target on average."""
    reads = {}
    for size in (100, 1000):
        fleet = FakeFleet(size, 25, tmp_path)
        fleet.start()
        before = sum(fake.reads for fake in fleet.fakes)
        for name in fleet._wirings:
            assert fleet.process_of(name).targets.count(name) == 1
        reads[size] = sum(fake.reads for fake in fleet.fakes) - before
    assert reads[1000] <= 10 * reads[100], f"lookups grew faster than the targets: {reads}"


def test_pools_grow_past_their_size_rather_than_past_the_process_cap(tmp_path: Path) -> None:
    """1000 targets in pools of 25 would be 40 processes; the fleet makes 10 of 100 instead,
    and leaves a 200-target environment at 8 pools of 25."""
    for targets, pools in ((200, [25] * 8), (1000, [100] * 10), (1001, [101] * 9 + [92])):
        fleet = FakeFleet(targets, 25, tmp_path)
        fleet.start()
        assert [len(fake.targets) for fake in fleet.fakes] == pools
        assert len(fleet.fakes) <= MAX_POOLED_PROCESSES


def test_an_isolated_target_is_found_in_its_own_process(tmp_path: Path) -> None:
    fleet = FakeFleet(50, 25, tmp_path)
    fleet.start()
    alone = fleet.isolate("target-0003")
    assert alone.targets == ("target-0003",)
    assert fleet.process_of("target-0003") is alone
    assert "target-0003" not in fleet.process_of("target-0004").targets
    assert fleet.process_of("target-0004").running
