"""CustomResourceDefinitions: a CRD in a logical cluster serves its types there, and only there.

Creating a CRD checks it (``validation/apiextensions.py`` has the field rules), refuses names
the server already serves built in, and stores it already ``NamesAccepted`` and ``Established``:
there is no controller delay to wait out. Its served versions become run-time rows of the type
table for that cluster (discovery, CRUD, watch, ``/status`` when declared, the version's schema
for validation and pruning). Deleting it deletes its objects in that cluster and ends their watches.

SyncTarget and SyncStatus (``workload.kcp.io``) are built into this server but are CRDs on real
clusters, so harnesses install the shipped ``data/crds/`` everywhere: a CRD that matches such a
built-in type (same group, plural, kind and scope) is accepted and reported Established, and the
built-in type keeps serving (its objects survive the CRD's deletion). Any other clash is a 409.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.objects import now_timestamp, stored_cluster
from pytest_syncer.apiserver.api.resources import STANDARD_VERBS, ResourceRegistry, ResourceType
from pytest_syncer.apiserver.store import ObjectKey, Store

CRD_GROUP = "apiextensions.k8s.io"
CRD_KEY = f"{CRD_GROUP}/customresourcedefinitions"
#: Holds a deleted CRD until its objects are gone (the CRD cleanup controller).
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
#: Groups whose built-in types are CRDs on real clusters: a matching CRD is accepted as a no-op.
CRD_BACKED_GROUPS = frozenset({"workload.kcp.io"})

RemovedListener = Callable[[str, list[ResourceType]], None]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


def _scale_paths(scale: Any) -> tuple[str, str, str] | None:
    if not isinstance(scale, Mapping):
        return None
    return (
        str(scale.get("specReplicasPath") or ".spec.replicas"),
        str(scale.get("statusReplicasPath") or ".status.replicas"),
        str(scale.get("labelSelectorPath") or ""),
    )


def served_types(crd: Mapping[str, Any]) -> list[ResourceType]:
    """One type-table row per served version of ``crd``."""
    spec = _mapping(crd.get("spec"))
    names = _mapping(spec.get("names"))
    kind = str(names.get("kind", ""))
    rows = []
    versions = spec.get("versions")
    for raw in _list(versions):
        version = _mapping(raw)
        if version.get("served") is False:
            continue
        subresources = _mapping(version.get("subresources"))
        schema = _mapping(version.get("schema")).get("openAPIV3Schema")
        rows.append(
            ResourceType(
                str(spec.get("group", "")),
                str(version.get("name", "")),
                str(names.get("plural", "")),
                kind,
                spec.get("scope") == "Namespaced",
                singular=str(names.get("singular") or kind.lower()),
                short_names=_strings(names.get("shortNames")),
                verbs=STANDARD_VERBS,
                subresources=tuple(name for name in ("status", "scale") if name in subresources),
                scale_paths=_scale_paths(subresources.get("scale")),
                categories=_strings(names.get("categories")),
                definition=str(_mapping(crd.get("metadata")).get("name", "")),
                schema=schema if isinstance(schema, Mapping) else None,
                printer_columns=tuple(
                    _mapping(column)
                    for column in _list(version.get("additionalPrinterColumns"))
                    if isinstance(column, Mapping)
                ),
            )
        )
    return rows


def with_defaults(crd: dict[str, Any]) -> dict[str, Any]:
    """``spec.names.singular`` and ``listKind`` filled in, as the real server defaults them."""
    spec = dict(_mapping(crd.get("spec")))
    names = dict(_mapping(spec.get("names")))
    kind = str(names.get("kind", ""))
    names.setdefault("singular", kind.lower())
    names.setdefault("listKind", f"{kind}List")
    spec["names"] = names
    return {**crd, "spec": spec}


def established_status(crd: Mapping[str, Any]) -> dict[str, Any]:
    """The status the CRD controllers would reach: names accepted, established."""
    spec = _mapping(crd.get("spec"))
    now = now_timestamp()
    storage = [
        str(_mapping(version).get("name"))
        for version in _list(spec.get("versions"))
        if _mapping(version).get("storage") is True
    ]
    conditions = [
        {
            "type": "NamesAccepted",
            "status": "True",
            "reason": "NoConflicts",
            "message": "no conflicts found",
            "lastTransitionTime": now,
        },
        {
            "type": "Established",
            "status": "True",
            "reason": "InitialNamesAccepted",
            "message": "the initial names have been accepted",
            "lastTransitionTime": now,
        },
    ]
    return {
        "conditions": conditions,
        "acceptedNames": dict(_mapping(spec.get("names"))),
        "storedVersions": storage,
    }


def clash(candidate: ResourceType, builtin: ResourceType) -> str | None:
    """Why ``candidate`` may not take ``builtin``'s place; None when it matches a CRD-backed one."""
    if (
        builtin.group in CRD_BACKED_GROUPS
        and candidate.kind == builtin.kind
        and candidate.namespaced == builtin.namespaced
    ):
        return None
    return (
        f"{candidate.resource}.{candidate.group}/{candidate.version} is built into this server "
        "and cannot be served by a CustomResourceDefinition"
    )


class CustomResourceDefinitions:
    """Keeps the type table in step with the CRDs stored in each logical cluster."""

    def __init__(self, store: Store, registry: ResourceRegistry) -> None:
        self.store = store
        self.registry = registry
        #: Told which types stopped being served (their watches end).
        self.removed_listeners: list[RemovedListener] = []

    def admit(self, cluster: str, crd: dict[str, Any]) -> dict[str, Any]:
        """Check a new CRD against what ``cluster`` serves; return it defaulted and Established."""
        name = str(_mapping(crd.get("metadata")).get("name", ""))
        for candidate in served_types(crd):
            builtin = self.registry.lookup(candidate.group, candidate.version, candidate.resource)
            if builtin is not None and not builtin.definition:
                reason = clash(candidate, builtin)
                if reason is not None:
                    raise APIError(
                        409,
                        f'customresourcedefinitions.{CRD_GROUP} "{name}" is refused: {reason}',
                        reason="AlreadyExists",
                        name=name,
                        kind="customresourcedefinitions",
                        group=CRD_GROUP,
                    )
        defaulted = with_defaults(crd)
        defaulted["status"] = established_status(defaulted)
        metadata = dict(_mapping(defaulted.get("metadata")))
        finalizers = list(metadata.get("finalizers") or ())
        if CLEANUP_FINALIZER not in finalizers:
            metadata["finalizers"] = [*finalizers, CLEANUP_FINALIZER]
        defaulted["metadata"] = metadata
        return defaulted

    def object_keys(self, cluster: str, name: str) -> list[str]:
        """The store keys of CRD ``name``'s objects in ``cluster`` (not of built-in types)."""
        builtin_keys = {resource_type.key for resource_type in self.registry.stored_types()}
        keys = {
            resource_type.key
            for resource_type in self.registry.custom_types(cluster)
            if resource_type.definition == name
        }
        return sorted(keys - builtin_keys)

    def refuse_if_terminating(self, cluster: str, resource_type: ResourceType) -> None:
        """New objects of a CRD being deleted are refused, as the real server does."""
        crd = self.store.get(ObjectKey(CRD_KEY, cluster, "", resource_type.definition))
        if crd is not None and crd["metadata"].get("deletionTimestamp"):
            raise APIError(
                405, "create not allowed while custom resource definition is terminating"
            )

    def serve(self, cluster: str, crd: Mapping[str, Any]) -> None:
        """Serve (or re-serve, after an update) the CRD's types in ``cluster``.

        Versions a built-in type already serves (the CRD-backed ones ``admit`` let through)
        stay with the built-in type.
        """
        name = str(_mapping(crd.get("metadata")).get("name", ""))
        rows = [
            row
            for row in served_types(crd)
            if self.registry.lookup(row.group, row.version, row.resource) is None
        ]
        self.registry.unregister_custom(cluster, name)
        self.registry.register_custom(cluster, rows)

    def withdraw(self, cluster: str, crd: Mapping[str, Any]) -> None:
        """The CRD is going: delete its objects in ``cluster`` and stop serving its types."""
        name = str(_mapping(crd.get("metadata")).get("name", ""))
        removed = self.registry.unregister_custom(cluster, name)
        builtin_keys = {resource_type.key for resource_type in self.registry.stored_types()}
        keys = {resource_type.key for resource_type in removed} - builtin_keys
        for key in sorted(keys):
            for obj in self.store.list_objects(key, cluster):
                metadata = obj["metadata"]
                self.store.delete(
                    ObjectKey(key, cluster, metadata.get("namespace", ""), metadata["name"])
                )
        if removed:
            self._ended(cluster, removed)

    def _ended(self, cluster: str, removed: list[ResourceType]) -> None:
        for listener in self.removed_listeners:
            listener(cluster, removed)

    def restore(self) -> None:
        """Serve again the CRDs a data dir kept (a restart)."""
        for crd in self.store.list_objects(CRD_KEY):
            cluster = stored_cluster(crd)
            if cluster:
                self.serve(cluster, crd)
