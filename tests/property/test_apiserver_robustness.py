"""Arbitrary input never crashes the pure modules: it is accepted or refused with a reason."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.object_api import (
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    ObjectAPI,
)
from pytest_syncer.apiserver.api.patch import PatchError, apply_json_patch, apply_merge_patch
from pytest_syncer.apiserver.api.resources import ResourcePath, ResourceRegistry
from pytest_syncer.apiserver.api.selectors import (
    SelectorError,
    label_selector_from_dict,
    parse_field_selector,
    parse_label_selector,
)
from pytest_syncer.apiserver.api.strategic_merge import apply_strategic_merge_patch
from pytest_syncer.apiserver.api.validation.field_errors import FieldError
from pytest_syncer.apiserver.api.validation.kinds import RULES, validate_object
from pytest_syncer.apiserver.store.memory import MemoryStore


def attempt(action: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """Run ``action``; return (result, None), or (None, reason) when it refuses the input."""
    try:
        return action(*args), None
    except (PatchError, SelectorError) as error:
        return None, str(error)


KEYS = st.sampled_from(
    [
        "metadata",
        "name",
        "namespace",
        "labels",
        "annotations",
        "finalizers",
        "spec",
        "template",
        "containers",
        "ports",
        "port",
        "selector",
        "matchLabels",
        "matchExpressions",
        "data",
        "binaryData",
        "stringData",
        "type",
        "replicas",
        "image",
        "env",
        "$patch",
        "$retainKeys",
        "$setElementOrder/containers",
        "generateName",
        "ownerReferences",
        "restartPolicy",
        "key",
        "operator",
        "values",
        "targetPort",
    ]
)
LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-70000, 70000), st.text(max_size=6), st.just("replace")
)
JSON = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=4)
    ),
    max_leaves=20,
)
OBJECTS = st.dictionaries(KEYS, JSON, max_size=5)


@given(st.sampled_from([*RULES, "Namespace", "Widget"]), OBJECTS, st.booleans())
def test_validation_reports_instead_of_raising(kind, obj, namespaced):
    errors = validate_object(kind, obj, namespaced=namespaced)
    assert all(isinstance(error, FieldError) and error.field for error in errors)


@given(st.text(alphabet="ab=!(),<>. in/-_0\t", max_size=20))
def test_label_selector_text_parses_or_is_refused(text):
    selector, refusal = attempt(parse_label_selector, text)
    assert refusal != ""
    if refusal is None:
        assert parse_label_selector(str(selector)) == selector


@given(JSON)
def test_selector_dicts_convert_or_are_refused(selector):
    converted, refusal = attempt(label_selector_from_dict, selector)
    assert refusal != ""
    if refusal is None:
        assert converted.matches({}) in (True, False)


@given(st.text(alphabet="metadn.am=!,\\x", max_size=25))
def test_field_selector_text_parses_or_is_refused(text):
    selector, refusal = attempt(parse_field_selector, text)
    assert refusal != ""
    if refusal is None:
        assert parse_field_selector(str(selector)) == selector


OPERATIONS = st.lists(
    st.fixed_dictionaries(
        {
            "op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "x"]),
            "path": st.sampled_from(["", "/", "/a", "/a/0", "/a/-", "/b/c", "/~1", 5]),
        },
        optional={"value": JSON, "from": st.sampled_from(["/a", "/b", "/a/0", ""])},
    ),
    max_size=4,
)


@given(OBJECTS, OPERATIONS)
def test_json_patch_applies_or_is_refused(document, operations):
    result, refusal = attempt(apply_json_patch, document, operations)
    assert refusal != ""
    if refusal is None:
        assert all(operation["op"] != "x" for operation in operations), result


@given(JSON, JSON)
def test_merge_patch_always_applies(document, patch):
    """RFC 7386, key by key: a null removes, an object merges, anything else replaces."""
    document_before, patch_before = copy.deepcopy(document), copy.deepcopy(patch)
    result = apply_merge_patch(document, patch)
    assert (document, patch) == (document_before, patch_before), "an input was mutated"
    if not isinstance(patch, dict):
        assert result == patch
        return
    assert isinstance(result, dict)
    kept = document if isinstance(document, dict) else {}
    for key, value in kept.items():
        if key not in patch:
            assert result[key] == value, key
    for key, value in patch.items():
        if value is None:
            assert key not in result, key
        elif isinstance(value, dict):
            assert isinstance(result[key], dict), key
        else:
            assert result[key] == value, key
    assert set(result) <= set(kept) | set(patch)
    assert apply_merge_patch(result, patch) == result, "a merge patch applied twice changed more"


REGISTRY = ResourceRegistry.builtin()
NAMESPACES = REGISTRY.require("", "v1", "namespaces")
DEPLOYMENTS = REGISTRY.require("apps", "v1", "deployments")
WEB = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
        },
    },
}


@given(
    st.one_of(
        st.tuples(st.just(MERGE_PATCH), JSON),
        st.tuples(st.just(STRATEGIC_MERGE_PATCH), JSON),
        st.tuples(st.just(JSON_PATCH), st.one_of(OPERATIONS, JSON)),
    )
)
def test_a_patch_is_applied_or_refused_with_a_status_and_the_object_intact(
    case: tuple[str, Any],
) -> None:
    """What the server answers any PATCH body: a 2xx with the object, or a 4xx ``Status`` with
    the stored object unchanged. Anything else raised would be a 500."""
    content_type, patch = case
    api = ObjectAPI(MemoryStore(), REGISTRY)
    api.create(ResourcePath("c", NAMESPACES, None), {"metadata": {"name": "ns"}})
    path = ResourcePath("c", DEPLOYMENTS, "ns", "web")
    api.create(ResourcePath("c", DEPLOYMENTS, "ns"), copy.deepcopy(WEB))
    stored = api.get(path)
    answered: dict[str, Any] | APIError
    try:
        answered = api.patch(path, content_type, copy.deepcopy(patch))
    except APIError as error:
        answered = error
    event("refused" if isinstance(answered, APIError) else "applied")
    if isinstance(answered, APIError):
        status = answered.to_status()
        assert 400 <= answered.code < 500, status
        assert (status["kind"], status["status"], status["code"]) == (
            "Status",
            "Failure",
            answered.code,
        )
        assert status["message"], status
        assert api.get(path) == stored, "a refused patch changed the object"
        return
    assert answered == api.get(path)
    assert answered["metadata"]["uid"] == stored["metadata"]["uid"]
    assert (answered["apiVersion"], answered["kind"]) == ("apps/v1", "Deployment")


@given(
    OBJECTS, OBJECTS, st.sampled_from([("apps/v1", "Deployment"), ("v1", "Pod"), ("v1", "Service")])
)
def test_strategic_merge_applies_or_is_refused(document: dict[str, Any], patch, kind):
    result, refusal = attempt(apply_strategic_merge_patch, document, patch, *kind)
    assert refusal != ""
    if refusal is None:
        assert isinstance(result, dict)
