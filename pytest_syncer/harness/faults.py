"""Faults on a running environment: every one injects into real processes, and `heal` undoes
whatever a test left broken, so the next test starts from a converged environment."""

from __future__ import annotations

import random
import signal
import time

import pytest

from pytest_syncer.harness.clusters.base import FaultNotSupported
from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.netfaults.links import LINK_KINDS
from pytest_syncer.harness.netfaults.proxy import Link
from pytest_syncer.harness.netfaults.wiring import link_name


class Faults:
    """Drop the tunnels, freeze a target, SIGKILL and restart a syncer, restart the API server,
    and (with `--syncer-network-faults on`) slow, cut or reset one link of a syncer. A fault on
    one target's syncer first moves that target into a process of its own."""

    def __init__(self, env: SyncerEnvironment) -> None:
        self.env = env
        self.random = random.Random(env.config.seed)
        self.frozen: set[str] = set()
        self.killed: set[str] = set()
        self.linked: set[str] = set()

    def pick_target(self) -> str:
        """A target drawn with `--syncer-seed` (reproducible fault injection)."""
        return self.random.choice(sorted(self.env.targets))

    def drop_tunnels(self) -> None:
        """SIGKILL the hub and start it again on its port: every tunnel drops; the syncers
        dial again with their backoff."""
        self.env.restart_hub()
        self.env.stats.record_fault("drop-tunnels", self.env.targets, time.monotonic())

    def freeze(self, target: str) -> None:
        """Freeze the syncer of `target` (SIGSTOP): it reaches neither its cluster nor the
        upstream, its connections stay open and its heartbeat stops, until `heal`."""
        self.env.syncers.isolate(target).signal(signal.SIGSTOP)
        self.frozen.add(target)
        self.env.stats.record_fault("freeze", [target], None)

    def link(self, target: str, kind: str) -> Link:
        """The link of `target`'s syncer to the `upstream`, its `downstream` cluster or the
        hub's `tunnel`: `latency(ms, jitter)`, `bandwidth(bytes_per_s)`, `blackhole()`,
        `reset()`, `heal()`, each optionally for one `direction`. A pooled process reaches the
        upstream through its first target's link, so asking for an upstream link first moves
        `target` into a process of its own. Skips without `--syncer-network-faults on`.

        Until `heal`, the run stats take the target's next copy seen as a recovery, not a sync
        (each fault the link takes is counted as `link-<fault>`)."""
        if kind not in LINK_KINDS:
            raise ValueError(f"a link is one of {', '.join(LINK_KINDS)}, not {kind!r}")
        if self.env.network is None:
            pytest.skip("network faults need --syncer-network-faults on")
        if target not in self.env.targets:
            raise KeyError(f"no target {target!r}; the environment has {sorted(self.env.targets)}")
        if kind == "upstream":
            self.env.syncers.isolate(target)
        self.linked.add(target)
        self.env.stats.fault_lasts([target])
        return self.env.network.links[link_name(target, kind)]

    def kill_syncer(self, target: str) -> None:
        """SIGKILL the syncer of `target` (alone in its process first)."""
        self.env.syncers.isolate(target).signal(signal.SIGKILL)
        self.killed.add(target)
        self.env.stats.record_fault("kill-syncer", [target], None)

    def restart_syncer(self, target: str) -> None:
        """Start the syncer of `target` again and wait for its heartbeat."""
        self.env.syncers.restart(target)
        self.killed.discard(target)
        self.env.stats.fault_healed([target], time.monotonic())

    def restart_apiserver(self, cluster: str | None = None) -> None:
        """Stop the API server process serving `cluster` ("upstream" or a target; every
        process when None) and start it on its data dir (embedded provider only)."""
        upstream = self.env.clusters.upstream_cluster
        if cluster is not None and cluster not in (upstream, *self.env.targets):
            raise KeyError(
                f"no cluster {cluster!r}; the environment has {sorted(self.env.targets)}"
            )
        try:
            down = self.env.provider.restart_apiserver(cluster)
        except FaultNotSupported as error:
            pytest.skip(str(error))
        touched = (
            self.env.targets if upstream in down else [t for t in down if t in self.env.targets]
        )
        self.env.stats.record_fault("restart-apiserver", touched, time.monotonic())

    def heal(self) -> None:
        """Heal every link, resume frozen targets and restart killed syncers."""
        if self.env.network is not None:
            self.env.network.heal()
        for target in sorted(self.frozen):
            self.env.syncers.process_of(target).signal(signal.SIGCONT)
        self.env.stats.fault_healed(self.frozen | self.linked, time.monotonic())
        self.frozen.clear()
        self.linked.clear()
        for target in sorted(self.killed):
            self.restart_syncer(target)
