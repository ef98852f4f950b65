"""Which watches show a load test every target's copies, and which target an event is from.

Where `environment.json` names a wildcard (the embedded provider: each API server process's
admin context on `/clusters/*`), one watch serves all the targets of that process, and an
event's target is its object's logical cluster, which the server puts in the `kcp.io/cluster`
annotation of every object it stores (as kcp does); a cluster that is no target of the
environment (the upstream, when it shares the process) is none. Every other target (kind and
kubeconfig providers, files written before wildcards) gets a watch of its own, whose events
are all that target's. Standard library only, so the unit tests need no gevent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_syncer.contract.naming import CLUSTER_ANNOTATION
from pytest_syncer.harness.environment_file import EnvironmentFacts


@dataclass(frozen=True)
class WatchSource:
    """One watch: a kubeconfig context and the targets its events are from, `{cluster:
    target}` for a wildcard, or the one target whose own cluster it watches."""

    name: str
    kubeconfig: str
    context: str | None = None
    clusters: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None

    @property
    def targets(self) -> set[str]:
        return set(self.clusters.values()) if self.target is None else {self.target}

    def target_of(self, event: Mapping[str, Any]) -> str | None:
        """The target a watch event's object is a copy on, or None when it is on none."""
        if self.target is not None:
            return self.target
        annotations = event["object"]["metadata"].get("annotations") or {}
        return self.clusters.get(annotations.get(CLUSTER_ANNOTATION, ""))


def watch_sources(facts: EnvironmentFacts) -> list[WatchSource]:
    """A watch per wildcard that reaches any of the environment's targets, then one per
    target no wildcard reaches."""
    sources: list[WatchSource] = []
    covered: set[str] = set()
    for wildcard in facts.wildcards:
        clusters = {
            cluster: target
            for cluster, target in wildcard.targets.items()
            if target in facts.targets and target not in covered
        }
        if clusters:
            covered.update(clusters.values())
            sources.append(
                WatchSource(
                    f"{len(clusters)} targets through {wildcard.kubeconfig}",
                    wildcard.kubeconfig,
                    wildcard.context,
                    clusters,
                )
            )
    sources.extend(
        WatchSource(name, target.kubeconfig, target=name)
        for name, target in facts.targets.items()
        if name not in covered
    )
    return sources
