"""The load tests' CPU per placed cycle from two snapshots (fixed vectors), and the snapshots
read from /proc: a process that went away keeps what was read last, a reused pid is not
mistaken for the process it replaced."""

from __future__ import annotations

import os

import pytest

from pytest_syncer.bench.cycle_cpu import CpuSnapshot, cycle_cpu, read_snapshot
from pytest_syncer.bench.reference_work import ReferenceFigure
from pytest_syncer.process.proc import cpu_seconds
from tests.support.processes import gone_pid

BEFORE = CpuSnapshot(
    at=100.0,
    processes={"apiserver": ("11", 10.0), "hub": ("12", 5.0), "syncer-pool1": ("13", 7.0)},
    machine=(1000, 2000),
)
AFTER = CpuSnapshot(
    at=130.0,
    processes={"apiserver": ("11", 16.12), "hub": ("12", 5.9), "syncer-pool1": ("13", 11.0)},
    machine=(1000 + 5580, 2000 + 6000),
)


def test_cpu_per_cycle_by_process_the_total_and_the_shares() -> None:
    figures = cycle_cpu(BEFORE, AFTER, cycles=100, cpus=2)
    assert figures.per_process_ms == pytest.approx(
        {"apiserver": 61.2, "hub": 9.0, "syncer-pool1": 40.0}
    )
    assert figures.total_ms == pytest.approx(110.2)
    assert figures.seconds == pytest.approx(30.0)
    # 11.02 CPU seconds over 30 s of 2 CPUs; 5580 busy ticks of 6000.
    assert figures.environment_share == pytest.approx(11.02 / 60)
    assert figures.machine_busy == pytest.approx(0.93)
    assert figures.line() == (
        "sync environment CPU per placed cycle (ms): apiserver 61.2, hub 9.0, "
        "syncer-pool1 40.0, total 110.2 over 100 cycles in 30.0 s; "
        "environment 18% of 2 CPUs, machine busy 93%"
    )


def test_the_machines_speed_over_the_same_run_ends_the_line() -> None:
    speed = ReferenceFigure(median_ms=198.4, low_ms=117.2, high_ms=205.0, samples=16)
    line = cycle_cpu(BEFORE, AFTER, cycles=100, cpus=2, reference=speed).line()
    assert line.endswith(
        "environment 18% of 2 CPUs, machine busy 93%; "
        "reference work 198 ms (median of 16, 117 to 205)"
    )


def test_without_a_cycle_the_line_says_so_and_gives_the_cpu_of_the_whole_test() -> None:
    line = cycle_cpu(BEFORE, AFTER, cycles=0, cpus=2).line()
    assert line == (
        "sync environment CPU per placed cycle: no `sync create` succeeded; CPU over the test "
        "(ms): apiserver 6120.0, hub 900.0, syncer-pool1 4000.0, total 11020.0 in 30.0 s; "
        "environment 18% of 2 CPUs, machine busy 93%"
    )


def test_processes_gone_before_the_start_are_left_out_and_no_machine_no_busy_share() -> None:
    before = CpuSnapshot(at=0.0, processes={"hub": ("12", 1.0)}, machine=None)
    after = CpuSnapshot(at=10.0, processes={"hub": ("12", 2.0), "apiserver": ("11", 9.0)})
    figures = cycle_cpu(before, after, cycles=10, cpus=1)
    assert figures.per_process_ms == pytest.approx({"hub": 100.0})
    assert figures.machine_busy is None
    assert figures.line().endswith("; environment 10% of 1 CPUs")


def test_a_snapshot_reads_live_processes_and_keeps_the_last_reading_of_gone_ones() -> None:
    pids = {"self": os.getpid(), "gone": gone_pid(cpu_seconds)}
    first = read_snapshot(pids)
    assert set(first.processes) == {"self"}, "a process gone before the first reading is out"
    earlier = CpuSnapshot(at=first.at, processes={**first.processes, "gone": ("7", 3.5)})
    later = read_snapshot(pids, earlier)
    assert later.processes["gone"] == ("7", 3.5)
    assert later.processes["self"][1] >= first.processes["self"][1]
    assert later.machine is not None
    assert later.at >= first.at


def test_a_reused_pid_keeps_the_reading_of_the_process_it_replaced() -> None:
    """Our pid with another start time stands for a process that went and whose pid came back."""
    replaced = CpuSnapshot(at=0.0, processes={"apiserver": ("1", 42.0)})
    later = read_snapshot({"apiserver": os.getpid()}, replaced)
    assert later.processes == {"apiserver": ("1", 42.0)}
