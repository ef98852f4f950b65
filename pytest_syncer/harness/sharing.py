"""One environment per size for every pytest-xdist worker (`--syncer-xdist shared`).

The controller makes a directory and hands it, with its own pid, to each worker. The first
worker that needs a size takes an exclusive `fcntl` lock on `<provider>-<size>.lock` there,
builds the environment, detaches it (its processes outlive the worker) and writes
`environment.json`, the same file `pytest-syncer up` writes; every worker, the builder too,
then attaches to it. A build that failed leaves `<provider>-<size>.failed` (or
`.unavailable`), so the others fail (or skip) at once instead of building again. The
controller owns the environments: its owner record makes the next run's sweep remove them if
it dies, and at its session end it stops them (or keeps them, as `--syncer-keep` says).
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pytest_syncer.harness.clusters.base import ClusterProvider, ProviderUnavailable
from pytest_syncer.harness.config import HarnessConfig
from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.environment_file import FILE_NAME, EnvironmentFacts, EnvironmentFileError
from pytest_syncer.harness.leftovers import OwnerRegistry
from pytest_syncer.harness.run_stats import RunStats

STOP_TIMEOUT = 30.0


class SharedBuildFailed(RuntimeError):
    """Another worker tried to build this environment and failed."""


@dataclass(frozen=True)
class SharedRun:
    """Where a run's shared environments live, and the controller that owns them."""

    directory: Path
    owner: int

    def to_input(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "owner": self.owner}

    @classmethod
    def from_input(cls, data: dict[str, Any]) -> SharedRun:
        return cls(Path(data["directory"]), int(data["owner"]))

    @contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        with (self.directory / f"{name}.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def environment(
        self,
        config: HarnessConfig,
        provider: Callable[[HarnessConfig], ClusterProvider],
        pool_size: int,
    ) -> tuple[SyncerEnvironment, str]:
        """The shared environment of `config`'s size, built here if no worker built it yet;
        and a line for the summary saying which."""
        name = f"{config.provider}-{config.targets}"
        workdir = self.directory / name
        failed = self.directory / f"{name}.failed"
        unavailable = self.directory / f"{name}.unavailable"
        with self._locked(name):
            if unavailable.exists():
                raise ProviderUnavailable(unavailable.read_text())
            if failed.exists():
                raise SharedBuildFailed(
                    f"another worker failed to build the shared {name} environment: "
                    f"{failed.read_text()}"
                )
            if (workdir / FILE_NAME).exists():
                line = f"{config.targets}-target environment: attached to the shared {workdir}"
            else:
                started = time.monotonic()
                registry = OwnerRegistry(workdir, owner=self.owner)
                try:
                    # Its processes outlive this worker, the fault proxy would not; faults
                    # skip on shared environments anyway.
                    built = SyncerEnvironment.start(
                        replace(config, network_faults=False),
                        provider(config),
                        workdir,
                        pool_size=pool_size,
                    )
                except ProviderUnavailable as error:
                    unavailable.write_text(str(error))
                    registry.release()
                    raise
                except Exception as error:
                    failed.write_text(f"{type(error).__name__}: {error}")
                    registry.release()
                    raise
                built.keep()
                registry.update(built.pids())
                line = (
                    f"{config.targets}-target environment ({config.provider}, shared by the "
                    f"workers) up in {time.monotonic() - started:.1f}s; logs in {workdir}"
                )
        return SyncerEnvironment.attach(config, workdir), line


def finish_shared(directory: Path, keep: str, failed: bool) -> tuple[list[str], RunStats]:
    """The controller's end: stop every shared environment, or keep it (`--syncer-keep`);
    the summary's lines about kept ones, and the tunnel reconnects counted in their logs."""
    from pytest_syncer.harness.command import stop_environment
    from pytest_syncer.harness.session_report import kept_lines

    lines: list[str] = []
    stats = RunStats()
    for workdir in sorted(path.parent for path in directory.glob(f"*/{FILE_NAME}")):
        try:
            facts = EnvironmentFacts.read(workdir)
        except EnvironmentFileError:
            continue
        stats.count_reconnects(workdir.glob("syncer-*.log"))
        registry = OwnerRegistry(workdir)
        if keep == "always" or (keep == "on-failure" and failed):
            registry.update(facts.process_groups, kept=True)
            why = "a test failed" if failed else "--syncer-keep always"
            lines += kept_lines(len(facts.targets), why, workdir, facts)
        else:
            stop_environment(facts, STOP_TIMEOUT)
            registry.release()
    return lines, stats
