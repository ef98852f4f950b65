"""The hand-written protobuf encoding of /openapi/v2, read back with a minimal wire decoder."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.resources import ResourceRegistry
from pytest_syncer.apiserver.http.openapi import v2_document
from pytest_syncer.apiserver.http.openapi_protobuf import document, schema
from pytest_syncer.apiserver.http.protobuf.wire import varint

Fields = list[tuple[int, Any]]


def read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def fields(data: bytes) -> Fields:
    """(field number, int or bytes) pairs, in order."""
    found: Fields = []
    at = 0
    while at < len(data):
        key, at = read_varint(data, at)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, at = read_varint(data, at)
            found.append((number, value))
        else:
            assert wire_type == 2, wire_type
            length, at = read_varint(data, at)
            found.append((number, data[at : at + length]))
            at += length
    return found


def one(data: bytes, number: int) -> Any:
    (value,) = [v for n, v in fields(data) if n == number]
    return value


def many(data: bytes, number: int) -> list[Any]:
    return [v for n, v in fields(data) if n == number]


def decode_schema(data: bytes) -> dict[str, Any]:
    """The JSON form back from an ``openapi.v2.Schema`` (the fields the encoder writes)."""
    node: dict[str, Any] = {}
    names = {1: "$ref", 2: "format", 3: "title", 4: "description"}
    for number, value in fields(data):
        if number in names:
            node[names[number]] = value.decode()
        elif number == 19:
            node.setdefault("required", []).append(value.decode())
        elif number == 22:
            node["type"] = one(value, 1).decode()
        elif number == 23:
            node["items"] = decode_schema(one(value, 1))
        elif number == 24:
            node.setdefault("allOf", []).append(decode_schema(value))
        elif number == 25:
            node["properties"] = {
                one(named, 1).decode(): decode_schema(one(named, 2)) for named in many(value, 1)
            }
        elif number == 21:
            (inner,) = fields(value)
            node["additionalProperties"] = (
                decode_schema(inner[1]) if inner[0] == 1 else bool(inner[1])
            )
        elif number == 31:
            node[one(value, 1).decode()] = yaml.safe_load(one(one(value, 2), 2).decode())
    return node


@given(st.integers(min_value=0, max_value=2**64))
def test_varints_round_trip(value: int) -> None:
    decoded, end = read_varint(varint(value), 0)
    assert (decoded, end) == (value, len(varint(value)))


texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=8)
leaf_schemas = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["string", "integer", "object", "array", "boolean"]),
        "format": st.sampled_from(["int32", "date-time"]),
        "description": texts,
        "$ref": st.just("#/definitions/io.k8s.api.core.v1.Pod"),
        "x-kubernetes-list-type": st.sampled_from(["map", "set", "atomic"]),
        "x-kubernetes-group-version-kind": st.just([{"group": "", "kind": "Pod", "version": "v1"}]),
        "required": st.lists(texts, min_size=1, max_size=2),
        "additionalProperties": st.booleans(),
    },
)
schemas = st.recursive(
    leaf_schemas,
    lambda children: st.builds(
        lambda base, props, items, all_of: {
            **base,
            **({"properties": props} if props else {}),
            **({"items": items} if items is not None else {}),
            **({"allOf": all_of} if all_of else {}),
        },
        leaf_schemas,
        st.dictionaries(texts, children, max_size=3),
        st.none() | children,
        st.lists(children, max_size=2),
    ),
    max_leaves=8,
)


@given(schemas)
def test_schemas_round_trip(node: dict[str, Any]) -> None:
    assert decode_schema(schema(node)) == node


def test_the_v2_document_carries_paths_and_definitions() -> None:
    swagger = v2_document(ResourceRegistry.builtin().in_group_version("apps", "v1"))
    encoded = document(swagger)
    assert one(encoded, 1) == b"2.0"
    definitions = {
        one(named, 1).decode(): decode_schema(one(named, 2)) for named in many(one(encoded, 9), 1)
    }
    assert definitions.keys() == swagger["definitions"].keys()
    deployment = definitions["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    assert (
        deployment["properties"]["spec"]["$ref"]
        == "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
    )
    paths = {one(named, 1).decode(): one(named, 2) for named in many(one(encoded, 8), 2)}
    assert paths.keys() == swagger["paths"].keys()
    patch = one(paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"], 8)
    extensions = {one(n, 1).decode(): yaml.safe_load(one(one(n, 2), 2)) for n in many(patch, 13)}
    assert extensions["x-kubernetes-group-version-kind"]["kind"] == "Deployment"
    query_names = set()
    for item in many(patch, 8):
        parameter = one(item, 1)
        for number, sub in fields(parameter):
            if number == 2:
                ((kind, body),) = fields(sub)
                if kind == 3:
                    query_names.add(one(body, 4).decode())
    assert "fieldValidation" in query_names
