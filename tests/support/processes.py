"""A child process that has exited and been reaped, for readers of /proc that must say "gone"."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from pytest_syncer.harness.waiting import wait_until


def gone_pid(read: Callable[[int], object]) -> int:
    """The pid of a child that ran and was reaped, once ``read(pid)`` gives None for it (the
    kernel may keep /proc/<pid> a moment after the wait)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)
    wait_until(
        lambda: read(child.pid),
        lambda reading: reading is None,
        what=f"pid {child.pid} to leave /proc",
        timeout=10,
    )
    return child.pid
