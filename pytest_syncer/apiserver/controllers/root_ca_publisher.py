"""The root CA publisher: every namespace's ``kube-root-ca.crt`` holds the server's CA, always.

As kube-controller-manager's ``pkg/controller/certificates/rootcacertpublisher/publisher.go``
does: a namespace added or updated, or its ``kube-root-ca.crt`` ConfigMap updated or deleted,
queues the namespace; its sync creates the ConfigMap when missing (not in a namespace that is
going away), and when ``data`` is not exactly ``{"ca.crt": <CA>}`` or the
``kubernetes.io/description`` annotation is empty, writes them back, keeping the rest of the
object (labels, other annotations) as the user left it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from pytest_syncer.apiserver.api.deletion import NAMESPACE_KEY
from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.kinds.namespaces import (
    DESCRIPTION,
    DESCRIPTION_ANNOTATION,
    ROOT_CA_CONFIG_MAP,
    root_ca_config_map,
)
from pytest_syncer.apiserver.api.resources import ResourcePath
from pytest_syncer.apiserver.api.write_options import DEFAULT_WRITE
from pytest_syncer.apiserver.controllers.base import StoreController
from pytest_syncer.apiserver.store import ObjectKey, WatchEvent

logger = logging.getLogger(__name__)
CONFIG_MAP_KEY = "core/configmaps"
WRITES = replace(DEFAULT_WRITE, field_manager="kube-controller-manager")
"""The publisher runs in kube-controller-manager; its writes are recorded under that name."""


class RootCAPublisher(StoreController[tuple[str, str]]):
    """Keeps ``kube-root-ca.crt`` in each (cluster, namespace); :meth:`observe` is a store
    listener."""

    name = "root-ca-publisher"

    def observe(self, event: WatchEvent) -> None:
        key = event.key
        if key.resource == NAMESPACE_KEY:
            if event.type != "DELETED":
                self.enqueue((key.cluster, key.name))
        elif (
            key.resource == CONFIG_MAP_KEY
            and key.name == ROOT_CA_CONFIG_MAP
            and event.type in ("MODIFIED", "DELETED")
        ):
            self.enqueue((key.cluster, key.namespace))

    def rebuild(self) -> None:
        """Look at every namespace a data dir kept once (the publisher's initial list)."""
        for cluster, namespace in self.stored(NAMESPACE_KEY):
            self.enqueue((cluster, namespace["metadata"]["name"]))

    async def process(self, key: tuple[str, str]) -> float | None:
        ca_pem = self.api.root_ca_pem
        cluster, namespace = key
        if ca_pem is None:
            return None
        namespace_obj = self.api.store.get(ObjectKey(NAMESPACE_KEY, cluster, "", namespace))
        if namespace_obj is None or namespace_obj["metadata"].get("deletionTimestamp"):
            return None
        config_maps = self.api.registry.require("", "v1", "configmaps")
        wanted = root_ca_config_map(ca_pem)
        found = self.api.store.get(
            ObjectKey(config_maps.key, cluster, namespace, ROOT_CA_CONFIG_MAP)
        )
        try:
            if found is None:
                path = ResourcePath(cluster, config_maps, namespace)
                self.api.create(path, {"apiVersion": "v1", "kind": "ConfigMap", **wanted}, WRITES)
            elif not _published(found, wanted["data"]):
                path = ResourcePath(cluster, config_maps, namespace, ROOT_CA_CONFIG_MAP)
                self.api.update(path, _republished(found, wanted["data"]), WRITES)
        except APIError as error:
            if error.code == 409:
                return 0.05  # written meanwhile: look again
            logger.warning("%s: %s/%s: %s", self.name, cluster, namespace, error)
        return None


def _published(config_map: dict[str, Any], data: dict[str, str]) -> bool:
    annotations = config_map["metadata"].get("annotations") or {}
    return config_map.get("data") == data and bool(annotations.get(DESCRIPTION_ANNOTATION))


def _republished(config_map: dict[str, Any], data: dict[str, str]) -> dict[str, Any]:
    metadata = dict(config_map["metadata"])
    metadata["annotations"] = {
        **(metadata.get("annotations") or {}),
        DESCRIPTION_ANNOTATION: DESCRIPTION,
    }
    return {**config_map, "metadata": metadata, "data": data}
