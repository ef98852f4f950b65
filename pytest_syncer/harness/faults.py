"""Faults on a running environment: every one injects into real processes, and `heal` undoes
whatever a test left broken, so the next test starts from a converged environment."""

from __future__ import annotations

import random
import signal
import time

import pytest

from pytest_syncer.clusters.base import FaultNotSupported
from pytest_syncer.harness.environment import SyncerEnvironment


class Faults:
    """Drop the tunnels, partition a target, SIGKILL and restart a syncer, restart the API
    server. A fault on one target's syncer first moves that target into a process of its own."""

    def __init__(self, env: SyncerEnvironment) -> None:
        self.env = env
        self.random = random.Random(env.config.seed)
        self.partitioned: set[str] = set()
        self.killed: set[str] = set()

    def pick_target(self) -> str:
        """A target drawn with `--syncer-seed` (reproducible fault injection)."""
        return self.random.choice(sorted(self.env.targets))

    def drop_tunnels(self) -> None:
        """SIGKILL the hub and start it again on its port: every tunnel drops; the syncers
        dial again with their backoff."""
        self.env.restart_hub()
        self.env.stats.record_fault("drop-tunnels", self.env.targets, time.monotonic())

    def partition(self, target: str) -> None:
        """Cut `target` off: its syncer process is frozen (SIGSTOP), so it reaches neither its
        cluster nor the upstream, and its heartbeat stops, until `heal`."""
        self.env.syncers.isolate(target).signal(signal.SIGSTOP)
        self.partitioned.add(target)
        self.env.stats.record_fault("partition", [target], None)

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

    def restart_apiserver(self) -> None:
        """Stop the API server and start it on its data dir (embedded provider only)."""
        try:
            self.env.provider.restart_apiserver()
        except FaultNotSupported as error:
            pytest.skip(str(error))
        self.env.stats.record_fault("restart-apiserver", self.env.targets, time.monotonic())

    def heal(self) -> None:
        """Resume partitioned targets and restart killed syncers."""
        for target in sorted(self.partitioned):
            self.env.syncers.process_of(target).signal(signal.SIGCONT)
        self.env.stats.fault_healed(self.partitioned, time.monotonic())
        self.partitioned.clear()
        for target in sorted(self.killed):
            self.restart_syncer(target)
