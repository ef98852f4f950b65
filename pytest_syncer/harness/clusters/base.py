"""What every cluster provider hands the environment, and the protocol it implements.

A provider turns "N sync targets" into an upstream kubeconfig and one downstream kubeconfig
per target. Many targets may share one physical cluster: the target is in the downstream
namespace hash, so their copies never collide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class ProviderUnavailable(RuntimeError):
    """The provider cannot run here (no Docker engine, no kind); the harness skips, saying why."""


class FaultNotSupported(RuntimeError):
    """The provider cannot inject this fault (only the embedded API server can be restarted)."""


@dataclass(frozen=True)
class Wildcard:
    """A kubeconfig context whose server is one API server process's `/clusters/*` (the admin
    lists and watches across that process's logical clusters with it), and which target each
    of those clusters is, `{cluster: target}`."""

    kubeconfig: Path
    context: str
    targets: dict[str, str]


@dataclass(frozen=True)
class ProvidedClusters:
    """The clusters of one environment.

    `upstream_cluster` is the logical cluster (workspace) name the syncers are told with
    `--upstream-cluster`; `profiles_file` is the simulator's, when one plays the controllers;
    `wildcards`, one per API server process serving targets, where the provider has them (the
    embedded one), so a watcher of every target's copies needs one watch per process.
    """

    upstream_kubeconfig: Path
    upstream_cluster: str
    downstream_kubeconfigs: dict[str, Path]
    profiles_file: Path | None = None
    facts: dict[str, str] = field(default_factory=dict)
    wildcards: tuple[Wildcard, ...] = ()

    @property
    def simulated(self) -> bool:
        return self.profiles_file is not None


class ClusterProvider(Protocol):
    """Provision the clusters for a set of targets, restart the API server if it can, stop."""

    name: str

    def start(self, workdir: Path, targets: Sequence[str]) -> ProvidedClusters: ...

    def restart_apiserver(self, cluster: str | None = None) -> list[str]:
        """Stop and start the API server serving `cluster` (all of them when None) on its
        data; returns the clusters that were down; FaultNotSupported where impossible."""
        ...

    def pids(self) -> list[int]:
        """The processes this provider runs now (none for existing clusters)."""
        ...

    def stop(self) -> None: ...
