"""The table of API types the server serves, and lookups over it.

The table is data, not code, so types can be added at run time (CustomResourceDefinitions
register rows the same way the built-in types do).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

STANDARD_VERBS = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)


@dataclass(frozen=True)
class ResourceType:
    """One served resource: where it lives in the API and what can be done to it."""

    group: str
    version: str
    resource: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = STANDARD_VERBS
    subresources: tuple[str, ...] = ()
    stored: bool = True
    #: Fields a fieldSelector may name besides metadata.name and metadata.namespace.
    field_selectors: tuple[str, ...] = ()
    #: Discovery categories: ``kubectl get all`` lists the types in category ``all``.
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Store key prefix: one per group and resource, independent of version."""
        return f"{self.group or 'core'}/{self.resource}"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def selectable_fields(self) -> tuple[str, ...]:
        return ("metadata.name", "metadata.namespace", *self.field_selectors)


def _core(
    resource: str,
    kind: str,
    namespaced: bool = True,
    *,
    short: tuple[str, ...] = (),
    status: bool = False,
    fields: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
) -> ResourceType:
    return ResourceType(
        "",
        "v1",
        resource,
        kind,
        namespaced,
        short_names=short,
        subresources=("status",) if status else (),
        field_selectors=fields,
        categories=categories,
    )


ALL = ("all",)
POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
)
EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
)

BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _core("namespaces", "Namespace", False, short=("ns",), status=True, fields=("status.phase",)),
    _core("configmaps", "ConfigMap", short=("cm",)),
    _core("secrets", "Secret", fields=("type",)),
    _core("services", "Service", short=("svc",), status=True, categories=ALL),
    _core("serviceaccounts", "ServiceAccount", short=("sa",)),
    _core("endpoints", "Endpoints", short=("ep",)),
    _core("pods", "Pod", short=("po",), status=True, fields=POD_FIELDS, categories=ALL),
    _core("events", "Event", short=("ev",), fields=EVENT_FIELDS),
    _core("persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",), status=True),
    ResourceType(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        True,
        categories=ALL,
        short_names=("deploy",),
        subresources=("status",),
    ),
    ResourceType(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        True,
        categories=ALL,
        short_names=("rs",),
        subresources=("status",),
        field_selectors=("status.replicas",),
    ),
    ResourceType(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        True,
        categories=ALL,
        short_names=("sts",),
        subresources=("status",),
    ),
    ResourceType(
        "apps",
        "v1",
        "daemonsets",
        "DaemonSet",
        True,
        categories=ALL,
        short_names=("ds",),
        subresources=("status",),
    ),
    ResourceType(
        "batch",
        "v1",
        "jobs",
        "Job",
        True,
        categories=ALL,
        subresources=("status",),
        field_selectors=("status.successful",),
    ),
    ResourceType(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "Ingress",
        True,
        short_names=("ing",),
        subresources=("status",),
    ),
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True),
    ResourceType(
        "networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, short_names=("netpol",)
    ),
    ResourceType(
        "batch",
        "v1",
        "cronjobs",
        "CronJob",
        True,
        categories=ALL,
        short_names=("cj",),
        subresources=("status",),
    ),
    ResourceType("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    ResourceType("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    ResourceType("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    ResourceType(
        "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False
    ),
    ResourceType(
        "workload.kcp.io",
        "v1alpha1",
        "synctargets",
        "SyncTarget",
        False,
        subresources=("status",),
    ),
    ResourceType(
        "workload.kcp.io",
        "v1alpha1",
        "syncstatuses",
        "SyncStatus",
        True,
        subresources=("status",),
    ),
    ResourceType(
        "authentication.k8s.io",
        "v1",
        "tokenreviews",
        "TokenReview",
        False,
        verbs=("create",),
        stored=False,
    ),
)


@dataclass
class ResourceRegistry:
    """Every served type, indexed for the lookups a request makes."""

    _by_path: dict[tuple[str, str, str], ResourceType] = field(default_factory=dict)
    _versions: dict[str, list[str]] = field(default_factory=dict)
    #: Bumped by every registration, so cached discovery documents know they are stale.
    generation: int = 0

    @classmethod
    def builtin(cls) -> ResourceRegistry:
        registry = cls()
        registry.register_all(BUILTIN_TYPES)
        return registry

    def register_all(self, types: Iterable[ResourceType]) -> None:
        for resource_type in types:
            self.register(resource_type)

    def register(self, resource_type: ResourceType) -> None:
        path = (resource_type.group, resource_type.version, resource_type.resource)
        if path in self._by_path:
            raise ValueError(f"{resource_type.resource}.{resource_type.group} is already served")
        self._by_path[path] = resource_type
        self.generation += 1
        versions = self._versions.setdefault(resource_type.group, [])
        if resource_type.version not in versions:
            versions.append(resource_type.version)

    def lookup(self, group: str, version: str, resource: str) -> ResourceType | None:
        return self._by_path.get((group, version, resource))

    def require(self, group: str, version: str, resource: str) -> ResourceType:
        found = self.lookup(group, version, resource)
        if found is None:
            raise KeyError(f"{resource}.{group}/{version} is not served")
        return found

    def has_group_version(self, group: str, version: str) -> bool:
        return version in self._versions.get(group, ())

    def groups(self) -> dict[str, list[str]]:
        """Named groups (not the core group) with their versions, preferred first."""
        return {group: list(versions) for group, versions in self._versions.items() if group}

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [t for (g, v, _), t in self._by_path.items() if g == group and v == version]

    def stored_types(self) -> Iterator[ResourceType]:
        return (t for t in self._by_path.values() if t.stored)
