"""The run's figures: percentiles, merging across workers, reconnects from the syncers' logs,
the summary lines, and the conflicts a wait settles."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.harness.run_stats import RunStats, percentile, tunnel_connects

latencies = st.lists(st.floats(min_value=0, max_value=600, allow_nan=False), min_size=1)


@given(latencies, st.floats(min_value=0.01, max_value=1))
def test_percentile_is_the_nearest_rank(values: list[float], fraction: float) -> None:
    found = percentile(values, fraction)
    assert found in values
    at_or_below = sum(1 for value in values if value <= found)
    assert at_or_below >= math.ceil(fraction * len(values))
    assert sum(1 for value in values if value < found) < math.ceil(fraction * len(values))


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


names = st.sampled_from(["target-000", "target-001", "target-002"])
stats = st.builds(
    RunStats,
    latencies=st.dictionaries(names, latencies, max_size=3),
    recoveries=st.dictionaries(names, latencies, max_size=3),
    conflicts_resolved=st.integers(0, 50),
    reconnects=st.integers(0, 50),
)


@given(stats)
def test_a_workers_figures_survive_the_trip_to_the_controller(figures: RunStats) -> None:
    figures.record_fault("kill-syncer", ["target-000"], None)
    figures.record_conflict("drift", "ns", ["target-000"])
    assert RunStats.from_dict(figures.to_dict()).to_dict() == figures.to_dict()


@given(stats, stats)
def test_merging_adds_everything_up(first: RunStats, second: RunStats) -> None:
    merged = RunStats.from_dict(first.to_dict())
    merged.merge(second)
    assert sorted(merged.all_latencies()) == sorted(first.all_latencies() + second.all_latencies())
    assert sorted(merged.all_recoveries()) == sorted(
        first.all_recoveries() + second.all_recoveries()
    )
    assert merged.reconnects == first.reconnects + second.reconnects
    assert merged.conflicts_resolved == first.conflicts_resolved + second.conflicts_resolved


def test_reconnects_are_connects_after_each_targets_first(tmp_path: Path) -> None:
    line = (
        "2026-12-05 10:59:28,265 INFO syncer pytest_syncer.tunnel.manager: target={} tunnel "
        "connected to wss://127.0.0.1:39207/clusters/upstream/.../{}/tunnel (token sha256:ab)\n"
    )
    (tmp_path / "syncer-pool1.log").write_text(
        line.format("target-000", "target-000") * 3 + line.format("target-001", "target-001")
    )
    (tmp_path / "syncer-target-001.log").write_text(line.format("target-001", "target-001"))
    logs = sorted(tmp_path.glob("*.log"))
    assert tunnel_connects(logs) == {"target-000": 3, "target-001": 2}
    figures = RunStats()
    figures.count_reconnects(logs)
    assert figures.reconnects == 3


def test_a_conflict_is_resolved_when_waits_held_on_all_its_targets() -> None:
    figures = RunStats()
    figures.record_conflict("drift", "ns", ["target-000"])
    figures.record_conflict("concurrent-writers", "ns", ["target-000", "target-001"])
    figures.settle("other-ns", ["target-000"])
    assert figures.conflicts_resolved == 0
    figures.settle("ns", ["target-000"])
    figures.settle("ns", ["target-000"])
    assert figures.conflicts_resolved == 1
    figures.settle("ns", ["target-001"])
    assert figures.conflicts_resolved == 2
    assert sum(figures.conflicts_injected.values()) == 2


def sync(figures: RunStats, target: str, seconds: float, written: float = 100.0) -> None:
    figures.record_sync(target, written, written + seconds)


def test_summary_lines() -> None:
    figures = RunStats()
    for value in [0.2, 0.4, 0.6, 0.8, 1.0]:
        sync(figures, "target-000", value)
    sync(figures, "target-001", 2.5)
    figures.record_fault("partition", ["target-002"], None)
    figures.fault_healed(["target-002"], 200.0)
    figures.record_fault("partition", ["target-002"], None)
    figures.record_conflict("drift", "ns", ["target-000"])
    figures.reconnects = 4
    assert figures.summary_lines() == [
        "sync latency: p50 0.60s, p95 2.50s, p99 2.50s over 6 copies on 2 targets "
        "(slowest target target-001, 2.50s)",
        "fault recovery: no wait observed a recovery",
        "conflicts: 1 injected (drift 1), 0 resolved",
        "faults: 2 injected (partition 2)",
        "tunnel reconnects: 4",
    ]


def test_the_partition_victim_recovers_and_is_not_the_slowest_sync() -> None:
    """The victim's copy, written during a 30 s partition, is seen 31 s after the write and
    1 s after the heal: a 1 s recovery; the other targets' syncs stay the sync latency."""
    figures = RunStats()
    figures.record_fault("partition", ["target-002"], None)
    sync(figures, "target-000", 0.25, written=100.0)
    sync(figures, "target-001", 0.5, written=100.0)
    figures.fault_healed(["target-002"], 130.0)
    sync(figures, "target-002", 31.0, written=100.0)
    sync(figures, "target-002", 0.125, written=140.0)
    assert figures.latencies == {"target-000": [0.25], "target-001": [0.5], "target-002": [0.125]}
    assert figures.recoveries == {"target-002": [1.0]}
    assert figures.summary_lines()[:2] == [
        "sync latency: p50 0.25s, p95 0.50s, p99 0.50s over 3 copies on 3 targets "
        "(slowest target target-001, 0.50s)",
        "fault recovery: p50 1.00s, p95 1.00s, p99 1.00s over 1 copies on 1 targets "
        "(slowest target target-002, 1.00s)",
    ]


def test_a_restart_fault_makes_every_targets_next_sync_a_recovery_from_the_write() -> None:
    """An API server restart at t=100 touches every target; a write at t=105 after it is seen
    at t=107: a 2 s recovery, timed from the write since the fault was over before it."""
    figures = RunStats()
    figures.record_fault("restart-apiserver", ["target-000", "target-001"], 100.0)
    sync(figures, "target-000", 2.0, written=105.0)
    figures.forget_faults()
    sync(figures, "target-001", 0.25, written=110.0)
    assert figures.recoveries == {"target-000": [2.0]}
    assert figures.latencies == {"target-001": [0.25]}


def test_a_link_fault_is_counted_by_the_proxy_and_its_target_recovers() -> None:
    """`faults.link` marks the target (`fault_lasts`); the proxy counts each fault it applies
    with no target of its own; the heal ends them; the target's next copy is a recovery."""
    figures = RunStats()
    figures.fault_lasts(["target-001"])
    figures.record_fault("link-blackhole", (), None)
    sync(figures, "target-000", 0.25, written=100.0)
    figures.fault_healed(["target-001"], 110.0)
    sync(figures, "target-001", 12.0, written=100.0)
    assert figures.latencies == {"target-000": [0.25]}
    assert figures.recoveries == {"target-001": [2.0]}
    assert figures.faults == {"link-blackhole": 1}
