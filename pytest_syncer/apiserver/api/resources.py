"""The table of API types the server serves, and lookups over it.

The table is data, not code, so types can be added at run time (CustomResourceDefinitions
register rows the same way the built-in types do).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

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
    #: The CustomResourceDefinition serving this type (``<plural>.<group>``); "" for built-ins.
    definition: str = ""
    #: A CRD version's structural ``openAPIV3Schema``: objects are validated and pruned by it.
    schema: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    #: A CRD version's scale subresource (specReplicasPath, statusReplicasPath,
    #: labelSelectorPath); None for the built-in scalable types (spec.replicas, ...).
    scale_paths: tuple[str, str, str] | None = field(default=None, compare=False, hash=False)
    #: A CRD version's ``additionalPrinterColumns``.
    printer_columns: tuple[Mapping[str, Any], ...] = field(default=(), compare=False, hash=False)
    #: The store key of another type whose objects this one serves converted
    #: (``api/conversion.py``); "" for a type with objects of its own.
    storage_key: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Store key prefix: one per group and resource, independent of version."""
        return self.storage_key or f"{self.group or 'core'}/{self.resource}"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def selectable_fields(self) -> tuple[str, ...]:
        return ("metadata.name", "metadata.namespace", *self.field_selectors)


#: The subresources most built-in types have.
STATUS = ("status",)
SCALED = ("status", "scale")


def _served(
    api_version: str,
    resource: str,
    kind: str,
    namespaced: bool = True,
    *,
    short: tuple[str, ...] = (),
    sub: tuple[str, ...] = (),
    fields: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    storage: str = "",
) -> ResourceType:
    """A built-in type as the table below spells it: one line per served resource."""
    group, _, version = api_version.rpartition("/")
    return ResourceType(
        group,
        version,
        resource,
        kind,
        namespaced,
        short_names=short,
        subresources=sub,
        field_selectors=fields,
        categories=categories,
        storage_key=storage,
    )


def _review(group: str, resource: str, kind: str, namespaced: bool = False) -> ResourceType:
    """A review: created and answered, never stored."""
    return ResourceType(group, "v1", resource, kind, namespaced, verbs=("create",), stored=False)


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
#: events.k8s.io/v1's labels (``pkg/apis/events/v1/conversion.go``): ``regarding.*`` and
#: ``reportingController`` for the core ones (``api/conversion.py`` maps them), which it refuses.
EVENTS_V1_FIELDS = (
    "regarding.kind",
    "regarding.namespace",
    "regarding.name",
    "regarding.uid",
    "regarding.apiVersion",
    "regarding.resourceVersion",
    "regarding.fieldPath",
    "reason",
    "reportingController",
    "source",
    "type",
)

BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _served(
        "v1",
        "namespaces",
        "Namespace",
        False,
        short=("ns",),
        sub=STATUS,
        fields=("status.phase",),
    ),
    _served("v1", "configmaps", "ConfigMap", short=("cm",)),
    _served("v1", "secrets", "Secret", fields=("type",)),
    _served("v1", "services", "Service", short=("svc",), sub=STATUS, categories=ALL),
    _served("v1", "serviceaccounts", "ServiceAccount", short=("sa",), sub=("token",)),
    _served("v1", "endpoints", "Endpoints", short=("ep",)),
    _served("v1", "pods", "Pod", short=("po",), sub=STATUS, fields=POD_FIELDS, categories=ALL),
    _served("v1", "events", "Event", short=("ev",), fields=EVENT_FIELDS),
    _served("v1", "persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",), sub=STATUS),
    _served(
        "apps/v1",
        "deployments",
        "Deployment",
        short=("deploy",),
        sub=SCALED,
        categories=ALL,
    ),
    _served(
        "apps/v1",
        "replicasets",
        "ReplicaSet",
        short=("rs",),
        sub=SCALED,
        fields=("status.replicas",),
        categories=ALL,
    ),
    _served(
        "apps/v1",
        "statefulsets",
        "StatefulSet",
        short=("sts",),
        sub=SCALED,
        categories=ALL,
    ),
    _served("apps/v1", "daemonsets", "DaemonSet", short=("ds",), sub=STATUS, categories=ALL),
    _served("batch/v1", "jobs", "Job", sub=STATUS, fields=("status.successful",), categories=ALL),
    _served("networking.k8s.io/v1", "ingresses", "Ingress", short=("ing",), sub=STATUS),
    _served("coordination.k8s.io/v1", "leases", "Lease"),
    _served("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", short=("netpol",)),
    _served("batch/v1", "cronjobs", "CronJob", short=("cj",), sub=STATUS, categories=ALL),
    _served("rbac.authorization.k8s.io/v1", "roles", "Role"),
    _served("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding"),
    _served("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", False),
    _served("rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _served("workload.kcp.io/v1alpha1", "synctargets", "SyncTarget", False, sub=STATUS),
    _served("workload.kcp.io/v1alpha1", "syncstatuses", "SyncStatus", sub=STATUS),
    _served(
        "apiextensions.k8s.io/v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        short=("crd", "crds"),
        sub=STATUS,
        categories=("api-extensions",),
    ),
    # The rest of what a cluster serves, as Kubernetes 1.32 lists it.
    _served(
        "v1", "nodes", "Node", False, short=("no",), sub=STATUS, fields=("spec.unschedulable",)
    ),
    _served(
        "v1",
        "replicationcontrollers",
        "ReplicationController",
        short=("rc",),
        sub=STATUS,
        fields=("status.replicas",),
        categories=ALL,
    ),
    _served("v1", "resourcequotas", "ResourceQuota", short=("quota",), sub=STATUS),
    _served("v1", "limitranges", "LimitRange", short=("limits",)),
    _served("v1", "podtemplates", "PodTemplate"),
    _served("v1", "persistentvolumes", "PersistentVolume", False, short=("pv",), sub=STATUS),
    _served("discovery.k8s.io/v1", "endpointslices", "EndpointSlice"),
    _served("policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", short=("pdb",), sub=STATUS),
    _served("scheduling.k8s.io/v1", "priorityclasses", "PriorityClass", False, short=("pc",)),
    _served(
        "autoscaling/v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        short=("hpa",),
        sub=STATUS,
        categories=ALL,
    ),
    _served(
        "autoscaling/v1",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        short=("hpa",),
        sub=STATUS,
        categories=ALL,
    ),
    _served(
        "events.k8s.io/v1",
        "events",
        "Event",
        short=("ev",),
        fields=EVENTS_V1_FIELDS,
        storage="core/events",
    ),
    _served("apps/v1", "controllerrevisions", "ControllerRevision"),
    _served("storage.k8s.io/v1", "storageclasses", "StorageClass", False, short=("sc",)),
    _served(
        "apiregistration.k8s.io/v1",
        "apiservices",
        "APIService",
        False,
        sub=STATUS,
        categories=("api-extensions",),
    ),
    _review("authentication.k8s.io", "tokenreviews", "TokenReview"),
    _review("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview"),
    _review("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
    _review("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
    _review("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview"),
    _review("authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview", True),
)


#: Subresources serving another kind than their resource's: (group, version, kind).
SUBRESOURCE_KINDS = {
    "scale": ("autoscaling", "v1", "Scale"),
    "token": ("authentication.k8s.io", "v1", "TokenRequest"),
}
#: The verbs of each subresource; ``status`` and ``scale`` are read and written.
_SUBRESOURCE_VERBS = {"token": ("create",)}


def subresource_verbs(subresource: str) -> tuple[str, ...]:
    return _SUBRESOURCE_VERBS.get(subresource, ("get", "patch", "update"))


def subresource_type(resource_type: ResourceType, subresource: str) -> ResourceType:
    """The kind ``subresource`` of ``resource_type`` serves: its own, a Scale, a TokenRequest."""
    found = SUBRESOURCE_KINDS.get(subresource)
    if found is None:
        return resource_type
    group, version, kind = found
    return replace(resource_type, group=group, version=version, kind=kind)


@dataclass
class ResourceRegistry:
    """Every served type, indexed for the lookups a request makes."""

    _by_path: dict[tuple[str, str, str], ResourceType] = field(default_factory=dict)
    _versions: dict[str, list[str]] = field(default_factory=dict)
    #: Types served by CustomResourceDefinitions, per logical cluster.
    _custom: dict[str, dict[tuple[str, str, str], ResourceType]] = field(default_factory=dict)
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

    def register_custom(self, cluster: str, types: Iterable[ResourceType]) -> None:
        """Serve ``types`` in ``cluster`` only; refused when a path is already served there."""
        served = self._custom.setdefault(cluster, {})
        added = {(t.group, t.version, t.resource): t for t in types}
        for path, resource_type in added.items():
            owner = self._by_path.get(path) or served.get(path)
            if owner is not None and owner.definition != resource_type.definition:
                raise ValueError(f"{path[2]}.{path[0]}/{path[1]} is already served")
        served.update(added)
        self.generation += 1

    def unregister_custom(self, cluster: str, definition: str) -> list[ResourceType]:
        """Stop serving the types of CRD ``definition`` in ``cluster``; return them."""
        served = self._custom.get(cluster, {})
        removed = [t for t in served.values() if t.definition == definition]
        for resource_type in removed:
            del served[(resource_type.group, resource_type.version, resource_type.resource)]
        if not served:
            self._custom.pop(cluster, None)
        self.generation += 1
        return removed

    def custom_types(self, cluster: str) -> list[ResourceType]:
        return list(self._custom.get(cluster, {}).values())

    def view(self, cluster: str | None) -> str | None:
        """Which discovery documents ``cluster`` sees: its own when it has custom types."""
        return cluster if cluster is not None and cluster in self._custom else None

    def lookup(
        self, group: str, version: str, resource: str, cluster: str | None = None
    ) -> ResourceType | None:
        found = self._by_path.get((group, version, resource))
        if found is None and cluster is not None and self._custom:
            custom = self._custom.get(cluster)
            if custom is not None:
                return custom.get((group, version, resource))
        return found

    def by_kind(
        self, group: str, version: str, kind: str, cluster: str | None = None
    ) -> ResourceType | None:
        """The type of ``kind`` in ``group``; any version of the group will do (ownerReferences)."""
        candidates = list(self._by_path.values())
        if cluster is not None:
            candidates += self._custom.get(cluster, {}).values()
        same_group = [t for t in candidates if t.group == group and t.kind == kind]
        for resource_type in same_group:
            if resource_type.version == version:
                return resource_type
        return same_group[0] if same_group else None

    def require(self, group: str, version: str, resource: str) -> ResourceType:
        found = self.lookup(group, version, resource)
        if found is None:
            raise KeyError(f"{resource}.{group}/{version} is not served")
        return found

    def has_group_version(self, group: str, version: str, cluster: str | None = None) -> bool:
        if version in self._versions.get(group, ()):
            return True
        custom = self._custom.get(cluster, {}) if cluster is not None else {}
        return any(g == group and v == version for g, v, _ in custom)

    def groups(self, cluster: str | None = None) -> dict[str, list[str]]:
        """Named groups (not the core group) with their versions, preferred first."""
        groups = {group: list(versions) for group, versions in self._versions.items() if group}
        custom = self._custom.get(cluster, {}) if cluster is not None else {}
        for group, version, _ in custom:
            versions = groups.setdefault(group, [])
            if version not in versions:
                versions.append(version)
        return groups

    def in_group_version(
        self, group: str, version: str, cluster: str | None = None
    ) -> list[ResourceType]:
        found = [t for (g, v, _), t in self._by_path.items() if g == group and v == version]
        custom = self._custom.get(cluster, {}) if cluster is not None else {}
        return found + [t for (g, v, _), t in custom.items() if g == group and v == version]

    def stored_types(self, cluster: str | None = None) -> Iterator[ResourceType]:
        """Stored built-in types, plus the custom types of ``cluster`` when given."""
        yield from (t for t in self._by_path.values() if t.stored)
        if cluster is not None:
            yield from self._custom.get(cluster, {}).values()

    def stored_types_everywhere(self) -> Iterator[ResourceType]:
        """Every stored type of every cluster, one per store key."""
        seen: set[str] = set()
        everywhere = [self._by_path.values(), *(c.values() for c in self._custom.values())]
        for types in everywhere:
            for resource_type in types:
                if resource_type.stored and resource_type.key not in seen:
                    seen.add(resource_type.key)
                    yield resource_type


@dataclass(frozen=True)
class ResourcePath:
    """What a request addresses: a collection (``name is None``), an object or a subresource."""

    cluster: str | None
    resource_type: ResourceType
    namespace: str | None
    name: str | None = None
    subresource: str | None = None
