"""Decoded objects indexed by key and by label: the memory store's state and the watch cache's.

A list costs what it returns: the label index narrows a selected list to the objects that carry
the selector's most selective label term before any object is looked at.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pytest_syncer.apiserver.store import LabelTerm, ObjectKey

_Names = dict[str, dict[str, Any]]
_Namespaces = dict[str, _Names]
_Clusters = dict[str, _Namespaces]
#: label key -> label value -> the keys of the objects carrying it
_Labels = dict[str, dict[str, set[ObjectKey]]]


def labels_of(obj: dict[str, Any] | None) -> dict[str, str]:
    if obj is None:
        return {}
    labels = (obj.get("metadata") or {}).get("labels")
    return labels if isinstance(labels, dict) else {}


def satisfies(labels: dict[str, str], terms: Iterable[LabelTerm]) -> bool:
    """Whether ``labels`` meet every term (a key with one of its values, or just the key)."""
    for key, values in terms:
        value = labels.get(key)
        if value is None or (values is not None and value not in values):
            return False
    return True


class ObjectIndex:
    """Objects by resource, cluster, namespace and name, plus label key=value -> object keys."""

    def __init__(self) -> None:
        self._objects: dict[str, _Clusters] = {}
        self._labels: dict[str, _Labels] = {}

    def names(self, key: ObjectKey, create: bool = False) -> _Names | None:
        clusters = self._objects.get(key.resource)
        if clusters is None:
            if not create:
                return None
            clusters = self._objects[key.resource] = {}
        namespaces = clusters.get(key.cluster)
        if namespaces is None:
            if not create:
                return None
            namespaces = clusters[key.cluster] = {}
        names = namespaces.get(key.namespace)
        if names is None and create:
            names = namespaces[key.namespace] = {}
        return names

    def get(self, key: ObjectKey) -> dict[str, Any] | None:
        names = self.names(key)
        return None if names is None else names.get(key.name)

    def put(self, key: ObjectKey, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Store ``obj`` under ``key``; return what it replaced."""
        names = self.names(key, create=True)
        assert names is not None
        previous = names.get(key.name)
        names[key.name] = obj
        self._relabel(key, labels_of(previous), labels_of(obj))
        return previous

    def remove(self, key: ObjectKey) -> dict[str, Any] | None:
        names = self.names(key)
        previous = None if names is None else names.pop(key.name, None)
        if previous is not None:
            self._relabel(key, labels_of(previous), {})
        return previous

    def _relabel(self, key: ObjectKey, old: dict[str, str], new: dict[str, str]) -> None:
        if old == new:
            return
        index = self._labels.setdefault(key.resource, {})
        for label, value in old.items():
            if new.get(label) == value:
                continue
            by_value = index.get(label, {})
            holders = by_value.get(value)
            if holders is not None:
                holders.discard(key)
                if not holders:
                    del by_value[value]
                    if not by_value:
                        index.pop(label, None)
        for label, value in new.items():
            if old.get(label) != value:
                index.setdefault(label, {}).setdefault(value, set()).add(key)

    def list_objects(
        self,
        resource: str,
        cluster: str | None = None,
        namespace: str | None = None,
        labels: Sequence[LabelTerm] = (),
    ) -> list[dict[str, Any]]:
        """Objects of ``resource`` meeting every label term, by (cluster, namespace, name)."""
        if labels:
            return self._list_labelled(resource, cluster, namespace, labels)
        clusters = self._objects.get(resource, {})
        cluster_names = [cluster] if cluster is not None else sorted(clusters)
        items: list[dict[str, Any]] = []
        for cluster_name in cluster_names:
            namespaces = clusters.get(cluster_name, {})
            namespace_names = [namespace] if namespace is not None else sorted(namespaces)
            for namespace_name in namespace_names:
                names = namespaces.get(namespace_name, {})
                items.extend(names[name] for name in sorted(names))
        return items

    def _list_labelled(
        self,
        resource: str,
        cluster: str | None,
        namespace: str | None,
        terms: Sequence[LabelTerm],
    ) -> list[dict[str, Any]]:
        index = self._labels.get(resource, {})
        best: list[set[ObjectKey]] | None = None
        best_size = 0
        for key, values in terms:
            by_value = index.get(key, {})
            chosen = (
                list(by_value.values())
                if values is None
                else [by_value[value] for value in values if value in by_value]
            )
            size = sum(len(holders) for holders in chosen)
            if best is None or size < best_size:
                best, best_size = chosen, size
        assert best is not None
        found = sorted(
            holder
            for holders in best
            for holder in holders
            if (cluster is None or holder.cluster == cluster)
            and (namespace is None or holder.namespace == namespace)
        )
        items = []
        for holder in found:
            obj = self.get(holder)
            if obj is not None and satisfies(labels_of(obj), terms):
                items.append(obj)
        return items

    def items(self) -> Iterator[tuple[ObjectKey, dict[str, Any]]]:
        for resource, clusters in list(self._objects.items()):
            for cluster, namespaces in list(clusters.items()):
                for namespace, names in list(namespaces.items()):
                    for name, obj in list(names.items()):
                        yield ObjectKey(resource, cluster, namespace, name), obj
