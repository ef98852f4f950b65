"""What /proc says about a pid: whether it still runs, whether it is one of ours, when it
started. A pid is reused once its process is gone, so the start time (or the command line
naming pytest-syncer) is what tells a process we started from a stranger. Linux only, standard
library only: the plugin's session-start sweep and locust's gevent process both read it.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (field 3 on), or None when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()


def _ours(cmdline: bytes) -> bool:
    """A pytest-syncer command line (`pytest-syncer ...` or `python -m pytest_syncer ...`)."""
    return b"pytest_syncer" in cmdline.replace(b"-", b"_")


def process_start(pid: int) -> str | None:
    """The start time of `pid` in clock ticks since boot (/proc stat field 22), or None when
    it is gone or a zombie."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] == "Z":
        return None
    return fields[19]


def pid_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie counts as gone) and is a pytest-syncer process, not a
    stranger that reused the number."""
    fields = _stat_fields(pid)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return fields is not None and fields[0] != "Z" and _ours(cmdline)


def our_processes() -> Iterator[tuple[int, list[bytes]]]:
    """Every pytest-syncer process but this one, with its command-line arguments."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if _ours(cmdline):
            yield int(entry.name), cmdline.split(b"\0")


def resident_kib(pid: int) -> int | None:
    """The resident memory of `pid` in KiB (/proc/<pid>/status VmRSS), or None when gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def cpu_seconds(pid: int) -> tuple[str, float] | None:
    """`pid`'s start time (as `process_start`) and the CPU it has used, user plus system, in
    seconds (/proc stat fields 14 and 15, utime and stime in clock ticks); None when it is
    gone or a zombie. The start time tells a later reading of a reused pid from this one."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] == "Z":
        return None
    return fields[19], (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_ticks() -> tuple[int, int] | None:
    """The machine's busy and total CPU time since boot, in clock ticks, summed over its CPUs
    (/proc/stat's `cpu` line: busy is all but idle and iowait; guest time is already in user
    and nice, so it is not added twice); None without /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            line = stat.readline().split()
    except OSError:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(f) for f in line[1:9])
    total = user + nice + system + idle + iowait + irq + softirq + steal
    return total - idle - iowait, total


def kill_group_or_process(pid: int) -> None:
    """SIGKILL `pid`'s whole process group when it leads one, else `pid` alone; a process
    already gone (or not ours to signal) is left be."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
