"""What a crashed run left behind, found and removed by the next one.

Every environment writes an owner record under a well-known root (`$PYTEST_SYNCER_RUNS`, else
`$TMPDIR/pytest-syncer-<uid>`): the pytest process that owns it (pid and start time, so a
reused pid never passes for the owner), its directory and its processes. A clean session end
removes the record; a kill -9 or a power cut does not. At the next session start the plugin
looks at every record whose owner is gone: it kills the processes that still run there (the
recorded ones, and any pytest-syncer process whose command line names a path in that
directory) and removes the directory. A kept environment (`--syncer-keep`) is left alone while
any of its processes runs; once `pytest-syncer down` stopped it, its record and directory go.

Standard library only: the sweep runs at every session start.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pytest_syncer.process.proc import kill_group_or_process, our_processes, process_start

RUNS_VARIABLE = "PYTEST_SYNCER_RUNS"
RECORDS = "owners"


def runs_root() -> Path:
    """The well-known root of owner records (and of kept environments' directories)."""
    configured = os.environ.get(RUNS_VARIABLE)
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"pytest-syncer-{os.getuid()}"


@dataclass
class OwnerRecord:
    """One environment's owner, directory and processes (pid, start time)."""

    owner: int
    owner_started: str
    workdir: str
    processes: list[tuple[int, str]] = field(default_factory=list)
    kept: bool = False

    @classmethod
    def read(cls, path: Path) -> OwnerRecord:
        raw = json.loads(path.read_text())
        raw["processes"] = [(int(pid), str(started)) for pid, started in raw["processes"]]
        return cls(**raw)

    def owner_alive(self) -> bool:
        return process_start(self.owner) == self.owner_started

    def running(self) -> list[int]:
        """The processes of this environment that still run."""
        recorded = {pid for pid, started in self.processes if process_start(pid) == started}
        return sorted(recorded | set(_naming(Path(self.workdir))))


class OwnerRegistry:
    """The owner record of one environment, kept current while the session runs."""

    def __init__(self, workdir: Path, owner: int | None = None) -> None:
        """`owner` is the pytest process whose end stops the environment (this one by
        default; the xdist controller for an environment its workers share)."""
        owner = os.getpid() if owner is None else owner
        self.root = runs_root() / RECORDS
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(str(workdir).encode()).hexdigest()[:12]
        self.path = self.root / f"{owner}-{digest}.json"
        started = process_start(owner)
        if started is None:
            raise RuntimeError(f"the owner of {workdir}, pid {owner}, does not run")
        self.record = OwnerRecord(owner, started, str(workdir))
        self.update([])

    def update(self, pids: list[int], *, kept: bool = False) -> None:
        """Write the record with the environment's processes now (atomically)."""
        self.record.processes = [
            (pid, started) for pid in pids if (started := process_start(pid)) is not None
        ]
        self.record.kept = kept
        staging = self.path.with_suffix(".tmp")
        staging.write_text(json.dumps(asdict(self.record)))
        staging.replace(self.path)

    def release(self) -> None:
        """The environment stopped cleanly: nothing to sweep."""
        self.path.unlink(missing_ok=True)


def _naming(workdir: Path) -> list[int]:
    """pytest-syncer processes whose command line names a path inside `workdir`."""
    needles = {str(workdir).encode(), str(workdir.resolve()).encode()}
    return [
        pid
        for pid, args in our_processes()
        if any(needle in arg for arg in args for needle in needles)
    ]


def sweep(root: Path | None = None) -> list[str]:
    """Remove what crashed runs left; one line per environment removed, for the report."""
    records = (root or runs_root()) / RECORDS
    if not records.is_dir():
        return []
    removed: list[str] = []
    for path in sorted(records.glob("*.json")):
        try:
            record = OwnerRecord.read(path)
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if record.owner_alive():
            continue
        running = record.running()
        if record.kept and running:
            continue
        for pid in running:
            kill_group_or_process(pid)
        shutil.rmtree(record.workdir, ignore_errors=True)
        path.unlink(missing_ok=True)
        what = "a kept environment, stopped since" if record.kept else "a crashed run"
        removed.append(
            f"removed {what} (pytest pid {record.owner} gone): killed {len(running)} "
            f"processes {running}, removed {record.workdir}"
        )
    return removed
