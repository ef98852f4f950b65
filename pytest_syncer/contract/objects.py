"""The objects the harness and every syncer exchange, in the shapes kcp gives them.

A SyncTarget is named by its upstream cluster, name and uid; a namespace locator says which
upstream namespace a downstream namespace stands for (the `kcp.io/namespace-locator` annotation,
kcp's `pkg/syncer/shared.NamespaceLocator`); a SyncStatus records one workload on one target.
Objects travel as plain JSON dicts (`KubeObject`), the form the API server speaks.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from pytest_syncer.contract.errors import InvalidFieldError, InvalidLocatorError, MissingFieldError
from pytest_syncer.contract.naming import (
    SYNC_STATUS_API_VERSION,
    SYNC_STATUS_KIND,
    SYNC_TARGET_KEY_LABEL,
    WORKLOAD_UID_LABEL,
    downstream_namespace,
    locator_json,
    sync_status_name,
    sync_target_key,
)

KubeObject = dict[str, Any]


def copy_json(value: Any) -> Any:
    """A deep copy of JSON data; a pickle round trip of our own bytes is the fastest in CPython
    for an object (about twice a recursive copy, many times `copy.deepcopy`)."""
    return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


"""A Kubernetes object as the API server serves it in JSON."""


@dataclass(frozen=True)
class SyncTarget:
    """One downstream destination: a `SyncTarget` object in an upstream logical cluster."""

    name: str
    upstream_cluster: str
    uid: str

    @cached_property
    def key(self) -> str:
        """The base62 key that names this target in labels and namespaces (asked several
        times in every reconcile: computed once)."""
        return sync_target_key(self.upstream_cluster, self.name)


@dataclass(frozen=True)
class NamespaceLocator:
    """Which upstream namespace, seen through which target, a downstream namespace stands for."""

    sync_target: SyncTarget
    cluster: str
    namespace: str

    def to_json(self) -> str:
        """The annotation value, byte for byte what kcp's Go syncer writes."""
        return locator_json(
            self.sync_target.upstream_cluster,
            self.sync_target.name,
            self.sync_target.uid,
            self.cluster,
            self.namespace,
        )

    @property
    def downstream_namespace(self) -> str:
        """`kcp-` + 12 base36 digits of the locator's hash: unique per (cluster, ns, target)."""
        return downstream_namespace(
            self.sync_target.upstream_cluster,
            self.sync_target.name,
            self.sync_target.uid,
            self.cluster,
            self.namespace,
        )

    @classmethod
    def from_json(cls, text: str) -> NamespaceLocator:
        """Read a locator annotation back; `InvalidLocatorError` when it is not one."""
        field_name = "metadata.annotations[kcp.io/namespace-locator]"
        try:
            data = json.loads(text)
            target = data["syncTarget"]
            values = (
                target["cluster"],
                target["name"],
                target["uid"],
                data["cluster"],
                data["namespace"],
            )
        except (TypeError, KeyError, ValueError) as error:
            raise InvalidLocatorError(field_name, f"not a namespace locator: {error}") from None
        if not all(isinstance(value, str) for value in values):
            raise InvalidLocatorError(field_name, "locator fields must be strings")
        target_cluster, target_name, target_uid, cluster, namespace = values
        return cls(SyncTarget(target_name, target_cluster, target_uid), cluster, namespace)


@dataclass(frozen=True)
class ObjectReference:
    """Enough to find one object again and to name what refers to it."""

    api_version: str
    kind: str
    resource: str
    name: str
    namespace: str | None = None
    uid: str = ""


class SyncPhase(StrEnum):
    """Where one workload stands on one target."""

    PENDING = "Pending"
    SYNCED = "Synced"
    DELETING = "Deleting"
    CONFLICT = "Conflict"
    FAILED = "Failed"


@dataclass(frozen=True)
class SyncStatusRecord:
    """One workload on one target: the `workload.kcp.io/v1alpha1` SyncStatus, typed.

    `observed_generation` is the upstream generation applied below; `downstream_status` is
    already in upstream form; `last_sync_time` is RFC 3339 as written on the wire.
    """

    workload: ObjectReference
    target_name: str
    target_key: str
    phase: SyncPhase = SyncPhase.PENDING
    observed_generation: int | None = None
    downstream_status: Mapping[str, Any] | None = None
    conditions: tuple[Mapping[str, Any], ...] = ()
    last_sync_time: str | None = None

    @property
    def name(self) -> str:
        return sync_status_name(self.workload.resource, self.workload.name, self.target_name)

    @property
    def labels(self) -> dict[str, str]:
        return {SYNC_TARGET_KEY_LABEL: self.target_key, WORKLOAD_UID_LABEL: self.workload.uid}

    def to_object(self) -> KubeObject:
        """The SyncStatus object, owned by its workload so it is collected with it."""
        metadata: KubeObject = {"name": self.name, "labels": self.labels}
        if self.workload.namespace is not None:
            metadata["namespace"] = self.workload.namespace
        if self.workload.uid:
            metadata["ownerReferences"] = [
                {
                    "apiVersion": self.workload.api_version,
                    "kind": self.workload.kind,
                    "name": self.workload.name,
                    "uid": self.workload.uid,
                }
            ]
        status: KubeObject = {"phase": str(self.phase)}
        if self.observed_generation is not None:
            status["observedGeneration"] = self.observed_generation
        if self.downstream_status is not None:
            status["downstreamStatus"] = json.loads(json.dumps(self.downstream_status))
        if self.conditions:
            status["conditions"] = json.loads(json.dumps(list(self.conditions)))
        if self.last_sync_time is not None:
            status["lastSyncTime"] = self.last_sync_time
        return {
            "apiVersion": SYNC_STATUS_API_VERSION,
            "kind": SYNC_STATUS_KIND,
            "metadata": metadata,
            "spec": {
                "workload": {
                    "apiVersion": self.workload.api_version,
                    "kind": self.workload.kind,
                    "resource": self.workload.resource,
                    "name": self.workload.name,
                    "uid": self.workload.uid,
                },
                "syncTarget": {"name": self.target_name, "key": self.target_key},
            },
            "status": status,
        }

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> SyncStatusRecord:
        """Read a SyncStatus object; a typed `TransformError` names the first bad field."""
        metadata = _mapping(obj, "metadata", "metadata")
        spec = _mapping(obj, "spec", "spec")
        workload = _mapping(spec, "workload", "spec.workload")
        target = _mapping(spec, "syncTarget", "spec.syncTarget")
        status = obj.get("status") or {}
        if not isinstance(status, Mapping):
            raise InvalidFieldError("status", "must be an object")
        kind = workload.get("kind") or _owner_kind(metadata.get("ownerReferences"))
        phase_text = status.get("phase", SyncPhase.PENDING.value)
        try:
            phase = SyncPhase(phase_text)
        except ValueError:
            raise InvalidFieldError("status.phase", f"unknown phase {phase_text!r}") from None
        generation = status.get("observedGeneration")
        if generation is not None and (
            isinstance(generation, bool) or not isinstance(generation, int)
        ):
            raise InvalidFieldError("status.observedGeneration", "must be an integer")
        downstream_status = status.get("downstreamStatus")
        if downstream_status is not None and not isinstance(downstream_status, Mapping):
            raise InvalidFieldError("status.downstreamStatus", "must be an object")
        conditions = status.get("conditions") or []
        if not isinstance(conditions, list) or not all(
            isinstance(condition, Mapping) for condition in conditions
        ):
            raise InvalidFieldError("status.conditions", "must be a list of objects")
        return cls(
            workload=ObjectReference(
                api_version=_string(workload, "apiVersion", "spec.workload.apiVersion"),
                kind=kind,
                resource=_string(workload, "resource", "spec.workload.resource"),
                name=_string(workload, "name", "spec.workload.name"),
                namespace=_optional_string(metadata, "namespace", "metadata.namespace"),
                uid=_optional_string(workload, "uid", "spec.workload.uid") or "",
            ),
            target_name=_string(target, "name", "spec.syncTarget.name"),
            target_key=_string(target, "key", "spec.syncTarget.key"),
            phase=phase,
            observed_generation=generation,
            downstream_status=downstream_status,
            conditions=tuple(conditions),
            last_sync_time=_optional_string(status, "lastSyncTime", "status.lastSyncTime"),
        )


def _owner_kind(owners: object) -> str:
    """The workload's kind from its owner reference, for records written without spec kind."""
    if isinstance(owners, list) and owners and isinstance(owners[0], Mapping):
        kind = owners[0].get("kind")
        if isinstance(kind, str):
            return kind
    return ""


def _mapping(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = parent.get(key)
    if value is None:
        raise MissingFieldError(path, "is required")
    if not isinstance(value, Mapping):
        raise InvalidFieldError(path, "must be an object")
    return value


def _optional_string(parent: Mapping[str, Any], key: str, path: str) -> str | None:
    value = parent.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidFieldError(path, "must be a string")
    return value


def _string(parent: Mapping[str, Any], key: str, path: str) -> str:
    value = parent.get(key)
    if not value:
        raise MissingFieldError(path, "is required")
    if not isinstance(value, str):
        raise InvalidFieldError(path, "must be a string")
    return value
