"""`cpu_seconds` and `machine_cpu_ticks` read what the load tests' CPU per placed cycle is
made of. proc_pid_stat(5): utime (14) and stime (15) in clock ticks (sysconf(_SC_CLK_TCK)),
starttime (22); proc_stat(5): the `cpu` line's user, nice, system, idle, iowait, irq, softirq,
steal in the same ticks, guest time already counted in user (procps-ng vmstat, MR 113). Read
against this test's own process, whose CPU `time.process_time()` knows exactly."""

from __future__ import annotations

import os
import time

from pytest_syncer.process.proc import cpu_seconds, machine_cpu_ticks, process_start
from tests.support.processes import gone_pid

TICK = 1 / os.sysconf("SC_CLK_TCK")
BURN = 0.3
"""CPU seconds of work the test does between two readings."""


def burn(seconds: float) -> None:
    """Spend `seconds` of this process's CPU (work, not waiting)."""
    until = time.process_time() + seconds
    while time.process_time() < until:
        sum(range(1000))


def test_this_process_cpu_is_what_process_time_says_to_a_tick() -> None:
    exact_before = time.process_time()
    reading = cpu_seconds(os.getpid())
    exact_after = time.process_time()
    assert reading is not None
    started, seconds = reading
    assert started == process_start(os.getpid())
    # /proc rounds down to whole ticks of the same total the kernel keeps.
    assert exact_before - 2 * TICK <= seconds <= exact_after + TICK, (seconds, exact_before)


def test_work_between_two_readings_shows_in_the_process_and_the_machine() -> None:
    process_before = cpu_seconds(os.getpid())
    machine_before = machine_cpu_ticks()
    burn(BURN)
    process_after = cpu_seconds(os.getpid())
    machine_after = machine_cpu_ticks()
    assert process_before is not None
    assert process_after is not None
    assert machine_before is not None
    assert machine_after is not None
    assert process_after[0] == process_before[0], "the same process, the same start time"
    used = process_after[1] - process_before[1]
    assert used >= BURN - 2 * TICK, f"{used} s read after {BURN} s of work"
    busy = (machine_after[0] - machine_before[0]) * TICK
    total = (machine_after[1] - machine_before[1]) * TICK
    assert busy >= used - 2 * TICK, f"the machine busy {busy} s, this process alone {used} s"
    assert 0 <= busy <= total, (busy, total)


def test_a_gone_process_has_no_cpu_reading() -> None:
    assert cpu_seconds(gone_pid(cpu_seconds)) is None
