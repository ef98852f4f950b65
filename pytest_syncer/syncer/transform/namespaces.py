"""The downstream Namespace objects themselves, and reading their locators back.

The locator annotation is how the upstream direction finds its way home: the namespace name is a
one-way hash, so the annotation is the only record of which upstream namespace it stands for.
"""

from __future__ import annotations

from pytest_syncer.contract.errors import InvalidLocatorError
from pytest_syncer.contract.naming import CLUSTER_LABEL, LOCATOR_ANNOTATION
from pytest_syncer.contract.objects import KubeObject, NamespaceLocator


def downstream_namespace_object(locator: NamespaceLocator) -> KubeObject:
    """The Namespace a syncer creates below for one upstream namespace."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": locator.downstream_namespace,
            "labels": {CLUSTER_LABEL: locator.sync_target.key},
            "annotations": {LOCATOR_ANNOTATION: locator.to_json()},
        },
    }


def locator_of(namespace: KubeObject) -> NamespaceLocator:
    """The locator a downstream Namespace was created for; `InvalidLocatorError` if it has none."""
    metadata = namespace.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    text = annotations.get(LOCATOR_ANNOTATION) if isinstance(annotations, dict) else None
    if not isinstance(text, str):
        raise InvalidLocatorError(
            f"metadata.annotations[{LOCATOR_ANNOTATION}]", "missing: not a syncer namespace"
        )
    return NamespaceLocator.from_json(text)
