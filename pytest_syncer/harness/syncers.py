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
from pytest_syncer.harness.config import HarnessConfig, pool_size_for
from pytest_syncer.process.parent import GroupLeader, ServiceProcess

FAST_FLAGS = (
    "--namespace-cleanup-delay=1",
    "--tunnel-backoff-initial=0.2",
    "--tunnel-backoff-max=2",
    "--tunnel-ping-interval=2",
    "--tunnel-ping-timeout=4",
)
"""Timings shrunk so faults heal within seconds: kcp's defaults (a 20 s heartbeat) would make
every fault test wait minutes. The resync period is not one of them: it is the config's
`resync_period`, longer than any wait. Nor is the heartbeat interval: see
`heartbeat_interval_for`."""
HEARTBEATS_PER_SECOND = 50
"""The heartbeat writes per second all targets together may cost the upstream at most."""


def heartbeat_interval_for(targets: int) -> float:
    """Seconds between a syncer's heartbeats in an environment of `targets` targets: 1 s up to
    50 targets, then growing with them so all heartbeats together stay at 50 writes/s (1000
    targets: 20 s, kcp's default); at 1 s each, 1000 targets would write 1000 times a second."""
    return max(1.0, targets / HEARTBEATS_PER_SECOND)


STARTUP_TIMEOUT = 180.0


class SyncerProcess(Protocol):
    """One syncer process serving some targets."""

    @property
    def targets(self) -> tuple[str, ...]: ...

    @property
    def log_path(self) -> Path: ...

    @property
    def running(self) -> bool: ...

    @property
    def pid(self) -> int | None: ...

    def start(self) -> None:
        """Start the process without waiting for it to serve."""
        ...

    def wait_started(self) -> None:
        """Return once the started process serves (or raise why it never will)."""
        ...

    def signal(self, signum: int) -> None: ...

    def stop(self) -> None: ...


class ReferenceSyncer:
    """`pytest-syncer syncer` for one target or, pooled, for many (`--sync-targets-file`)."""

    def __init__(
        self,
        wirings: Sequence[TargetWiring],
        workdir: Path,
        label: str,
        resync_period: float,
        heartbeat_interval: float = 1.0,
    ) -> None:
        self.targets = tuple(wiring.target for wiring in wirings)
        first = wirings[0]
        args = [
            f"--upstream-kubeconfig={first.upstream_kubeconfig}",
            f"--upstream-cluster={first.upstream_cluster}",
            f"--resources={','.join(first.resources)}",
            *FAST_FLAGS,
            f"--heartbeat-interval={heartbeat_interval:g}",
            f"--resync-period={resync_period:g}",
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
    def argv(self) -> list[str]:
        return list(self._process.argv)

    @property
    def running(self) -> bool:
        return self._process.running

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running else None

    def start(self) -> None:
        self._process.spawn()

    def wait_started(self) -> None:
        self._process.wait_ready()

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

    def wait_started(self) -> None:
        """Nothing to wait for: the contract asks for no ready line."""

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
        resync_period: float,
    ) -> None:
        self._wirings = wirings
        self._workdir = workdir
        self._pool_size = pool_size
        self._command = command
        self._wait_ready = wait_ready
        self._resync_period = resync_period
        self._processes: list[SyncerProcess] = []
        self._by_target: dict[str, SyncerProcess] = {}
        """Which process serves each target: waits ask it for every placed target on every
        poll, so it must not cost a scan of the processes."""
        self._serial = 0

    @classmethod
    def for_config(
        cls,
        config: HarnessConfig,
        wirings: dict[str, TargetWiring],
        workdir: Path,
        *,
        pool_size: int,
        wait_ready: Callable[[Sequence[str]], None],
    ) -> SyncerFleet:
        """The fleet of an environment built from `config`: its `--syncer-command`, if any,
        and its resync period."""
        return cls(
            wirings,
            workdir,
            pool_size=pool_size,
            command=config.command,
            wait_ready=wait_ready,
            resync_period=config.resync_period,
        )

    def make(self, targets: Sequence[str]) -> SyncerProcess:
        """The process that will serve `targets`, not started."""
        self._serial += 1
        if self._command is not None:
            return CommandSyncer(self._command, self._wirings[targets[0]], self._workdir)
        label = targets[0] if len(targets) == 1 else f"pool{self._serial}"
        wirings = [self._wirings[name] for name in targets]
        interval = heartbeat_interval_for(len(self._wirings))
        return ReferenceSyncer(wirings, self._workdir, label, self._resync_period, interval)

    def _launch(self, groups: Sequence[Sequence[str]]) -> None:
        started = [self.make(group) for group in groups]
        self._processes.extend(started)
        self._by_target.update((target, p) for p in started for target in p.targets)
        for process in started:
            process.start()
        for process in started:
            process.wait_started()
        self._wait_ready([target for process in started for target in process.targets])

    def start(self) -> None:
        names = list(self._wirings)
        if self._command is not None:
            groups = [[name] for name in names]
        else:
            size = pool_size_for(len(names), self._pool_size)
            groups = [names[index : index + size] for index in range(0, len(names), size)]
        self._launch(groups)

    def process_of(self, target: str) -> SyncerProcess:
        try:
            return self._by_target[target]
        except KeyError:
            raise KeyError(f"no syncer process serves target {target!r}") from None

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
        process.wait_started()
        self._wait_ready(process.targets)

    @property
    def processes(self) -> list[SyncerProcess]:
        return list(self._processes)

    def stop(self) -> None:
        """SIGTERM every process first, then wait for each: their shutdowns overlap, so a
        thousand targets stop in the time of the slowest pool, not of all of them."""
        for process in self._processes:
            for signum in (signal.SIGCONT, signal.SIGTERM):
                with contextlib.suppress(ProcessLookupError):
                    process.signal(signum)
        for process in self._processes:
            process.stop()
