"""`resident_kib` reads what `up` reports as each process's memory: VmRSS, in KiB, from
/proc/<pid>/status (proc(5): "VmRSS: Resident set size ... in kB"), None once the process is
gone. A child that touches 64 MiB more shows at least that much more."""

from __future__ import annotations

import subprocess
import sys

from pytest_syncer.process.proc import resident_kib
from tests.support.processes import gone_pid

HOLD = "import sys; data = bytearray({size}); print('ready', flush=True); sys.stdin.read()"


def resident_of_child(size: int) -> int:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD.format(size=size)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        rss = resident_kib(child.pid)
        assert rss is not None
        return rss
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(30)


def test_a_process_holding_64_mib_more_is_that_much_bigger() -> None:
    small = resident_of_child(0)
    big = resident_of_child(64 * 1024 * 1024)
    assert small > 1000, f"a Python interpreter resident in {small} KiB"
    assert big - small >= 60 * 1024, f"64 MiB more showed as {big - small} KiB more"


def test_a_gone_process_has_no_memory() -> None:
    assert resident_kib(gone_pid(resident_kib)) is None
