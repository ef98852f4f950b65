"""Which upstream updates reconcile: the ones that can change what a reconcile does.

The skipped ones are those kcp's spec controller skips (`deepEqualApartFromStatus` in
`pkg/syncer/spec/spec_process.go`: status, the `experimental.status.workload.kcp.io/`
annotations, resourceVersion and managed fields), and finalizers only added: the shared
finalizer's own write, whose echo reconciled every target of a placement a second time.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from pytest_syncer.syncer.engine.spec import changes_what_syncs

KEY = "2mJ2zQ7eE0dHfV5"


def _workload() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "cm",
            "namespace": "ns",
            "uid": "u1",
            "resourceVersion": "10",
            "generation": 1,
            "labels": {f"state.workload.kcp.io/{KEY}": "Sync"},
            "annotations": {"team": "a"},
            "finalizers": ["example.com/other"],
            "managedFields": [{"manager": "kubectl", "operation": "Apply"}],
        },
        "data": {"key": "value"},
        "status": {"phase": "x"},
    }


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(obj: dict[str, Any]) -> None:
        node = obj
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value

    return change


def _drop(path: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    def change(obj: dict[str, Any]) -> None:
        node = obj
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return change


SKIPPED = {
    "status": _set(("status",), {"phase": "y"}),
    "resourceVersion": _set(("metadata", "resourceVersion"), "11"),
    "managedFields": _set(("metadata", "managedFields"), []),
    "status annotation": _set(
        ("metadata", "annotations"),
        {"team": "a", f"experimental.status.workload.kcp.io/{KEY}": "{}"},
    ),
    "the shared finalizer added": _set(
        ("metadata", "finalizers"), ["example.com/other", "workload.kcp.io/syncer"]
    ),
}
RECONCILED = {
    "data": _set(("data",), {"key": "other"}),
    "a label": _set(("metadata", "labels"), {}),
    "an annotation": _set(("metadata", "annotations"), {"team": "b"}),
    "annotations dropped": _drop(("metadata", "annotations")),
    "a finalizer removed": _set(("metadata", "finalizers"), []),
    "deletion": _set(("metadata", "deletionTimestamp"), "2026-12-06T12:00:00Z"),
    "generation": _set(("metadata", "generation"), 2),
    "owner references": _set(("metadata", "ownerReferences"), [{"uid": "o"}]),
    "a new top-level field": _set(("binaryData",), {"b": "AA=="}),
}


@pytest.mark.parametrize("change", SKIPPED.values(), ids=SKIPPED.keys())
def test_an_update_that_cannot_change_the_copy_is_skipped(
    change: Callable[[dict[str, Any]], None],
) -> None:
    old = _workload()
    new = copy.deepcopy(old)
    change(new)
    assert new != old
    assert not changes_what_syncs(old, new)


@pytest.mark.parametrize("change", RECONCILED.values(), ids=RECONCILED.keys())
def test_an_update_that_can_change_the_copy_reconciles(
    change: Callable[[dict[str, Any]], None],
) -> None:
    old = _workload()
    new = copy.deepcopy(old)
    change(new)
    assert changes_what_syncs(old, new)
