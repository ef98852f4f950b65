"""What the plugin tells at the end of a session: environments built and kept, artifacts
written, the run's figures; and how a pytest-xdist worker hands its part to the controller.

Cheap to import (standard library and `run_stats`): the plugin's hooks read it on every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_syncer.harness.environment_file import FILE_NAME, EnvironmentFacts
from pytest_syncer.harness.run_stats import RunStats

WORKER_OUTPUT = "pytest_syncer"
"""The key of a pytest-xdist worker's `workeroutput` that carries its `SessionReport`."""
SHARED_INPUT = "pytest_syncer_shared"
"""The key of a worker's `workerinput` naming the shared environments' directory and owner
(`--syncer-xdist shared`)."""


@dataclass
class SessionReport:
    """Everything the terminal summary shows; workers' reports merge into the controller's."""

    built: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    stats: RunStats = field(default_factory=RunStats)
    used: bool = False
    """Some test got an environment (the figures are worth printing)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "built": self.built,
            "kept": self.kept,
            "artifacts": self.artifacts,
            "stats": self.stats.to_dict(),
            "used": self.used,
        }

    def merge(self, data: dict[str, Any], worker: str) -> None:
        """Add a worker's report, its lines marked with the worker's id."""
        self.built += [f"[{worker}] {line}" for line in data["built"]]
        self.kept += data["kept"]
        self.artifacts += data["artifacts"]
        self.stats.merge(RunStats.from_dict(data["stats"]))
        self.used = self.used or bool(data["used"])


def kept_lines(size: int, why: str, workdir: Path, facts: EnvironmentFacts) -> list[str]:
    """How to reach a kept environment and how to stop it."""
    first = next(iter(facts.targets))
    return [
        f"kept the {size}-target environment ({why}), still running in {workdir}",
        f"  hub: {facts.hub_url} (CA {facts.hub_ca})",
        f"  upstream: kubectl --kubeconfig {facts.upstream_kubeconfig} get synctargets",
        f"  targets: kubectl --kubeconfig {facts.targets[first].kubeconfig} get namespaces "
        f"({first}; every target's in {workdir / FILE_NAME})",
        f"  stop it: pytest-syncer down {workdir}",
    ]
