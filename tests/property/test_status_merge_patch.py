"""The status writers' merge patch: applied by the API server's RFC 7386 code, it yields `new`."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.patch import apply_merge_patch
from pytest_syncer.status.merge_patch import merge_patch_between

KEYS = st.sampled_from(["a", "b", "c", "replicas", "conditions"])
LEAVES = st.integers(-3, 3) | st.text(max_size=3) | st.booleans()
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
DOCUMENTS = st.dictionaries(KEYS, JSON, max_size=5)


@given(DOCUMENTS, DOCUMENTS)
def test_the_patch_turns_old_into_new(old, new) -> None:
    assert apply_merge_patch(old, merge_patch_between(old, new)) == new


@given(DOCUMENTS)
def test_no_change_is_an_empty_patch(document) -> None:
    assert merge_patch_between(document, document) == {}
