"""One look at the upstream, every target and the aggregates against the churn's model: what
was lost, duplicated, orphaned or is not finished yet."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field

from pytest_syncer.contract.heartbeat import last_heartbeat
from pytest_syncer.contract.naming import (
    CLUSTER_LABEL,
    LOCATOR_ANNOTATION,
    PLACEMENT_LABEL_PREFIX,
    SYNC_TARGET_KEY_LABEL,
    WORKLOAD_UID_LABEL,
)
from pytest_syncer.harness.environment import SyncerEnvironment
from pytest_syncer.harness.kube import (
    KINDS,
    NAMESPACES,
    SYNC_STATUSES,
    SYNC_TARGETS,
    Cluster,
    KubeObject,
)
from pytest_syncer.harness.waits import differences
from pytest_syncer.soak.churn import CHURN_KINDS, RUN_LABEL, Churn
from pytest_syncer.soak.model import Model
from pytest_syncer.status.rules import SYNC_TARGETS_READY

DEPLOYMENT = KINDS[("apps/v1", "Deployment")]


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
            age = now - (last_heartbeat(target) or 0.0)
            if age > self.env.heartbeat_threshold:
                audit.pending.append(f"{target['metadata']['name']}: last heartbeat {age:.0f}s ago")

    def _upstream(self, audit: Audit) -> dict[tuple[str, str, str], KubeObject]:
        """The live upstream objects by (kind, namespace, name), checked against the model."""
        found: dict[tuple[str, str, str], KubeObject] = {}
        for kind in CHURN_KINDS:
            for namespace in self.churn.namespaces:
                for item in self.upstream.list(kind, namespace, label_selector=RUN_LABEL):
                    found[(kind.kind, namespace, item["metadata"]["name"])] = item
        audit.checked += len(found)
        live: dict[tuple[str, str, str], KubeObject] = {}
        for key, model in self.churn.objects.items():
            obj: KubeObject | None = found.pop(key, None)
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

    def _aggregate(self, audit: Audit, model: Model, obj: KubeObject) -> None:
        replicas = obj["spec"]["replicas"] * len(model.placed)
        generation = obj["metadata"].get("generation")
        status = obj.get("status") or {}
        expected = {
            "replicas": replicas,
            "readyReplicas": replicas,
            "observedGeneration": generation,
        }
        lines = differences(expected, status, "status")
        ready: KubeObject = next(
            (c for c in status.get("conditions") or () if c.get("type") == SYNC_TARGETS_READY),
            {},
        )
        if ready.get("status") != "True":
            lines.append(f"{SYNC_TARGETS_READY}: {ready.get('message', 'none yet')}")
        audit.pending += [f"{model.ref} aggregate: {line}" for line in lines]

    def _copies(self, audit: Audit, live: dict[tuple[str, str, str], KubeObject]) -> None:
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

    def _sync_statuses(self, audit: Audit, live: dict[tuple[str, str, str], KubeObject]) -> None:
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
