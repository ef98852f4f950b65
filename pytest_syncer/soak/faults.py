"""Faults drawn from a seed on the real processes while the churn runs: tunnels dropped, a
target frozen past its heartbeat threshold, syncers killed and restarted, the API server
restarted, 409 storms from concurrent writers, and on a victim's links (through the fault
proxy): a link black-holed or reset, or all three slowed."""

from __future__ import annotations

import base64
import random
import threading
import time
from collections import Counter

from kubernetes import client as k8s_client

from pytest_syncer.contract.heartbeat import last_heartbeat
from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.faults import Faults
from pytest_syncer.harness.kube import SYNC_TARGETS, KubeObject
from pytest_syncer.harness.netfaults.links import LINK_KINDS
from pytest_syncer.soak.churn import Churn
from pytest_syncer.soak.model import Model
from pytest_syncer.soak.progress import say

NETWORK_KINDS = ("blackhole_link", "reset_link", "slow_links")
"""Drawn only when the environment's links go through the fault proxy (the soak's always do)."""
FAULT_KINDS = (
    "drop_tunnels",
    "freeze",
    "kill_syncer",
    "restart_apiserver",
    "conflict_storm",
    *NETWORK_KINDS,
)
ON_A_VICTIM = ("freeze", "kill_syncer", *NETWORK_KINDS)
SLOW_LATENCY_MS = 200.0
SLOW_JITTER_MS = 50.0
SLOW_BANDWIDTH = 256 * 1024
"""Bytes per second each direction of a slowed link carries."""
VICTIMS = 3
"""Faults on one target's syncer hit at most this many targets: each isolation restarts a pool
and leaves one more process, and a 2-core machine has room for only a few."""
STORM_WRITERS = 6
STORM_WRITES = 4
"""Each storm writer lands this many writes, retrying each until no 409 answers it."""
FREEZE_PAST_THRESHOLD = 1.5
"""A freeze lasts this many heartbeat thresholds plus 2 s (9.5 s up to 50 targets), past the
hub's threshold, so the target is reported stale."""


class FaultInjector:
    """Every fault kind in a seeded order, round after round, each healed before the next."""

    def __init__(
        self, env: SyncerEnvironment, churn: Churn, rng: random.Random, *, gap: float
    ) -> None:
        self.env = env
        self.churn = churn
        self.rng = rng
        self.gap = gap
        self.faults = Faults(env)
        names = sorted(env.targets)
        self.victims = rng.sample(names, min(VICTIMS, len(names)))
        self.counts: Counter[str] = Counter()
        self.conflicts = 0
        self.last_healed = time.monotonic()
        self.error: BaseException | None = None
        self.rounds = 0
        """Rounds of every fault kind completed."""
        self.kinds = [
            kind for kind in FAULT_KINDS if env.network is not None or kind not in NETWORK_KINDS
        ]
        self.freezes_stale = 0
        """Freezes whose victim's heartbeat was past the hub's threshold before the heal."""

    @property
    def done_once(self) -> bool:
        """Every kind was injected once, or the injector gave up on an error."""
        return self.rounds > 0 or self.error is not None

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                kinds = list(self.kinds)
                self.rng.shuffle(kinds)
                for kind in kinds:
                    if stop.wait(self.rng.uniform(self.gap / 2, self.gap * 1.5)):
                        return
                    self.inject(kind)
                    self.last_healed = time.monotonic()
                self.rounds += 1
        except BaseException as error:
            self.error = error
            say(f"fault injection stopped: {type(error).__name__}: {error}")
        finally:
            self.faults.heal()
            self.last_healed = time.monotonic()

    def inject(self, kind: str) -> None:
        victim = self.rng.choice(self.victims)
        began = time.monotonic()
        also = ""
        if kind == "freeze":
            self.faults.freeze(victim)
            also = self._meanwhile(self.env.heartbeat_threshold * FREEZE_PAST_THRESHOLD + 2)
            if self._stale(victim):
                self.freezes_stale += 1
            self.faults.heal()
        elif kind in NETWORK_KINDS:
            also = self._network(kind, victim)
        elif kind == "kill_syncer":
            self.faults.kill_syncer(victim)
            also = self._meanwhile(self.rng.uniform(1.0, 4.0))
            self.faults.restart_syncer(victim)
        else:
            self._global(kind)
        self.counts[kind] += 1
        where = f" on {victim}" if kind in ON_A_VICTIM else ""
        say(f"fault {kind}{where}{also} healed after {time.monotonic() - began:.1f}s")

    def _stale(self, victim: str) -> bool:
        try:
            target = self.churn.upstream.get(SYNC_TARGETS, victim)
        except Exception:
            return False
        return time.time() - (last_heartbeat(target) or 0.0) > self.env.heartbeat_threshold

    def _global(self, kind: str) -> None:
        if kind == "drop_tunnels":
            self.faults.drop_tunnels()
        elif kind == "restart_apiserver":
            self.faults.restart_apiserver()
        else:
            self.storm()

    def _network(self, kind: str, victim: str) -> str:
        """One of the victim's links black-holed (no byte, FIN or RST) or reset (RST, new
        connections refused) for a while, or all three slowed; then healed."""
        if kind == "slow_links":
            for name in LINK_KINDS:
                link = self.faults.link(victim, name)
                link.latency(SLOW_LATENCY_MS, SLOW_JITTER_MS)
                link.bandwidth(SLOW_BANDWIDTH)
            hold = self.rng.uniform(3.0, 8.0)
            what = f"every link {SLOW_LATENCY_MS:g}+{SLOW_JITTER_MS:g} ms, {SLOW_BANDWIDTH} B/s"
        else:
            which = self.rng.choice(LINK_KINDS)
            link = self.faults.link(victim, which)
            if kind == "blackhole_link":
                link.blackhole()
                hold = self.rng.uniform(2.0, 8.0)
            else:
                link.reset()
                hold = self.rng.uniform(0.5, 3.0)
            what = f"its {which} link"
        time.sleep(hold)
        self.faults.heal()
        return f" ({what}, {hold:.1f}s)"

    def _meanwhile(self, hold: float) -> str:
        """While a victim is down, half the time the API server restarts or the tunnels
        drop too: a syncer coming back must find its way through both."""
        if self.rng.random() >= 0.5:
            time.sleep(hold)
            return ""
        kind = self.rng.choice(("restart_apiserver", "drop_tunnels"))
        first = self.rng.uniform(0.0, hold)
        time.sleep(first)
        began = time.monotonic()
        self._global(kind)
        self.counts[kind] += 1
        time.sleep(max(0.0, hold - first - (time.monotonic() - began)))
        return f" (and {kind} meanwhile)"

    def storm(self) -> None:
        """Writers race on one object with its resourceVersion as precondition, retrying
        every 409, while the syncers and the hub write it too; the model then takes the
        object as it ended."""
        candidates = [model for model in self.churn.live() if not model.uncertain]
        if not candidates:
            return
        model = self.rng.choice(candidates)
        with self.churn.step_lock:
            model.busy = True
        try:
            writers = [
                threading.Thread(target=self._writer, args=(model, index))
                for index in range(STORM_WRITERS)
            ]
            for writer in writers:
                writer.start()
            for writer in writers:
                writer.join()
            model.uncertain = True
            self.churn.refresh(model)
        finally:
            model.busy = False

    def _writer(self, model: Model, index: int) -> None:
        upstream = self.churn.upstream
        for serial in range(STORM_WRITES):
            for _ in range(50):
                try:
                    current = upstream.get(model.kind, model.name, model.namespace)
                    patch = _storm_patch(model, current, f"{index}-{serial}")
                    upstream.patch(model.kind, model.name, patch, model.namespace)
                    break
                except k8s_client.ApiException as error:
                    if error.status != 409:
                        model.uncertain = True
                        return
                    with self.churn.lock:
                        self.conflicts += 1
                except Exception:
                    model.uncertain = True
                    return


def _storm_patch(model: Model, current: KubeObject, value: str) -> KubeObject:
    precondition = {"resourceVersion": current["metadata"]["resourceVersion"]}
    kind = model.kind.kind
    if kind == "ConfigMap":
        return {"metadata": precondition, "data": {"rev": value}}
    if kind == "Secret":
        return {
            "metadata": precondition,
            "data": {"rev": base64.b64encode(value.encode()).decode()},
        }
    if kind == "Service":
        return {"metadata": {**precondition, "annotations": {"storm": value}}}
    return {
        "metadata": precondition,
        "spec": {"template": {"metadata": {"annotations": {"rev": value}}}},
    }
