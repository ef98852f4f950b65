"""Seeded upstream churn across the targets, recorded in the model as it goes.

A write whose answer was lost (the API server restarting under it) makes its object uncertain;
the model adopts what the upstream shows before using it again, so only acknowledged writes can
be lost.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.kube import KINDS, NAMESPACES, Cluster, Kind, KubeObject
from pytest_syncer.soak.model import Model, project
from pytest_syncer.soak.progress import say

SYNC = "Sync"
CHURN_KINDS = (
    KINDS[("v1", "ConfigMap")],
    KINDS[("v1", "Secret")],
    KINDS[("v1", "Service")],
    KINDS[("apps/v1", "Deployment")],
)
NAMESPACE_COUNT = 3
RUN_LABEL = "soak.pytest-syncer.io/run"


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
            say(f"churn stopped: {type(error).__name__}: {error}")

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
        body: KubeObject = {
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

    def _patch(self, model: Model, patch: KubeObject) -> None:
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

    def adopt(self, model: Model, found: KubeObject | None) -> None:
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


def _content(kind: Kind, rng: random.Random) -> KubeObject:
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


def _update_patch(model: Model, rng: random.Random) -> KubeObject:
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
