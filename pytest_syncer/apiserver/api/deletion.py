"""What deleting means, shared by the object API (DELETE) and the controllers that finish it.

Kubernetes (``k8s.io/apiserver/pkg/registry/rest/delete.go`` and the garbage collector in
``pkg/controller/garbagecollector``) deletes in two steps: DELETE either removes an object at once
or, while it carries finalizers, only marks it (``deletionTimestamp``); a controller removes its
finalizer once its work is done, and the object goes with the last one.

- **Propagation** (DELETE's ``propagationPolicy``/``orphanDependents``): ``Background`` deletes the
  owner at once and the garbage collector follows; ``Foreground`` holds the owner with the
  finalizer ``foregroundDeletion`` until the dependents that set ``blockOwnerDeletion`` are gone;
  ``Orphan`` (finalizer ``orphan``) strips the owner's references from its dependents and keeps
  them.
- **Owner references**: a dependent whose owners (by uid, within its logical cluster) are all
  gone is deleted; one that keeps some loses the references to the missing ones.
- **Namespaces** (``pkg/controller/namespace``): DELETE marks the namespace Terminating; it goes
  once empty and its ``spec.finalizers`` (``kubernetes``) are removed.
- **CustomResourceDefinitions** (``apiextensions-apiserver/pkg/controller/finalizer``): held by
  ``customresourcecleanup.apiextensions.k8s.io`` with a ``Terminating`` condition until their
  objects are gone.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.objects import is_releasable, mark_deleting, now_timestamp

ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"
GC_FINALIZERS = frozenset({ORPHAN_FINALIZER, FOREGROUND_FINALIZER})


class Policy(enum.StrEnum):
    BACKGROUND = "Background"
    FOREGROUND = "Foreground"
    ORPHAN = "Orphan"


def deletion_policy(options: Mapping[str, Any] | None, query: Mapping[str, str]) -> Policy:
    """The propagation policy of a DELETE: body first, then the query; Background by default."""
    body = options or {}
    policy = body.get("propagationPolicy", query.get("propagationPolicy"))
    orphan = body.get("orphanDependents", query.get("orphanDependents"))
    if isinstance(orphan, str):
        orphan = {"true": True, "false": False}.get(orphan.lower(), orphan)
    if policy is not None and orphan is not None:
        raise _invalid(
            "propagationPolicy",
            "FieldValueInvalid",
            "Invalid value: "
            f'"{policy}": orphanDependents and deletionPropagation cannot be both set',
        )
    if orphan is not None:
        if not isinstance(orphan, bool):
            raise APIError(400, f"orphanDependents must be a boolean, not {orphan!r}")
        return Policy.ORPHAN if orphan else Policy.BACKGROUND
    if policy is None or policy == "":
        return Policy.BACKGROUND
    if policy not in tuple(Policy):
        raise _invalid(
            "propagationPolicy",
            "FieldValueNotSupported",
            f'Unsupported value: "{policy}": supported values: "Foreground", "Background", '
            '"Orphan", "nil"',
        )
    return Policy(policy)


def _invalid(field: str, reason: str, message: str) -> APIError:
    return APIError(
        422,
        f'DeleteOptions.meta.k8s.io "" is invalid: {field}: {message}',
        name="",
        kind="DeleteOptions",
        group="meta.k8s.io",
        causes=[{"reason": reason, "message": message, "field": field}],
    )


def finalizer_for(policy: Policy) -> str | None:
    """The finalizer DELETE puts on the owner for ``policy`` (Background needs none)."""
    if policy is Policy.ORPHAN:
        return ORPHAN_FINALIZER
    if policy is Policy.FOREGROUND:
        return FOREGROUND_FINALIZER
    return None


def owner_references(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    references = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return [ref for ref in references if isinstance(ref, Mapping) and ref.get("uid")]


def owner_uids(obj: Mapping[str, Any]) -> set[str]:
    return {str(ref["uid"]) for ref in owner_references(obj)}


@dataclass(frozen=True)
class Verdict:
    """What the collector does to one dependent: delete it, or drop some references, or nothing."""

    delete: bool = False
    drop_uids: frozenset[str] = frozenset()

    @property
    def keep(self) -> bool:
        return not self.delete and not self.drop_uids


def judge(obj: Mapping[str, Any], missing: Iterable[str]) -> Verdict:
    """A dependent whose owners with uids in ``missing`` no longer exist."""
    owners = owner_uids(obj)
    gone = frozenset(owners & set(missing))
    if not owners or not gone:
        return Verdict()
    if gone == owners:
        return Verdict(delete=True)
    return Verdict(drop_uids=gone)


def without_owners(obj: Mapping[str, Any], uids: Iterable[str]) -> dict[str, Any]:
    """A copy of ``obj`` without its references to ``uids`` (stored objects are never mutated)."""
    dropped = set(uids)
    metadata = dict(obj.get("metadata") or {})
    kept = [
        ref
        for ref in metadata.get("ownerReferences") or ()
        if not (isinstance(ref, Mapping) and ref.get("uid") in dropped)
    ]
    if kept:
        metadata["ownerReferences"] = kept
    else:
        metadata.pop("ownerReferences", None)
    return {**obj, "metadata": metadata}


def blocks_owner(obj: Mapping[str, Any], owner_uid: str) -> bool:
    """Whether ``obj`` holds back the foreground deletion of the owner with ``owner_uid``."""
    return any(
        ref.get("uid") == owner_uid and ref.get("blockOwnerDeletion") is True
        for ref in owner_references(obj)
    )


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


# Namespaces.

NAMESPACE_KEY = "core/namespaces"
KUBERNETES_FINALIZER = "kubernetes"
TERMINATING = "Terminating"


def terminating(namespace: dict[str, Any]) -> dict[str, Any]:
    """The namespace as DELETE leaves it: deletionTimestamp set, phase Terminating."""
    marked = mark_deleting(namespace)
    marked["status"] = {**(namespace.get("status") or {}), "phase": TERMINATING}
    return marked


def without_spec_finalizer(namespace: dict[str, Any]) -> dict[str, Any]:
    """The namespace once its contents are gone: the ``kubernetes`` finalizer removed."""
    spec = dict(namespace.get("spec") or {})
    remaining = [f for f in spec.get("finalizers") or () if f != KUBERNETES_FINALIZER]
    if remaining:
        spec["finalizers"] = remaining
    else:
        spec.pop("finalizers", None)
    return {**namespace, "spec": spec}


def holds_back_release(namespace: dict[str, Any]) -> bool:
    """A namespace with spec finalizers left is not removed, whatever its metadata says."""
    return bool((namespace.get("spec") or {}).get("finalizers"))


# CustomResourceDefinitions.


def with_terminating_condition(crd: Mapping[str, Any]) -> dict[str, Any]:
    """The CRD with ``Terminating: True`` among its conditions (replacing an older one)."""
    status = dict(crd.get("status") or {})
    conditions = [c for c in status.get("conditions") or () if c.get("type") != "Terminating"]
    conditions.append(
        {
            "type": "Terminating",
            "status": "True",
            "reason": "InstanceDeletionInProgress",
            "message": "CustomResource deletion is in progress",
            "lastTransitionTime": now_timestamp(),
        }
    )
    status["conditions"] = conditions
    return {**crd, "status": status}


def is_terminating(crd: Mapping[str, Any]) -> bool:
    return any(
        c.get("type") == "Terminating" and c.get("status") == "True"
        for c in (crd.get("status") or {}).get("conditions") or ()
    )


# Finalizers.


def without_finalizer(obj: Mapping[str, Any], finalizer: str) -> dict[str, Any]:
    """A copy of ``obj`` without ``finalizer`` (stored objects are never mutated)."""
    metadata = dict(obj["metadata"])
    remaining = [f for f in metadata.get("finalizers") or () if f != finalizer]
    if remaining:
        metadata["finalizers"] = remaining
    else:
        metadata.pop("finalizers", None)
    return {**obj, "metadata": metadata}


def goes_now(obj: dict[str, Any]) -> bool:
    """A deleting object with no finalizer left (metadata nor a namespace's spec) is removed."""
    return is_releasable(obj) and not holds_back_release(obj)
