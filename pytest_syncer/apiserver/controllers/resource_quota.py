"""The resource quota controller: keeps each ResourceQuota's ``status.hard`` and ``status.used``.

As Kubernetes' (``pkg/controller/resourcequota``, evaluators in ``pkg/quota/v1/evaluator/core``),
``used`` is given for every resource ``spec.hard`` names: object counts (``pods`` (those not
Succeeded or Failed), ``services``, ``services.loadbalancers``, ``services.nodeports``,
``configmaps``, ``secrets``, ``persistentvolumeclaims``, ``replicationcontrollers``,
``resourcequotas``, and ``count/<resource>[.<group>]`` for any served type), the pods'
``requests.cpu``/``requests.memory`` (also ``cpu``/``memory``), ``limits.cpu``/
``limits.memory``, and the claims' ``requests.storage``. A namespace is recounted after any
write in it, only while it holds a quota. Quotas are reported, not enforced: a create past
``hard`` still succeeds.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.resources import ResourcePath
from pytest_syncer.apiserver.controllers.base import StoreController
from pytest_syncer.apiserver.store import WatchEvent

if TYPE_CHECKING:
    from pytest_syncer.apiserver.api.object_api import ObjectAPI

QUOTA_KEY = "core/resourcequotas"
_OBJECT_COUNTS = {
    "pods": "core/pods",
    "services": "core/services",
    "configmaps": "core/configmaps",
    "secrets": "core/secrets",
    "persistentvolumeclaims": "core/persistentvolumeclaims",
    "replicationcontrollers": "core/replicationcontrollers",
    "resourcequotas": QUOTA_KEY,
}
_SUFFIXES = {
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)(?:[eE]([+-]?[0-9]+))?([a-zA-Z]*)$")


def parse_quantity(text: Any) -> tuple[Fraction, bool]:
    """A Kubernetes quantity's value, and whether it was written with a binary suffix."""
    found = _QUANTITY.match(str(text).strip())
    if found is None or found.group(3) not in _SUFFIXES:
        raise ValueError(f"not a quantity: {text!r}")
    number, exponent, suffix = found.groups()
    value = Fraction(number) * _SUFFIXES[suffix]
    if exponent:
        value *= Fraction(10) ** int(exponent)
    return value, suffix.endswith("i")


def format_quantity(value: Fraction, binary: bool) -> str:
    """Canonical form: the largest binary suffix that divides it, else a whole number, else
    milli-units (rounded up, as Kubernetes rounds sub-milli values)."""
    if binary and value.denominator == 1 and value:
        for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
            if value % _SUFFIXES[suffix] == 0:
                return f"{value // _SUFFIXES[suffix]}{suffix}"
    if value.denominator == 1:
        return str(value.numerator)
    millis = -((-value * 1000) // 1)
    return f"{millis}m"


def _sum(quantities: list[Any]) -> str:
    total, binary = Fraction(0), False
    for quantity in quantities:
        try:
            value, is_binary = parse_quantity(quantity)
        except ValueError:
            continue
        total += value
        binary = binary or is_binary
    return format_quantity(total, binary)


def _active_pod(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _container_amounts(pods: list[dict[str, Any]], kind: str, resource: str) -> list[Any]:
    amounts = []
    for pod in pods:
        for container in (pod.get("spec") or {}).get("containers") or []:
            wanted = ((container.get("resources") or {}).get(kind) or {}).get(resource)
            if wanted is not None:
                amounts.append(wanted)
    return amounts


class ResourceQuotaController(StoreController[tuple[str, str]]):
    """Recounts a namespace's quotas after writes in it; :meth:`observe` is a store listener."""

    name = "resource-quota"

    def __init__(self, api: ObjectAPI) -> None:
        super().__init__(api)
        #: Namespaces holding a quota, with how many.
        self._quoted: dict[tuple[str, str], int] = {}

    def observe(self, event: WatchEvent) -> None:
        key = event.key
        place = (key.cluster, key.namespace)
        if key.resource == QUOTA_KEY and event.type != "MODIFIED":
            self._quoted[place] = self._quoted.get(place, 0) + (1 if event.type == "ADDED" else -1)
            if self._quoted[place] <= 0:
                del self._quoted[place]
        if place in self._quoted:
            self.enqueue(place)

    def rebuild(self) -> None:
        """Count the quotas a data dir kept, and bring their status up to date."""
        for cluster, quota in self.stored(QUOTA_KEY):
            place = (cluster, quota["metadata"].get("namespace", ""))
            self._quoted[place] = self._quoted.get(place, 0) + 1
            self.enqueue(place)

    async def process(self, key: tuple[str, str]) -> float | None:
        cluster, namespace = key
        quota_type = self.api.registry.require("", "v1", "resourcequotas")
        for quota in self.api.store.list_objects(QUOTA_KEY, cluster, namespace):
            hard = dict((quota.get("spec") or {}).get("hard") or {})
            status = {"hard": hard, "used": self._used(cluster, namespace, hard)}
            if quota.get("status") == status:
                continue
            name = quota["metadata"]["name"]
            path = ResourcePath(cluster, quota_type, namespace, name, "status")
            try:
                self.api.update(path, {**quota, "status": status})
            except APIError as error:
                if error.code == 409:
                    return 0.05
                if error.code != 404:
                    raise
        return None

    def _objects(self, cluster: str, namespace: str, key: str) -> list[dict[str, Any]]:
        return self.api.store.list_objects(key, cluster, namespace)

    def _count_key(self, cluster: str, resource: str) -> str | None:
        """The store key of ``count/<resource>[.<group>]``'s type."""
        plural, _, group = resource.removeprefix("count/").partition(".")
        for resource_type in self.api.registry.stored_types(cluster):
            if resource_type.resource == plural and resource_type.group == group:
                return resource_type.key
        return None

    def _used(self, cluster: str, namespace: str, hard: dict[str, Any]) -> dict[str, str]:
        pods = [p for p in self._objects(cluster, namespace, "core/pods") if _active_pod(p)]
        used: dict[str, str] = {}
        for resource in hard:
            if resource == "pods":
                used[resource] = str(len(pods))
            elif resource in _OBJECT_COUNTS:
                counted = self._objects(cluster, namespace, _OBJECT_COUNTS[resource])
                used[resource] = str(len(counted))
            elif resource in ("services.loadbalancers", "services.nodeports"):
                services = self._objects(cluster, namespace, "core/services")
                used[resource] = str(self._service_count(services, resource))
            elif resource.startswith("count/"):
                key = self._count_key(cluster, resource)
                used[resource] = str(len(self._objects(cluster, namespace, key)) if key else 0)
            elif resource in ("cpu", "memory", "requests.cpu", "requests.memory"):
                amounts = _container_amounts(pods, "requests", resource.removeprefix("requests."))
                used[resource] = _sum(amounts)
            elif resource in ("limits.cpu", "limits.memory"):
                amounts = _container_amounts(pods, "limits", resource.removeprefix("limits."))
                used[resource] = _sum(amounts)
            elif resource == "requests.storage":
                claims = self._objects(cluster, namespace, "core/persistentvolumeclaims")
                requests = [
                    (((c.get("spec") or {}).get("resources") or {}).get("requests") or {})
                    for c in claims
                ]
                used[resource] = _sum([r["storage"] for r in requests if "storage" in r])
        return used

    @staticmethod
    def _service_count(services: list[dict[str, Any]], resource: str) -> int:
        """LoadBalancer Services, or the node ports of NodePort and LoadBalancer Services."""
        specs = [s.get("spec") or {} for s in services]
        if resource == "services.loadbalancers":
            return sum(1 for spec in specs if spec.get("type") == "LoadBalancer")
        exposed = [spec for spec in specs if spec.get("type") in ("NodePort", "LoadBalancer")]
        return sum(len(spec.get("ports") or []) for spec in exposed)
