"""The syncer processes of an environment: the reference syncer pooled, or any syncer that
honours the command-line contract, one process per target.

A fault on one target's syncer first isolates that target: its pool is restarted without it
and it gets a process of its own, so killing it never takes other targets down.
"""

from __future__ import annotations

import contextlib
import shlex
import signal
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import yaml

from pytest_syncer.contract.wiring import TargetWiring
from pytest_syncer.process.parent import GroupLeader, ServiceProcess

FAST_FLAGS = (
    "--heartbeat-interval=1",
    "--namespace-cleanup-delay=1",
    "--resync-period=30",
    "--tunnel-backoff-initial=0.2",
    "--tunnel-backoff-max=2",
    "--tunnel-ping-interval=2",
    "--tunnel-ping-timeout=4",
)
"""Timings shrunk so faults heal within seconds: kcp's defaults (a 20 s heartbeat) would make
every fault test wait minutes."""
STARTUP_TIMEOUT = 180.0


class SyncerProcess(Protocol):
    """One syncer process serving some targets."""

    targets: tuple[str, ...]

    @property
    def running(self) -> bool: ...

    @property
    def pid(self) -> int | None: ...

    def start(self) -> None: ...

    def signal(self, signum: int) -> None: ...

    def stop(self) -> None: ...


class ReferenceSyncer:
    """`pytest-syncer syncer` for one target or, pooled, for many (`--sync-targets-file`)."""

    def __init__(self, wirings: Sequence[TargetWiring], workdir: Path, label: str) -> None:
        self.targets = tuple(wiring.target for wiring in wirings)
        first = wirings[0]
        args = [
            f"--upstream-kubeconfig={first.upstream_kubeconfig}",
            f"--upstream-cluster={first.upstream_cluster}",
            f"--resources={','.join(first.resources)}",
            *FAST_FLAGS,
        ]
        pool = workdir / f"syncer-{label}.yaml"
        pool.write_text(yaml.safe_dump([wiring.pool_entry() for wiring in wirings]))
        args.append(f"--sync-targets-file={pool}")
        self._process = ServiceProcess(
            "syncer",
            args,
            log_path=workdir / f"syncer-{label}.log",
            startup_timeout=STARTUP_TIMEOUT,
        )
        self.log_path = self._process.log_path

    @property
    def running(self) -> bool:
        return self._process.running

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running else None

    def start(self) -> None:
        self._process.start()

    def signal(self, signum: int) -> None:
        self._process.signal(signum)

    def stop(self) -> None:
        self._process.stop()


class CommandSyncer(GroupLeader):
    """Any syncer started from a `--syncer-command` template, one target per process.

    The contract asks for no ready line, so readiness is the caller's to check (the
    environment waits for the target's heartbeat).
    """

    def __init__(self, template: str, wiring: TargetWiring, workdir: Path) -> None:
        self.targets: tuple[str, ...] = (wiring.target,)
        self.argv = shlex.split(template.format(**wiring.template_fields()))
        self.log_path = workdir / f"syncer-{wiring.target}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self.running else None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def stop(self) -> None:
        """A template syncer may be stopped by a partition fault: resume it so SIGTERM lands."""
        self._stop_group(10, resume=True)


class SyncerFleet:
    """Every syncer process of an environment, and which one serves which target."""

    def __init__(
        self,
        wirings: dict[str, TargetWiring],
        workdir: Path,
        *,
        pool_size: int,
        command: str | None,
        wait_ready: Callable[[Sequence[str]], None],
    ) -> None:
        self._wirings = wirings
        self._workdir = workdir
        self._pool_size = pool_size
        self._command = command
        self._wait_ready = wait_ready
        self._processes: list[SyncerProcess] = []
        self._serial = 0

    def _make(self, targets: Sequence[str]) -> SyncerProcess:
        self._serial += 1
        if self._command is not None:
            return CommandSyncer(self._command, self._wirings[targets[0]], self._workdir)
        label = targets[0] if len(targets) == 1 else f"pool{self._serial}"
        return ReferenceSyncer([self._wirings[name] for name in targets], self._workdir, label)

    def _launch(self, groups: Sequence[Sequence[str]]) -> None:
        started = [self._make(group) for group in groups]
        self._processes.extend(started)
        for process in started:
            process.start()
        self._wait_ready([target for process in started for target in process.targets])

    def start(self) -> None:
        names = list(self._wirings)
        if self._command is not None:
            groups = [[name] for name in names]
        else:
            groups = [
                names[index : index + self._pool_size]
                for index in range(0, len(names), self._pool_size)
            ]
        self._launch(groups)

    def process_of(self, target: str) -> SyncerProcess:
        for process in self._processes:
            if target in process.targets:
                return process
        raise KeyError(f"no syncer process serves target {target!r}")

    def isolate(self, target: str) -> SyncerProcess:
        """The process serving only `target`: its pool restarts without it, once."""
        process = self.process_of(target)
        if process.targets == (target,):
            return process
        process.stop()
        self._processes.remove(process)
        rest = [name for name in process.targets if name != target]
        self._launch([rest, [target]])
        return self.process_of(target)

    def restart(self, target: str) -> None:
        """Start the process of `target` again (after a kill) and wait until it is ready."""
        process = self.process_of(target)
        process.stop()
        process.start()
        self._wait_ready(process.targets)

    @property
    def processes(self) -> list[SyncerProcess]:
        return list(self._processes)

    def stop(self) -> None:
        for process in self._processes:
            with contextlib.suppress(ProcessLookupError):
                process.signal(signal.SIGCONT)
            process.stop()
