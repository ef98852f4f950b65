"""The deletion rules the API and the controllers share: policies, verdicts, reference surgery."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.deletion import (
    FOREGROUND_FINALIZER,
    ORPHAN_FINALIZER,
    Policy,
    blocks_owner,
    deletion_policy,
    finalizer_for,
    holds_back_release,
    judge,
    split_api_version,
    terminating,
    without_owners,
    without_spec_finalizer,
)
from pytest_syncer.apiserver.api.errors import APIError

UIDS = st.sampled_from(["a", "b", "c", "d", "e"])


def _owned(*uids: str, **extra: Any) -> dict[str, Any]:
    references = [{"kind": "ConfigMap", "name": f"o-{uid}", "uid": uid, **extra} for uid in uids]
    return {"metadata": {"name": "x", "ownerReferences": references}}


@pytest.mark.parametrize(
    ("options", "query", "expected"),
    [
        (None, {}, Policy.BACKGROUND),
        ({"propagationPolicy": "Foreground"}, {}, Policy.FOREGROUND),
        ({"propagationPolicy": "Orphan"}, {}, Policy.ORPHAN),
        ({"orphanDependents": True}, {}, Policy.ORPHAN),
        ({"orphanDependents": False}, {}, Policy.BACKGROUND),
        (None, {"propagationPolicy": "Foreground"}, Policy.FOREGROUND),
        (None, {"orphanDependents": "true"}, Policy.ORPHAN),
        ({"propagationPolicy": "Background"}, {"propagationPolicy": "Orphan"}, Policy.BACKGROUND),
    ],
)
def test_deletion_policy(
    options: dict[str, Any] | None, query: dict[str, str], expected: Policy
) -> None:
    assert deletion_policy(options, query) is expected


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"propagationPolicy": "Later"}, 422),
        ({"propagationPolicy": "Orphan", "orphanDependents": False}, 422),
        ({"orphanDependents": "maybe"}, 400),
    ],
)
def test_bad_deletion_options(options: dict[str, Any], code: int) -> None:
    with pytest.raises(APIError) as raised:
        deletion_policy(options, {})
    assert raised.value.code == code


@given(st.text(max_size=12) | st.sampled_from(["Foreground", "Background", "Orphan"]))
def test_only_the_three_policies_are_accepted(text: str) -> None:
    if text in ("Foreground", "Background", "Orphan", ""):
        assert deletion_policy({"propagationPolicy": text}, {}).value == (text or "Background")
        return
    with pytest.raises(APIError) as refused:
        deletion_policy({"propagationPolicy": text}, {})
    assert refused.value.code == 422


def test_finalizers_per_policy() -> None:
    assert finalizer_for(Policy.ORPHAN) == ORPHAN_FINALIZER
    assert finalizer_for(Policy.FOREGROUND) == FOREGROUND_FINALIZER
    assert finalizer_for(Policy.BACKGROUND) is None


def test_judge_examples() -> None:
    assert judge(_owned("a"), ["a"]).delete
    assert judge(_owned("a", "b"), ["a"]).drop_uids == {"a"}
    assert judge(_owned("a"), ["z"]).keep
    assert judge({"metadata": {"name": "x"}}, ["a"]).keep


@given(st.sets(UIDS, min_size=0, max_size=5), st.sets(UIDS, max_size=5))
def test_judge_deletes_only_when_every_owner_is_missing(
    owners: set[str], missing: set[str]
) -> None:
    verdict = judge(_owned(*sorted(owners)), missing)
    assert verdict.delete == (bool(owners) and owners <= missing)
    if not verdict.delete:
        assert verdict.drop_uids == frozenset(owners & missing)


@given(st.lists(UIDS, max_size=6), st.sets(UIDS, max_size=5))
def test_without_owners_drops_exactly_those(owners: list[str], dropped: set[str]) -> None:
    obj = _owned(*owners)
    stripped = without_owners(obj, dropped)
    left = [ref["uid"] for ref in stripped["metadata"].get("ownerReferences", [])]
    assert left == [uid for uid in owners if uid not in dropped]
    assert "ownerReferences" in stripped["metadata"] or not left
    assert [ref["uid"] for ref in obj["metadata"]["ownerReferences"]] == owners, "not mutated"


def test_blocks_owner_needs_block_owner_deletion() -> None:
    assert blocks_owner(_owned("a", blockOwnerDeletion=True), "a")
    assert not blocks_owner(_owned("a"), "a")
    assert not blocks_owner(_owned("a", blockOwnerDeletion=True), "b")


def test_split_api_version() -> None:
    assert split_api_version("apps/v1") == ("apps", "v1")
    assert split_api_version("v1") == ("", "v1")


def test_namespace_deletion_steps() -> None:
    namespace: dict[str, Any] = {
        "metadata": {"name": "ns"},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }
    marked = terminating(namespace)
    assert marked["status"]["phase"] == "Terminating"
    assert marked["metadata"]["deletionTimestamp"]
    assert namespace["status"]["phase"] == "Active", "not mutated"
    assert holds_back_release(marked)
    emptied = without_spec_finalizer(marked)
    assert not holds_back_release(emptied)
    assert "finalizers" not in emptied["spec"]
    other = without_spec_finalizer({"spec": {"finalizers": ["kubernetes", "example.com/x"]}})
    assert other["spec"]["finalizers"] == ["example.com/x"]
