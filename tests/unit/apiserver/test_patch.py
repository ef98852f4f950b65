"""JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386), including the RFCs' own examples."""

from __future__ import annotations

import copy

import pytest

from pytest_syncer.apiserver.api.object_api import MERGE_PATCH, ObjectAPI
from pytest_syncer.apiserver.api.patch import (
    PatchError,
    apply_json_patch,
    apply_merge_patch,
    get_pointer,
    parse_pointer,
)
from pytest_syncer.apiserver.api.resources import ResourcePath, ResourceRegistry
from pytest_syncer.apiserver.store.memory import MemoryStore

DOC = {"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "m~n": 8, "obj": {"x": {"y": 1}}}


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("", DOC),
        ("/foo", ["bar", "baz"]),
        ("/foo/0", "bar"),
        ("/", 0),
        ("/a~1b", 1),
        ("/c%d", 2),
        ("/m~0n", 8),
        ("/obj/x/y", 1),
    ],
)
def test_pointers_follow_rfc_6901(pointer, expected):
    assert get_pointer(DOC, pointer) == expected


def test_pointer_escapes_decode_in_order():
    assert parse_pointer("/~01") == ["~1"]
    with pytest.raises(PatchError, match="'~' must be followed by 0 or 1"):
        parse_pointer("/a~2")
    with pytest.raises(PatchError, match="must be empty or start with '/'"):
        parse_pointer("a")


@pytest.mark.parametrize(
    ("document", "operations", "expected"),
    [
        (
            {"foo": "bar"},
            [{"op": "add", "path": "/baz", "value": "qux"}],
            {"foo": "bar", "baz": "qux"},
        ),
        (
            {"foo": ["bar", "baz"]},
            [{"op": "add", "path": "/foo/1", "value": "qux"}],
            {"foo": ["bar", "qux", "baz"]},
        ),
        ({"foo": [1]}, [{"op": "add", "path": "/foo/-", "value": 2}], {"foo": [1, 2]}),
        ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
        (
            {"foo": ["bar", "qux", "baz"]},
            [{"op": "remove", "path": "/foo/1"}],
            {"foo": ["bar", "baz"]},
        ),
        (
            {"baz": "qux", "foo": "bar"},
            [{"op": "replace", "path": "/baz", "value": "boo"}],
            {"baz": "boo", "foo": "bar"},
        ),
        (
            {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
            [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
            {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
        ),
        (
            {"foo": ["all", "grass", "cows", "eat"]},
            [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
            {"foo": ["all", "cows", "eat", "grass"]},
        ),
        (
            {"a": {"b": 1}},
            [{"op": "copy", "from": "/a", "path": "/c"}],
            {"a": {"b": 1}, "c": {"b": 1}},
        ),
        (
            {"baz": "qux", "foo": ["a", 2, "c"]},
            [
                {"op": "test", "path": "/baz", "value": "qux"},
                {"op": "test", "path": "/foo/1", "value": 2.0},
            ],
            {"baz": "qux", "foo": ["a", 2, "c"]},
        ),
        (
            {"foo": "bar"},
            [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
            {"foo": "bar", "child": {"grandchild": {}}},
        ),
        (
            {"/": 1, "~": 2},
            [{"op": "replace", "path": "/~1", "value": 3}, {"op": "remove", "path": "/~0"}],
            {"/": 3},
        ),
        ({"a": 1}, [{"op": "replace", "path": "", "value": [1]}], [1]),
        (
            {"metadata": {"labels": {"app": "x"}}},
            [{"op": "add", "path": "/metadata/labels/example.com~1team", "value": "a"}],
            {"metadata": {"labels": {"app": "x", "example.com/team": "a"}}},
        ),
    ],
)
def test_json_patch_examples(document, operations, expected):
    before = copy.deepcopy(document)
    assert apply_json_patch(document, operations) == expected
    assert document == before


@pytest.mark.parametrize(
    ("operations", "message"),
    [
        ([{"op": "test", "path": "/baz", "value": "bar"}], "test failed at path '/baz'"),
        ([{"op": "test", "path": "/n", "value": True}], "test failed at path '/n'"),
        ([{"op": "add", "path": "/no/bat", "value": "qux"}], "path '/no/bat' does not exist"),
        ([{"op": "remove", "path": "/nope"}], "cannot remove '/nope'"),
        ([{"op": "replace", "path": "/nope", "value": 1}], "cannot replace '/nope'"),
        (
            [{"op": "add", "path": "/list/5", "value": 1}],
            "array index 5 out of range in path '/list/5'",
        ),
        ([{"op": "remove", "path": "/list/-"}], "invalid array index '-' in path '/list/-'"),
        ([{"op": "replace", "path": "/list/01", "value": 1}], "invalid array index '01'"),
        (
            [{"op": "move", "from": "/obj", "path": "/obj/child"}],
            "cannot move '/obj' into its own child",
        ),
        ([{"op": "copy", "from": "/missing", "path": "/x"}], "path '/missing' does not exist"),
        ([{"op": "add", "path": "/x"}], "operation 0 (add) is missing 'value'"),
        ([{"op": "frobnicate", "path": "/x"}], "unknown op 'frobnicate'"),
        ([{"path": "/x"}], "unknown op None"),
        (["x"], "operation 0 is not an object"),
        ({"op": "add"}, "must be an array"),
        ([{"op": "remove", "path": ""}], "cannot remove the whole document"),
        ([{"op": "add", "path": "/n/x", "value": 1}], "cannot add at '/n/x': its parent is not"),
        ([{"op": "add", "path": "/n/x/y", "value": 1}], "cannot step into a scalar at 'x'"),
    ],
)
def test_json_patch_errors_name_the_path(operations, message):
    document = {"baz": "qux", "n": 1, "list": [1, 2], "obj": {}}
    before = copy.deepcopy(document)
    with pytest.raises(PatchError) as raised:
        apply_json_patch(document, operations)
    assert message in str(raised.value)
    assert document == before


def test_json_patch_is_all_or_nothing():
    document = {"a": 1}
    with pytest.raises(PatchError):
        apply_json_patch(
            document, [{"op": "replace", "path": "/a", "value": 2}, {"op": "remove", "path": "/b"}]
        )
    assert document == {"a": 1}


def test_added_values_are_copies():
    value = {"inner": [1]}
    result = apply_json_patch({}, [{"op": "add", "path": "/v", "value": value}])
    result["v"]["inner"].append(2)
    assert value == {"inner": [1]}


# The examples of RFC 7386, appendix A.
@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_rfc_examples(target, patch, expected):
    before = copy.deepcopy(target)
    patch_before = copy.deepcopy(patch)
    assert apply_merge_patch(target, patch) == expected
    assert target == before
    assert patch == patch_before


def test_merge_patch_result_shares_nothing_with_inputs():
    patch = {"spec": {"list": [1]}}
    document = {"meta": {"keep": [1]}}
    result = apply_merge_patch(document, patch)
    result["spec"]["list"].append(2)
    result["meta"]["keep"].append(2)
    assert patch == {"spec": {"list": [1]}}
    assert document == {"meta": {"keep": [1]}}


def test_a_status_merge_patch_leaves_every_stored_version_as_it_was() -> None:
    """A ``/status`` merge patch shares what it does not touch with the stored object instead
    of copying it (``apply_merge_patch_sharing``): the versions stored before, which watches
    and lists still hand out, must not change, and the new one holds both the kept and the
    patched parts (RFC 7386: null removes a member, objects merge)."""
    api = ObjectAPI(MemoryStore(), ResourceRegistry.builtin())
    namespaces = api.registry.require("", "v1", "namespaces")
    api.create(ResourcePath("c", namespaces, None), {"metadata": {"name": "default"}})
    deployments = api.registry.require("apps", "v1", "deployments")
    body = {
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    created = api.create(ResourcePath("c", deployments, "default"), body)
    status = ResourcePath("c", deployments, "default", "web", "status")
    first = {"status": {"replicas": 2, "conditions": [{"type": "Available", "status": "True"}]}}
    patched = api.patch(status, MERGE_PATCH, first)
    kept = [copy.deepcopy(created), copy.deepcopy(patched)]
    second = {"status": {"replicas": None, "readyReplicas": 1}, "spec": {"paused": True}}
    latest = api.patch(status, MERGE_PATCH, second)
    assert [created, patched] == kept
    assert latest["status"] == {
        "conditions": [{"type": "Available", "status": "True"}],
        "readyReplicas": 1,
    }
    assert latest["spec"] == created["spec"]
    assert latest["metadata"]["labels"] == {"app": "web"}
    assert int(latest["metadata"]["resourceVersion"]) > int(patched["metadata"]["resourceVersion"])
