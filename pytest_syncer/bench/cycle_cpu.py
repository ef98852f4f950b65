"""The environment's CPU per placed cycle: what each process of a load test's environment
(API servers, hub, syncers, simulator) spent on one `SyncLatencyUser` create+delete cycle.

CPU time (utime + stime from /proc) counts the work a cycle costs whatever else shares the
machine, where latency and throughput follow the load. The locust glue reads a snapshot when a
test starts, refreshes it while the test runs (a process that goes away keeps what was read
last), reads it again when the test stops, and logs `CycleCpu.line()`, with the machine's speed
over the test beside it (`reference_work`, sampled at each reading). Standard library only:
locust's gevent process imports it, and so do the unit tests without locust.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from pytest_syncer.bench.reference_work import ReferenceFigure
from pytest_syncer.process.proc import cpu_seconds, machine_cpu_ticks

PREFIX = "sync environment CPU per placed cycle"


def measurable() -> bool:
    """Whether this system has the /proc the figures are read from (Linux)."""
    return os.path.exists("/proc/self/stat") and os.path.exists("/proc/stat")


@dataclass(frozen=True)
class CpuSnapshot:
    """Each environment process's CPU seconds so far, and the machine's, at one moment."""

    at: float
    """`time.monotonic()` when it was read."""
    processes: dict[str, tuple[str, float]] = field(default_factory=dict)
    """By name: the process's start time (tells a reused pid) and its CPU seconds."""
    machine: tuple[int, int] | None = None
    """The machine's busy and total clock ticks, as `machine_cpu_ticks`."""


def read_snapshot(pids: dict[str, int], previous: CpuSnapshot | None = None) -> CpuSnapshot:
    """Read every named process now. One that is gone (or whose pid now belongs to a process
    started later) keeps its reading from `previous`; without one, it is left out."""
    processes = {}
    for name, pid in pids.items():
        reading = cpu_seconds(pid)
        earlier = previous.processes.get(name) if previous is not None else None
        if reading is not None and (earlier is None or earlier[0] == reading[0]):
            processes[name] = reading
        elif earlier is not None:
            processes[name] = earlier
    return CpuSnapshot(time.monotonic(), processes, machine_cpu_ticks())


@dataclass(frozen=True)
class CycleCpu:
    """The figures of one test: CPU ms per cycle by process, and how busy the CPUs were."""

    cycles: int
    seconds: float
    per_process_ms: dict[str, float]
    """CPU ms per cycle by process; with no cycle, CPU ms over the whole test."""
    environment_share: float
    """The environment's CPU over the test's wall time and all CPUs (0 to 1)."""
    machine_busy: float | None
    """The machine's busy share of its CPU time over the test, every process counted."""
    cpus: int
    reference: ReferenceFigure | None = None
    """The machine's speed over the same run (`reference_work`), beside the figures."""

    @property
    def total_ms(self) -> float:
        return sum(self.per_process_ms.values())

    def line(self) -> str:
        """The one line the load test logs when it stops."""
        each = ", ".join(f"{name} {ms:.1f}" for name, ms in self.per_process_ms.items())
        busy = "" if self.machine_busy is None else f", machine busy {self.machine_busy:.0%}"
        shares = f"environment {self.environment_share:.0%} of {self.cpus} CPUs{busy}"
        if self.reference is not None:
            shares += f"; {self.reference.text()}"
        if not self.cycles:
            return (
                f"{PREFIX}: no `sync create` succeeded; CPU over the test (ms): {each}, "
                f"total {self.total_ms:.1f} in {self.seconds:.1f} s; {shares}"
            )
        return (
            f"{PREFIX} (ms): {each}, total {self.total_ms:.1f} over {self.cycles} cycles "
            f"in {self.seconds:.1f} s; {shares}"
        )


def cycle_cpu(
    before: CpuSnapshot,
    after: CpuSnapshot,
    cycles: int,
    cpus: int,
    reference: ReferenceFigure | None = None,
) -> CycleCpu:
    """The figures from the snapshots at a test's start and stop and the cycles completed
    between them. Processes missing from `before` (gone already) are left out."""
    used = {
        name: after.processes.get(name, start)[1] - start[1]
        for name, start in before.processes.items()
    }
    seconds = after.at - before.at
    divisor = cycles if cycles else 1
    busy = None
    if before.machine is not None and after.machine is not None:
        ticks = after.machine[1] - before.machine[1]
        busy = (after.machine[0] - before.machine[0]) / ticks if ticks > 0 else None
    return CycleCpu(
        cycles=cycles,
        seconds=seconds,
        per_process_ms={name: 1000 * cpu / divisor for name, cpu in used.items()},
        environment_share=sum(used.values()) / (seconds * cpus) if seconds > 0 else 0.0,
        machine_busy=busy,
        cpus=cpus,
        reference=reference,
    )
