"""Patches: merge patches from a diff reproduce the target; JSON patch operations undo cleanly."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.patch import (
    apply_json_patch,
    apply_merge_patch,
    escape_pointer_token,
)

keys = st.text(alphabet="ab/~01-", min_size=1, max_size=4)
scalars = st.one_of(st.booleans(), st.integers(-5, 5), st.text(max_size=3))
# Merge patches cannot express a null inside an object, so the documents hold none.
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=3)
    ),
    max_leaves=12,
)
documents = st.dictionaries(keys, json_values, max_size=5)


def merge_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The merge patch that turns ``before`` into ``after``."""
    patch: dict[str, Any] = {key: None for key in before if key not in after}
    for key, value in after.items():
        old = before.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            nested = merge_diff(old, value)
            if nested:
                patch[key] = nested
        elif key not in before or old != value or type(old) is not type(value):
            patch[key] = value
    return patch


@given(documents, documents)
def test_merge_patch_of_a_diff_gives_the_target(before, after):
    patch = merge_diff(before, after)
    before_copy, patch_copy = copy.deepcopy(before), copy.deepcopy(patch)
    assert apply_merge_patch(before, patch) == after
    assert before == before_copy
    assert patch == patch_copy


@given(documents, documents)
def test_merge_patch_is_idempotent(document, patch):
    once = apply_merge_patch(document, patch)
    assert apply_merge_patch(once, patch) == once


def pointers(document: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every (pointer, value) inside ``document``."""
    found: list[tuple[str, Any]] = []
    if isinstance(document, dict):
        for key, value in document.items():
            pointer = f"{prefix}/{escape_pointer_token(key)}"
            found += [(pointer, value), *pointers(value, pointer)]
    elif isinstance(document, list):
        for index, value in enumerate(document):
            pointer = f"{prefix}/{index}"
            found += [(pointer, value), *pointers(value, pointer)]
    return found


@given(documents, json_values, st.data())
def test_replace_then_replace_back_restores(document, value, data):
    targets = pointers(document)
    if not targets:
        return
    path, old = data.draw(st.sampled_from(targets))
    before = copy.deepcopy(document)
    changed = apply_json_patch(document, [{"op": "replace", "path": path, "value": value}])
    assert apply_json_patch(changed, [{"op": "test", "path": path, "value": value}]) == changed
    restored = apply_json_patch(changed, [{"op": "replace", "path": path, "value": old}])
    assert restored == before
    assert document == before


@given(documents, st.data())
def test_remove_then_add_back_restores(document, data):
    targets = pointers(document)
    if not targets:
        return
    path, old = data.draw(st.sampled_from(targets))
    before = copy.deepcopy(document)
    removed = apply_json_patch(document, [{"op": "remove", "path": path}])
    assert apply_json_patch(removed, [{"op": "add", "path": path, "value": old}]) == before
    assert document == before


@given(documents, keys, json_values)
def test_add_then_remove_restores_when_the_key_was_absent(document, key, value):
    if key in document:
        return
    path = "/" + escape_pointer_token(key)
    added = apply_json_patch(document, [{"op": "add", "path": path, "value": value}])
    assert added[key] == value
    assert apply_json_patch(added, [{"op": "remove", "path": path}]) == document


@given(st.lists(json_values, max_size=5), json_values)
def test_append_with_dash_adds_at_the_end(items, value):
    result = apply_json_patch({"l": items}, [{"op": "add", "path": "/l/-", "value": value}])
    assert result["l"] == [*items, value]
