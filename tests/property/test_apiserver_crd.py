"""Properties of schema pruning and validation for custom resources, and of list paging."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.crds import served_types
from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.object_api import ObjectAPI
from pytest_syncer.apiserver.api.paging import ContinueToken, decode_continue, encode_continue, page
from pytest_syncer.apiserver.api.resources import ResourcePath, ResourceRegistry
from pytest_syncer.apiserver.api.structural_schema import ROOT_FIELDS, prune, validate
from pytest_syncer.apiserver.store.memory import MemoryStore

KEYS = st.sampled_from(["spec", "status", "size", "name", "tags", "x", "apiVersion", "metadata"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=12,
)
LEAF_SCHEMAS = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer", "minimum": 0},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "string", "enum": ["a", "b"]},
        {"type": "string", "nullable": True},
        {"x-kubernetes-int-or-string": True},
        {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    ]
)
SCHEMAS = st.recursive(
    LEAF_SCHEMAS,
    lambda children: (
        st.builds(
            lambda properties, required: {
                "type": "object",
                "properties": properties,
                "required": sorted(required & set(properties)),
            },
            st.dictionaries(KEYS, children, max_size=4),
            st.sets(KEYS, max_size=2),
        )
        | st.builds(lambda items: {"type": "array", "items": items}, children)
        | st.builds(
            lambda values: {"type": "object", "additionalProperties": values},
            children,
        )
    ),
    max_leaves=8,
)


def _declared_only(value: Any, schema: dict[str, Any], root: bool = False) -> bool:
    """Whether every field of ``value`` is one ``schema`` declares (or keeps unknown)."""
    if isinstance(value, dict):
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return True
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if root and key in ROOT_FIELDS:
                continue
            declared = properties.get(key, additional if isinstance(additional, dict) else None)
            if declared is None or not _declared_only(item, declared):
                return False
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return all(_declared_only(item, schema["items"]) for item in value)
    return True


@given(JSON, SCHEMAS)
def test_pruning_is_idempotent_and_leaves_only_declared_fields(
    value: Any, schema: dict[str, Any]
) -> None:
    pruned = prune(value, schema, root=True)
    assert prune(pruned, schema, root=True) == pruned
    assert _declared_only(pruned, schema, root=True)


@given(st.dictionaries(KEYS, JSON, max_size=5))
def test_preserve_unknown_fields_keeps_everything(value: dict[str, Any]) -> None:
    schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    assert prune(value, schema, root=True) == value


@given(JSON, SCHEMAS)
def test_validation_never_raises_and_names_real_fields(value: Any, schema: dict[str, Any]) -> None:
    for problem in validate(prune(value, schema), schema):
        assert problem.field
        assert problem.message


@given(
    st.integers(min_value=1, max_value=2**40),
    st.tuples(st.text(max_size=8), st.text(max_size=8), st.text(max_size=8)),
)
def test_continue_tokens_round_trip(revision: int, start: tuple[str, str, str]) -> None:
    token = ContinueToken(revision, start)
    assert decode_continue(encode_continue(token)) == token


@given(
    st.sets(st.tuples(st.sampled_from("ab"), st.sampled_from("xyz"), st.text(max_size=3))),
    st.integers(min_value=1, max_value=5),
)
def test_following_continue_tokens_visits_each_item_once_in_order(
    keys: set[tuple[str, str, str]], limit: int
) -> None:
    ordered = sorted((key, {"name": key[2]}) for key in keys)
    seen: list[tuple[str, str, str]] = []
    after = None
    while True:
        shown = page(ordered, revision=7, after=after, limit=limit, count_remaining=True)
        assert len(shown.items) <= limit
        seen += [key for key, obj in ordered if any(obj is item for item in shown.items)]
        if shown.continue_token is None:
            break
        token = decode_continue(shown.continue_token)
        assert token.revision == 7
        assert shown.remaining == len(ordered) - len(seen)
        after = token.start
    assert seen == [key for key, _ in ordered]


CRD_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "group": st.sampled_from(["example.com", "apps", "", 3]) | JSON,
        "scope": st.sampled_from(["Namespaced", "Cluster", "Elsewhere"]) | JSON,
        "names": st.fixed_dictionaries(
            {},
            optional={
                "plural": st.sampled_from(["widgets", "Widgets", ""]) | JSON,
                "kind": st.sampled_from(["Widget", ""]) | JSON,
                "shortNames": JSON,
                "categories": JSON,
            },
        )
        | JSON,
        "versions": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "name": st.sampled_from(["v1", "v2", ""]) | JSON,
                    "served": st.booleans() | JSON,
                    "storage": st.booleans() | JSON,
                    "schema": st.fixed_dictionaries({"openAPIV3Schema": SCHEMAS | JSON}) | JSON,
                    "subresources": JSON,
                    "additionalPrinterColumns": JSON,
                },
            )
            | JSON,
            max_size=3,
        )
        | JSON,
    },
)


@given(CRD_FIELDS, st.sampled_from(["widgets.example.com", "x"]))
def test_any_crd_body_is_created_or_refused_with_a_status(spec: Any, name: str) -> None:
    api = ObjectAPI(MemoryStore(), ResourceRegistry.builtin())
    crds = api.registry.require("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    body = {"metadata": {"name": name}, "spec": spec}
    outcome: dict[str, Any] | APIError
    try:
        outcome = api.create(ResourcePath("c", crds, None), body)
    except APIError as error:
        outcome = error
    if isinstance(outcome, APIError):
        assert 400 <= outcome.code < 500
    else:
        assert outcome["status"]["conditions"]
        assert api.registry.view("c") == "c" or not served_types(outcome)


SCHEMA_KEYS = st.sampled_from(
    [
        "type",
        "properties",
        "additionalProperties",
        "items",
        "required",
        "enum",
        "pattern",
        "minimum",
        "maxLength",
        "maxItems",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "default",
        "nullable",
        "x-kubernetes-preserve-unknown-fields",
    ]
)
MALFORMED_SCHEMAS = st.recursive(
    st.dictionaries(SCHEMA_KEYS, JSON, max_size=4),
    lambda children: (
        st.dictionaries(SCHEMA_KEYS, children | st.lists(children) | JSON, max_size=4)
        | st.builds(
            lambda props: {"properties": props}, st.dictionaries(KEYS, children, max_size=3)
        )
    ),
    max_leaves=6,
)


@given(JSON, MALFORMED_SCHEMAS)
def test_a_malformed_schema_never_makes_the_server_raise(
    value: Any, schema: dict[str, Any]
) -> None:
    pruned = prune(value, schema, root=True)
    for problem in validate(pruned, schema):
        assert problem.message
