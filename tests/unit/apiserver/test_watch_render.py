"""What a watcher with a selector sees: objects entering and leaving it, as Kubernetes reports."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.object_api import Selection
from pytest_syncer.apiserver.api.selectors import parse_label_selector
from pytest_syncer.apiserver.api.watch import Watcher, bookmark_line, render
from pytest_syncer.apiserver.store import EventType, ObjectKey, WatchEvent

KEY = ObjectKey("core/configmaps", "c", "ns", "x")
SELECTED = Selection(labels=parse_label_selector("app=web"))


def _obj(app: str | None) -> dict[str, Any]:
    labels = {"app": app} if app else {}
    return {"kind": "ConfigMap", "metadata": {"name": "x", "labels": labels}}


def _event(kind: EventType, now: str | None, before: str | None) -> WatchEvent:
    previous = None if kind == "ADDED" else _obj(before)
    return WatchEvent(kind, 7, KEY, _obj(now), previous)


@pytest.mark.parametrize(
    ("kind", "now", "before", "expected"),
    [
        ("ADDED", "web", None, "ADDED"),
        ("ADDED", "db", None, None),
        ("MODIFIED", "web", "web", "MODIFIED"),
        ("MODIFIED", "web", "db", "ADDED"),
        ("MODIFIED", "db", "web", "DELETED"),
        ("MODIFIED", "db", "db", None),
        ("DELETED", "web", "web", "DELETED"),
        ("DELETED", "db", "db", None),
    ],
)
def test_selector_transitions(
    kind: EventType, now: str, before: str | None, expected: str | None
) -> None:
    line = render(_event(kind, now, before), SELECTED)
    if expected is None:
        assert line is None
    else:
        assert line is not None
        decoded = json.loads(line)
        assert decoded["type"] == expected
        assert decoded["object"]["metadata"]["labels"] == {"app": now}


def test_unselected_watchers_share_the_encoded_line() -> None:
    event = _event("MODIFIED", "web", "web")
    assert render(event, Selection()) is render(event, Selection())


def test_watcher_filters_by_cluster_and_namespace_and_drains_in_order() -> None:
    watcher = Watcher("core/configmaps", "c", "ns", Selection())
    watcher.offer(WatchEvent("ADDED", 1, KEY, _obj("a"), None))
    watcher.offer(WatchEvent("ADDED", 2, KEY._replace(cluster="other"), _obj("b"), None))
    watcher.offer(WatchEvent("ADDED", 3, KEY._replace(namespace="other"), _obj("c"), None))
    watcher.offer(WatchEvent("DELETED", 4, KEY, _obj("a"), _obj("a")))
    lines = watcher.drain().splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["ADDED", "DELETED"]
    assert watcher.drain() == b""


def test_bookmark_carries_only_the_resource_version() -> None:
    bookmark = json.loads(bookmark_line("v1", "ConfigMap", 42))
    assert bookmark == {
        "type": "BOOKMARK",
        "object": {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": "42"}},
    }


json_objects = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=5), children, max_size=3)
        ),
        max_leaves=10,
    ),
    max_size=5,
)


@given(json_objects, st.sampled_from(["ADDED", "MODIFIED", "DELETED"]))
def test_event_lines_decode_to_the_event(obj: dict[str, Any], kind: EventType) -> None:
    line = WatchEvent(kind, 1, KEY, obj, None).line
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert json.loads(line) == {"type": kind, "object": obj}
