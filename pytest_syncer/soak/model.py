"""The churn's model of what it asked each upstream object to be: the audit compares the
upstream and every target with this, never with the syncer's own logic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_syncer.harness.kube import Kind, KubeObject


@dataclass
class Model:
    """What the churn asked one upstream object to be: its managed content, user labels and
    the targets it is placed on."""

    kind: Kind
    namespace: str
    name: str
    content: KubeObject
    labels: dict[str, str]
    placed: set[str]
    exists: bool = True
    deleted: bool = False
    uncertain: bool = False
    """A write's answer was lost: the upstream decides what the object is."""
    busy: bool = False
    """A conflict storm is writing it; the churn leaves it alone."""

    @property
    def ref(self) -> str:
        return f"{self.kind.kind} {self.namespace}/{self.name}"


def project(shape: Any, actual: Any) -> Any:
    """`actual` cut down to the keys `shape` has (mappings recursively; the rest whole)."""
    if isinstance(shape, dict):
        if not isinstance(actual, dict):
            return actual
        return {key: project(value, actual[key]) for key, value in shape.items() if key in actual}
    return actual
