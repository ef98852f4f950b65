"""Label-indexed lists return exactly what a naive filter of every object returns.

Both stores (SQLite reopened halfway, its index rebuilt from the database), after drawn
creates, relabels and deletes across clusters and namespaces, for drawn selectors: the index
only narrows, it never drops an object the selector keeps or keeps one it drops.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.selectors import parse_label_selector
from pytest_syncer.apiserver.store import ObjectKey, Store
from pytest_syncer.apiserver.store.memory import MemoryStore
from pytest_syncer.apiserver.store.sqlite import SQLiteStore
from tests.property.test_apiserver_selectors import label_sets, render, term_specs

PODS = "core/pods"
keys = st.builds(
    ObjectKey,
    st.just(PODS),
    st.sampled_from(["c1", "c2"]),
    st.sampled_from(["a", "b"]),
    st.sampled_from(["p", "q", "r", "s", "t"]),
)
writes = st.lists(st.tuples(keys, st.one_of(st.none(), label_sets)), max_size=25)
scopes = st.tuples(st.sampled_from([None, "c1", "c2"]), st.sampled_from([None, "a", "b"]))


def _apply(store: Store, key: ObjectKey, labels: dict[str, str] | None) -> None:
    """``None`` deletes; labels create or replace (an unlabelled object has no labels field)."""
    exists = store.get(key) is not None
    if labels is None:
        if exists:
            store.delete(key)
        return
    obj: dict[str, Any] = {"metadata": {"name": key.name, "namespace": key.namespace}}
    if labels:
        obj["metadata"]["labels"] = dict(labels)
    (store.update if exists else store.create)(key, obj)


def _names(objects: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(o["metadata"]["name"], o["metadata"].get("namespace")) for o in objects]


@settings(max_examples=60, deadline=None)
@given(writes, st.lists(term_specs, min_size=1, max_size=3), scopes)
def test_indexed_lists_equal_the_naive_filter(history, specs, scope):
    selector = parse_label_selector(",".join(render(spec, "") for spec in specs))
    cluster, namespace = scope
    with tempfile.TemporaryDirectory() as directory:
        sqlite = SQLiteStore(Path(directory) / "db")
        memory = MemoryStore()
        half = len(history) // 2
        for key, labels in history[:half]:
            _apply(sqlite, key, labels)
            _apply(memory, key, labels)
        # A database reopened: its index is rebuilt from what it holds, then kept by its writes.
        sqlite.close()
        reopened = SQLiteStore(Path(directory) / "db")
        for key, labels in history[half:]:
            _apply(reopened, key, labels)
            _apply(memory, key, labels)
        naive = [
            obj
            for obj in memory.list_objects(PODS, cluster, namespace)
            if selector.matches(obj["metadata"].get("labels"))
        ]
        terms = selector.index_terms()
        for source in (memory, reopened):
            narrowed = source.list_objects(PODS, cluster, namespace, terms)
            selected = [o for o in narrowed if selector.matches(o["metadata"].get("labels"))]
            assert _names(selected) == _names(naive)
            # Narrowing keeps only objects carrying every term; the rest is the full match.
            assert all(
                all(
                    key in (o["metadata"].get("labels") or {})
                    and (values is None or o["metadata"]["labels"][key] in values)
                    for key, values in terms
                )
                for o in narrowed
            )
        reopened.close()
