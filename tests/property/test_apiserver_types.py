"""The API server's decode-time type check: silent on valid objects, names each wrong value."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from pytest_syncer import strategies as k8s
from pytest_syncer.apiserver.api.field_validation import type_mismatches
from pytest_syncer.apiserver.api.strategic_merge import schema_for
from tests.property.conftest import large_objects

BUILT_IN = st.one_of(
    k8s.configmaps(),
    k8s.secrets(),
    k8s.services(),
    k8s.deployments(),
    k8s.statefulsets(),
    k8s.jobs(),
    k8s.ingresses(),
)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaves(child, (*path, index))
    else:
        yield path, value


def _dotted(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@large_objects
@given(BUILT_IN)
def test_objects_valid_for_kubernetes_have_no_mismatch(obj: dict[str, Any]) -> None:
    """The strategies draw what kubernetes-validate accepts: the check must accept it too."""
    assert type_mismatches(obj, schema_for(obj["apiVersion"], obj["kind"])) == []


@large_objects
@given(BUILT_IN, st.data())
def test_a_string_turned_into_a_list_is_named_by_its_path(
    obj: dict[str, Any], data: st.DataObject
) -> None:
    strings = [
        path
        for path, value in _leaves(obj)
        if isinstance(value, str) and path[0] not in ("apiVersion", "kind")
    ]
    assume(strings)
    path = data.draw(st.sampled_from(strings))
    corrupted = copy.deepcopy(obj)
    parent = corrupted
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = [parent[path[-1]]]
    found = type_mismatches(corrupted, schema_for(obj["apiVersion"], obj["kind"]))
    (message,) = found
    field, _, expected = message.partition(": expected ")
    assert field == _dotted(path)
    assert expected.endswith(", got array")
    assert "string" in expected.removesuffix(", got array").split(" or ")
