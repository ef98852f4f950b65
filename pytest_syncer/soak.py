"""`pytest-syncer soak`: steady upstream churn while faults drawn from a seed hit the real
processes, then one audit of everything that should have come out of it.

The same seed gives the same operations and the same faults in the same order (their timing
follows the machine). The churn keeps its own model of what it asked for, so the audit compares
the upstream and every target with what was written, never with the syncer's own logic. A write
whose answer was lost (the API server restarting under it) makes its object uncertain; the model
adopts what the upstream shows before using it again, so only acknowledged writes can be lost.

The last stdout line is one JSON object; progress goes to stderr. Exit 1 when anything was lost,
duplicated or orphaned or the environment did not converge, 130 on Ctrl-C or SIGTERM; every
process is stopped either way.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from kubernetes import client as k8s_client

from pytest_syncer.harness.config import HarnessConfigError
from pytest_syncer.harness.environment import HEARTBEAT_THRESHOLD, SyncerEnvironment
from pytest_syncer.harness.faults import Faults
from pytest_syncer.harness.kube import (
    KINDS,
    NAMESPACES,
    SYNC_STATUSES,
    SYNC_TARGETS,
    Cluster,
    Kind,
    Obj,
)
from pytest_syncer.harness.waits import differences
from pytest_syncer.status.rules import SYNC_TARGETS_READY
from pytest_syncer.syncer.interfaces import SYNC_TARGET_KEY_LABEL, WORKLOAD_UID_LABEL
from pytest_syncer.syncer.transform.naming import (
    CLUSTER_LABEL,
    LOCATOR_ANNOTATION,
    PLACEMENT_LABEL_PREFIX,
)
from pytest_syncer.waiting import WaitTimeout, wait_until

SYNC = "Sync"
FAULT_KINDS = ("drop_tunnels", "partition", "kill_syncer", "restart_apiserver", "conflict_storm")
CHURN_KINDS = (
    KINDS[("v1", "ConfigMap")],
    KINDS[("v1", "Secret")],
    KINDS[("v1", "Service")],
    KINDS[("apps/v1", "Deployment")],
)
DEPLOYMENT = KINDS[("apps/v1", "Deployment")]
NAMESPACE_COUNT = 3
VICTIMS = 3
"""Faults on one target's syncer hit at most this many targets: each isolation restarts a pool
and leaves one more process, and a 2-core machine has room for only a few."""
STORM_WRITERS = 6
STORM_WRITES = 4
"""Each storm writer lands this many writes, retrying each until no 409 answers it."""
PARTITION_HOLD = HEARTBEAT_THRESHOLD * 1.5 + 2
"""A partition lasts past the hub's heartbeat threshold, so the target is reported stale."""
PROGRESS_INTERVAL = 10.0
RUN_LABEL = "soak.pytest-syncer.io/run"


def _say(message: str) -> None:
    print(f"pytest-syncer soak: {message}", file=sys.stderr, flush=True)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@dataclass
class Model:
    """What the churn asked one upstream object to be: its managed content, user labels and
    the targets it is placed on."""

    kind: Kind
    namespace: str
    name: str
    content: Obj
    labels: dict[str, str]
    placed: set[str]
    exists: bool = True
    deleted: bool = False
    uncertain: bool = False
    """A write's answer was lost: the upstream decides what the object is."""
    busy: bool = False
    """A conflict storm is writing it; the churn leaves it alone."""

    @property
    def ref(self) -> str:
        return f"{self.kind.kind} {self.namespace}/{self.name}"


def project(shape: Any, actual: Any) -> Any:
    """`actual` cut down to the keys `shape` has (mappings recursively; the rest whole)."""
    if isinstance(shape, dict):
        if not isinstance(actual, dict):
            return actual
        return {key: project(value, actual[key]) for key, value in shape.items() if key in actual}
    return actual


class Churn:
    """Seeded creates, updates, relabels and deletes of several kinds across the targets."""

    def __init__(
        self,
        env: SyncerEnvironment,
        rng: random.Random,
        *,
        rate: float,
        population: int,
        prefix: str = "soak",
    ) -> None:
        self.env = env
        self.rng = rng
        self.rate = rate
        self.population = population
        self.upstream = Cluster("soak-churn", env.clusters.upstream_kubeconfig)
        self.lock = threading.Lock()
        self.step_lock = threading.Lock()
        """Held for a whole operation, so a storm never starts under a write in flight."""
        self.objects: dict[tuple[str, str, str], Model] = {}
        self.prefix = prefix
        self.namespaces = [f"{prefix}-{index}" for index in range(NAMESPACE_COUNT)]
        """Every namespace the churn ever used; `active` ones take new objects."""
        self.active = list(self.namespaces)
        self.dropped: set[str] = set()
        self.operations: Counter[str] = Counter()
        self.failed = 0
        self.error: Exception | None = None
        self.last_operation = time.monotonic()
        self._serial = 0
        self._labels = {name: target.label for name, target in env.targets.items()}

    def prepare(self) -> None:
        for namespace in self.namespaces:
            self.upstream.ensure(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
            )

    def live(self) -> list[Model]:
        with self.lock:
            return [m for m in self.objects.values() if m.exists and not m.deleted]

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                self.step()
                stop.wait(self.rng.expovariate(self.rate))
        except Exception as error:
            self.error = error
            _say(f"churn stopped: {type(error).__name__}: {error}")

    def step(self) -> None:
        with self.step_lock:
            self._step()

    def _step(self) -> None:
        live = [model for model in self.live() if not model.busy]
        weights = {
            "create": 3 if len(live) < self.population else 1,
            "update": 3 if live else 0,
            "relabel": 3 if live else 0,
            "delete": 2 if len(live) > self.population // 2 else 0,
            "drop_namespace": 0.1 if len(live) > self.population // 2 else 0,
        }
        operation = self.rng.choices(list(weights), list(weights.values()))[0]
        self.operations[operation] += 1
        self.last_operation = time.monotonic()
        if operation == "create":
            self.create()
            return
        if operation == "drop_namespace":
            self._drop_namespace()
            return
        model = self.rng.choice(live)
        if model.uncertain and not self.refresh(model):
            return
        if not model.exists or model.deleted:
            return
        if operation == "update":
            self._update(model)
        elif operation == "relabel":
            self._relabel(model)
        else:
            self._delete(model)

    def _write(self, model: Model, action: Callable[[], object]) -> bool:
        try:
            action()
        except Exception:
            model.uncertain = True
            self.failed += 1
            return False
        return True

    def _choose_targets(self) -> set[str]:
        names = sorted(self.env.targets)
        if self.rng.random() < 0.03:
            return set(names)
        count = min(len(names), self.rng.choice((1, 1, 2, 2, 3, 5)))
        return set(self.rng.sample(names, count))

    def create(self, kind: Kind | None = None) -> Model:
        """A new object of `kind` (else one drawn) on a few targets drawn."""
        self._serial += 1
        kind = kind or self.rng.choice(CHURN_KINDS)
        name = f"{kind.kind.lower()}-{self._serial:05d}"
        namespace = self.rng.choice(self.active)
        model = Model(
            kind,
            namespace,
            name,
            _content(kind, self.rng),
            {"tier": self.rng.choice(("a", "b", "c"))},
            self._choose_targets(),
        )
        with self.lock:
            self.objects[(kind.kind, namespace, name)] = model
        labels = {**model.labels, RUN_LABEL: "1", **self._placement(model.placed)}
        body: Obj = {
            "apiVersion": kind.api_version,
            "kind": kind.kind,
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            **model.content,
        }
        self._write(model, lambda: self.upstream.create(body, namespace))
        return model

    def _placement(self, targets: Iterable[str]) -> dict[str, str]:
        return {self._labels[name]: SYNC for name in targets}

    def _update(self, model: Model) -> None:
        patch = _update_patch(model, self.rng)
        self._patch(model, patch)

    def _patch(self, model: Model, patch: Obj) -> None:
        if self._write(
            model, lambda: self.upstream.patch(model.kind, model.name, patch, model.namespace)
        ):
            content = {k: v for k, v in patch.items() if k != "metadata"}
            model.content = _merge(model.content, content)

    def _relabel(self, model: Model) -> None:
        names = sorted(self.env.targets)
        unplaced = [name for name in names if name not in model.placed]
        choice = self.rng.choice(("add", "remove", "move", "user"))
        labels: dict[str, str | None] = {}
        placed = set(model.placed)
        if choice == "add" and unplaced:
            added = self.rng.choice(unplaced)
            labels[self._labels[added]] = SYNC
            placed.add(added)
        elif choice == "remove" and len(placed) > 1:
            removed = self.rng.choice(sorted(placed))
            labels[self._labels[removed]] = None
            placed.discard(removed)
        elif choice == "move" and unplaced:
            removed, added = self.rng.choice(sorted(placed)), self.rng.choice(unplaced)
            labels[self._labels[removed]] = None
            labels[self._labels[added]] = SYNC
            placed = (placed - {removed}) | {added}
        else:
            labels["tier"] = self.rng.choice(("a", "b", "c", "d"))
        patch = {"metadata": {"labels": labels}}
        if self._write(
            model, lambda: self.upstream.patch(model.kind, model.name, patch, model.namespace)
        ):
            model.placed = placed
            if "tier" in labels:
                model.labels["tier"] = str(labels["tier"])

    def _drop_namespace(self) -> None:
        """Delete a whole namespace upstream (its objects go with it, each released by its
        syncers) and take a new one in its place."""
        dropped = self.rng.choice(self.active)
        fresh = f"{self.prefix}-{len(self.namespaces)}"
        inside = [model for model in self.live() if model.namespace == dropped]
        try:
            self.upstream.ensure(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": fresh}}
            )
        except Exception:
            self.failed += 1
            return
        self.namespaces.append(fresh)
        self.active[self.active.index(dropped)] = fresh
        self.dropped.add(dropped)
        for model in inside:
            model.deleted = True
        try:
            self.upstream.delete(NAMESPACES, dropped)
        except Exception:
            self.failed += 1
            for model in inside:
                model.uncertain = True

    def _delete(self, model: Model) -> None:
        model.deleted = True
        self._write(model, lambda: self.upstream.delete(model.kind, model.name, model.namespace))

    def refresh(self, model: Model) -> bool:
        """Adopt what the upstream shows for an uncertain object; False if it cannot be read."""
        try:
            found = self.upstream.find(model.kind, model.name, model.namespace)
        except Exception:
            return False
        with self.lock:
            self.adopt(model, found)
        return True

    def adopt(self, model: Model, found: Obj | None) -> None:
        model.uncertain = False
        if found is None:
            model.exists = False
            return
        model.exists = True
        model.deleted = bool(found["metadata"].get("deletionTimestamp"))
        labels = found["metadata"].get("labels") or {}
        model.placed = {name for name, label in self._labels.items() if labels.get(label) == SYNC}
        model.labels = {"tier": labels.get("tier", "")}
        model.content = project(model.content, found)


def _content(kind: Kind, rng: random.Random) -> Obj:
    revision = str(rng.randrange(1_000_000))
    if kind.kind == "ConfigMap":
        return {"data": {"rev": revision, "mode": rng.choice(("fast", "safe"))}}
    if kind.kind == "Secret":
        encoded = base64.b64encode(revision.encode()).decode()
        return {"type": "Opaque", "data": {"rev": encoded}}
    if kind.kind == "Service":
        return {
            "spec": {
                "selector": {"app": "soak"},
                "ports": [
                    {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                ],
            }
        }
    return {
        "spec": {
            "replicas": rng.randint(1, 3),
            "selector": {"matchLabels": {"app": "soak"}},
            "template": {
                "metadata": {"labels": {"app": "soak"}, "annotations": {"rev": revision}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/app:1"}]},
            },
        }
    }


def _update_patch(model: Model, rng: random.Random) -> Obj:
    revision = str(rng.randrange(1_000_000))
    kind = model.kind.kind
    if kind == "ConfigMap":
        return {"data": {"rev": revision}}
    if kind == "Secret":
        return {"data": {"rev": base64.b64encode(revision.encode()).decode()}}
    if kind == "Service":
        port = rng.choice((80, 81, 8080))
        return {
            "spec": {
                "ports": [{"name": "http", "port": port, "targetPort": 8080, "protocol": "TCP"}]
            }
        }
    return {
        "spec": {
            "replicas": rng.randint(1, 3),
            "template": {"metadata": {"annotations": {"rev": revision}}},
        }
    }


def _merge(base: Any, patch: Any) -> Any:
    if not isinstance(patch, dict) or not isinstance(base, dict):
        return patch
    merged = dict(base)
    for key, value in patch.items():
        merged[key] = _merge(merged.get(key), value)
    return merged


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
        self.partitions_stale = 0
        """Partitions whose victim's heartbeat was past the hub's threshold before the heal."""
        """Rounds of every fault kind completed."""

    @property
    def done_once(self) -> bool:
        """Every kind was injected once, or the injector gave up on an error."""
        return self.rounds > 0 or self.error is not None

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                kinds = list(FAULT_KINDS)
                self.rng.shuffle(kinds)
                for kind in kinds:
                    if stop.wait(self.rng.uniform(self.gap / 2, self.gap * 1.5)):
                        return
                    self.inject(kind)
                    self.last_healed = time.monotonic()
                self.rounds += 1
        except BaseException as error:
            self.error = error
            _say(f"fault injection stopped: {type(error).__name__}: {error}")
        finally:
            self.faults.heal()
            self.last_healed = time.monotonic()

    def inject(self, kind: str) -> None:
        victim = self.rng.choice(self.victims)
        began = time.monotonic()
        also = ""
        if kind == "partition":
            self.faults.partition(victim)
            also = self._meanwhile(PARTITION_HOLD)
            if self._stale(victim):
                self.partitions_stale += 1
            self.faults.heal()
        elif kind == "kill_syncer":
            self.faults.kill_syncer(victim)
            also = self._meanwhile(self.rng.uniform(1.0, 4.0))
            self.faults.restart_syncer(victim)
        else:
            self._global(kind)
        self.counts[kind] += 1
        where = f" on {victim}" if kind in ("partition", "kill_syncer") else ""
        _say(f"fault {kind}{where}{also} healed after {time.monotonic() - began:.1f}s")

    def _stale(self, victim: str) -> bool:
        try:
            target = self.churn.upstream.get(SYNC_TARGETS, victim)
        except Exception:
            return False
        return time.time() - heartbeat_of(target) > HEARTBEAT_THRESHOLD

    def _global(self, kind: str) -> None:
        if kind == "drop_tunnels":
            self.faults.drop_tunnels()
        elif kind == "restart_apiserver":
            self.faults.restart_apiserver()
        else:
            self.storm()

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


def heartbeat_of(target: Obj) -> float:
    """When a SyncTarget's syncer last beat (epoch seconds; 0 before it ever did)."""
    stamp = (target.get("status") or {}).get("lastSyncerHeartbeatTime")
    if not stamp:
        return 0.0
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def _storm_patch(model: Model, current: Obj, value: str) -> Obj:
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


@dataclass
class Audit:
    """One look at the upstream and every target; empty lists mean converged."""

    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    """Not wrong in itself, only not finished: aggregates, SyncStatus phases, finalizers."""
    checked: int = 0

    @property
    def converged(self) -> bool:
        return not (self.lost or self.duplicated or self.orphaned or self.pending)

    def __repr__(self) -> str:
        parts = [f"{self.checked} objects checked"]
        for name in ("lost", "duplicated", "orphaned", "pending"):
            found: list[str] = getattr(self, name)
            if found:
                shown = "; ".join(found[:5]) + (f"; ... {len(found) - 5} more" if found[5:] else "")
                parts.append(f"{name} {len(found)}: {shown}")
        return " | ".join(parts)


class Auditor:
    """Compares the churn's model with the upstream, every target and the aggregates."""

    def __init__(self, env: SyncerEnvironment, churn: Churn) -> None:
        self.env = env
        self.churn = churn
        self.upstream = Cluster("soak-audit", env.clusters.upstream_kubeconfig)

    def look(self) -> Audit:
        for model in list(self.churn.objects.values()):
            if model.uncertain and not self.churn.refresh(model):
                raise RuntimeError(f"cannot read {model.ref} upstream yet")
        audit = Audit()
        upstream = self._upstream(audit)
        self._copies(audit, upstream)
        self._sync_statuses(audit, upstream)
        self._heartbeats(audit)
        return audit

    def _heartbeats(self, audit: Audit) -> None:
        """Every target's syncer beats again: a syncer that stayed down would otherwise pass
        unseen wherever the churn left its objects alone."""
        now = time.time()
        for target in self.upstream.list(SYNC_TARGETS):
            age = now - heartbeat_of(target)
            if age > HEARTBEAT_THRESHOLD:
                audit.pending.append(f"{target['metadata']['name']}: last heartbeat {age:.0f}s ago")

    def _upstream(self, audit: Audit) -> dict[tuple[str, str, str], Obj]:
        """The live upstream objects by (kind, namespace, name), checked against the model."""
        found: dict[tuple[str, str, str], Obj] = {}
        for kind in CHURN_KINDS:
            for namespace in self.churn.namespaces:
                for item in self.upstream.list(kind, namespace, label_selector=RUN_LABEL):
                    found[(kind.kind, namespace, item["metadata"]["name"])] = item
        audit.checked += len(found)
        live: dict[tuple[str, str, str], Obj] = {}
        for key, model in self.churn.objects.items():
            obj: Obj | None = found.pop(key, None)
            if model.deleted or not model.exists:
                if obj is not None:
                    audit.pending.append(f"{model.ref} deleted but still upstream (finalizer held)")
                continue
            if obj is None:
                audit.lost.append(f"{model.ref} missing upstream")
                continue
            if obj["metadata"].get("deletionTimestamp"):
                audit.lost.append(f"{model.ref} deleting upstream though never deleted")
                continue
            lines = differences(model.content, obj)
            if lines:
                audit.lost.append(f"{model.ref} upstream: {lines[0]}")
            live[key] = obj
            if model.kind == DEPLOYMENT:
                self._aggregate(audit, model, obj)
        audit.duplicated += [f"{k} {ns}/{n} upstream, never created" for k, ns, n in found]
        for namespace in sorted(self.churn.dropped):
            if self.upstream.find(NAMESPACES, namespace) is not None:
                audit.pending.append(f"namespace {namespace} deleted but still upstream")
        return live

    def _aggregate(self, audit: Audit, model: Model, obj: Obj) -> None:
        replicas = obj["spec"]["replicas"] * len(model.placed)
        generation = obj["metadata"].get("generation")
        status = obj.get("status") or {}
        expected = {
            "replicas": replicas,
            "readyReplicas": replicas,
            "observedGeneration": generation,
        }
        lines = differences(expected, status, "status")
        ready: Obj = next(
            (c for c in status.get("conditions") or () if c.get("type") == SYNC_TARGETS_READY),
            {},
        )
        if ready.get("status") != "True":
            lines.append(f"{SYNC_TARGETS_READY}: {ready.get('message', 'none yet')}")
        audit.pending += [f"{model.ref} aggregate: {line}" for line in lines]

    def _copies(self, audit: Audit, live: dict[tuple[str, str, str], Obj]) -> None:
        seen: Counter[tuple[str, str, str, str]] = Counter()
        for name, target in self.env.targets.items():
            selector = f"{CLUSTER_LABEL}={target.key}"
            below_to_upstream = self._locators(target.cluster, selector, name)
            holding: set[str] = set()
            for kind in CHURN_KINDS:
                for copy in target.cluster.list(kind, label_selector=selector):
                    audit.checked += 1
                    below = copy["metadata"]["namespace"]
                    holding.add(below)
                    namespace = below_to_upstream.get(below)
                    where = f"{kind.kind} {below}/{copy['metadata']['name']} on {name}"
                    if namespace is None:
                        audit.orphaned.append(f"{where}: its namespace has no locator")
                        continue
                    if namespace not in self.churn.namespaces:
                        continue
                    key = (kind.kind, namespace, copy["metadata"]["name"])
                    seen[(name, *key)] += 1
                    model = self.churn.objects.get(key)
                    if key not in live or model is None or name not in model.placed:
                        audit.orphaned.append(f"{where}: not placed there")
                        continue
                    lines = differences(model.content, copy)
                    lines += differences(model.labels, copy["metadata"].get("labels") or {})
                    labels = copy["metadata"].get("labels") or {}
                    lines += [
                        f"{k} copied down" for k in labels if k.startswith(PLACEMENT_LABEL_PREFIX)
                    ]
                    if lines:
                        audit.lost.append(f"{where} stale: {lines[0]}")
            for below, namespace in sorted(below_to_upstream.items()):
                if below in holding or namespace not in self.churn.namespaces:
                    continue
                if namespace in self.churn.dropped:
                    audit.orphaned.append(f"namespace {below} on {name}: {namespace} is gone")
                else:
                    audit.pending.append(f"namespace {below} on {name}: empty, not cleaned up")
        for key in live:
            model = self.churn.objects[key]
            for name in sorted(model.placed):
                count = seen[(name, *key)]
                if count == 0:
                    audit.lost.append(f"{model.ref} has no copy on {name}")
                elif count > 1:
                    audit.duplicated.append(f"{model.ref} has {count} copies on {name}")

    @staticmethod
    def _locators(cluster: Cluster, selector: str, target: str) -> dict[str, str]:
        """Downstream namespace -> the upstream namespace its locator names, for this
        target's namespaces: two namespaces naming one upstream namespace duplicate it."""
        found: dict[str, str] = {}
        for namespace in cluster.list(NAMESPACES, label_selector=selector):
            text = (namespace["metadata"].get("annotations") or {}).get(LOCATOR_ANNOTATION)
            try:
                locator = json.loads(text or "")
            except ValueError:
                continue
            if locator.get("syncTarget", {}).get("name") == target:
                found[namespace["metadata"]["name"]] = locator.get("namespace", "")
        return found

    def _sync_statuses(self, audit: Audit, live: dict[tuple[str, str, str], Obj]) -> None:
        keys = {target.key: name for name, target in self.env.targets.items()}
        by_uid = {obj["metadata"]["uid"]: key for key, obj in live.items()}
        seen: Counter[tuple[str, str]] = Counter()
        for namespace in self.churn.namespaces:
            for status in self.upstream.list(SYNC_STATUSES, namespace):
                audit.checked += 1
                labels = status["metadata"].get("labels") or {}
                uid, key = labels.get(WORKLOAD_UID_LABEL, ""), labels.get(SYNC_TARGET_KEY_LABEL, "")
                target = keys.get(key, key)
                owner = by_uid.get(uid)
                where = f"SyncStatus {namespace}/{status['metadata']['name']}"
                if owner is None or target not in self.churn.objects[owner].placed:
                    audit.orphaned.append(f"{where}: its workload is not placed on {target}")
                    continue
                seen[(uid, target)] += 1
                phase = (status.get("status") or {}).get("phase")
                if phase != "Synced":
                    audit.pending.append(f"{where}: phase {phase}")
        for uid, key in by_uid.items():
            model = self.churn.objects[key]
            for name in model.placed:
                if seen[(uid, name)] == 0:
                    audit.pending.append(f"{model.ref}: no SyncStatus from {name}")
                elif seen[(uid, name)] > 1:
                    audit.duplicated.append(
                        f"{model.ref}: {seen[(uid, name)]} SyncStatus from {name}"
                    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytest-syncer soak",
        description="Start an environment, churn upstream objects while faults drawn from the "
        "seed hit it, heal, wait for convergence and audit every target; print one JSON line.",
    )
    parser.add_argument("--targets", type=int, default=5, help="sync targets (default 5)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of churn (60)")
    parser.add_argument("--seed", type=int, default=1, help="seed of churn and faults (1)")
    parser.add_argument("--rate", type=float, default=4.0, help="churn operations per second (4)")
    parser.add_argument(
        "--fault-gap", type=float, default=6.0, help="mean seconds between faults (6)"
    )
    parser.add_argument(
        "--converge-timeout", type=float, default=300.0, help="seconds to converge (300)"
    )
    parser.add_argument("--dir", type=Path, help="where the environment lives (default: temp)")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from pytest_syncer.clusters.registry import make_provider
    from pytest_syncer.harness.config import resolve

    values = {"syncer_targets": str(args.targets), "syncer_seed": str(args.seed)}
    try:
        config = resolve({**values, "syncer_provider": "embedded"}, set(values))
    except HarnessConfigError as error:
        _say(str(error))
        return 2
    directory = (args.dir or Path(tempfile.mkdtemp(prefix="pytest-syncer-soak-"))).absolute()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    env: SyncerEnvironment | None = None
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        _say(f"starting {args.targets} targets in {directory}")
        began = time.monotonic()
        env = SyncerEnvironment.start(config, make_provider(config), directory)
        _say(f"environment up in {time.monotonic() - began:.1f}s")
        result = _soak(env, args, stop, threads)
    except KeyboardInterrupt:
        _say("interrupted; stopping every process")
        return 130
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        if env is not None:
            env.close()
        _say("stopped every process")
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()
    failed = result["lost"] or result["duplicated"] or result["orphaned"]
    return 1 if failed or not result["converged"] or result.get("error") else 0


def _soak(
    env: SyncerEnvironment,
    args: argparse.Namespace,
    stop: threading.Event,
    threads: list[threading.Thread],
) -> dict[str, Any]:
    rng = random.Random(args.seed)
    churn = Churn(
        env,
        random.Random(rng.random()),
        rate=args.rate,
        population=max(12, env.size),
    )
    churn.prepare()
    injector = FaultInjector(env, churn, random.Random(rng.random()), gap=args.fault_gap)
    threads += [
        threading.Thread(target=churn.run, args=(stop,), name="churn", daemon=True),
        threading.Thread(target=injector.run, args=(stop,), name="faults", daemon=True),
    ]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    # The churn goes on past --duration until every fault kind has come once.
    while (remaining := args.duration - _since(began)) > 0 or not injector.done_once:
        time.sleep(min(PROGRESS_INTERVAL, max(remaining, 1.0)))
        _say(
            f"{_since(began):.0f}s: {sum(churn.operations.values())} operations, "
            f"{len(churn.live())} objects, faults {dict(injector.counts)}"
        )
    stop.set()
    churned = _since(began)
    for thread in threads:
        thread.join()
    quiet = max(injector.last_healed, churn.last_operation)
    _say(f"churn and faults stopped after {_since(began):.0f}s; waiting for convergence")
    auditor = Auditor(env, churn)
    told = [time.monotonic()]

    def look() -> Audit:
        seen = auditor.look()
        if not seen.converged and time.monotonic() - told[0] >= PROGRESS_INTERVAL:
            told[0] = time.monotonic()
            _say(f"not converged yet: {seen!r}")
        return seen

    try:
        audit = wait_until(
            look,
            lambda seen: seen.converged,
            what="every object mirrored on exactly its targets, no orphan, every aggregate right",
            timeout=args.converge_timeout,
            interval=1.0,
        )
        converge_s: float | None = round(time.monotonic() - quiet, 2)
    except WaitTimeout as timeout:
        _say(str(timeout))
        audit = auditor.look()
        converge_s = None
    _say(repr(audit))
    result: dict[str, Any] = {
        "targets": env.size,
        "duration_s": round(churned, 1),
        "seed": args.seed,
        "operations": sum(churn.operations.values()),
        "operations_by_kind": dict(churn.operations),
        "operations_failed": churn.failed,
        "faults": {kind: injector.counts[kind] for kind in FAULT_KINDS},
        "conflicts_409": injector.conflicts,
        "partitions_stale": injector.partitions_stale,
        "objects_checked": audit.checked,
        "lost": len(audit.lost),
        "duplicated": len(audit.duplicated),
        "orphaned": len(audit.orphaned),
        "converged": audit.converged,
        "unfinished": len(audit.pending),
        "converge_s": converge_s,
        "loadavg": [round(value, 2) for value in os.getloadavg()],
        "dir": str(env.workdir),
    }
    errors = [error for error in (churn.error, injector.error) if error is not None]
    if errors:
        result["error"] = "; ".join(f"{type(error).__name__}: {error}" for error in errors)
    return result


def _since(began: float) -> float:
    return time.monotonic() - began
