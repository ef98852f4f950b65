"""``/openapi/v2`` in protobuf (gnostic's ``openapi.v2.Document``), which kubectl 1.27/1.28 need.

Those kubectl versions fetch ``/openapi/v2`` with an Accept of the protobuf type only (for
``apply``'s validation and patch computation and for ``explain``) and have no JSON fallback.
This encodes the JSON v2 document built by :mod:`openapi` into the protobuf wire format by
hand, for the messages and fields kubectl reads: paths with their operations, parameters,
responses and vendor extensions, and the definitions' schemas (``$ref``, type, format,
description, required, properties, items, allOf, additionalProperties, vendor extensions).
Vendor extension values travel as YAML text, as gnostic encodes them. Field numbers are those
of gnostic's ``openapiv2/OpenAPIv2.proto``; the wire format is :mod:`protobuf.wire`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from pytest_syncer.apiserver.http.protobuf.wire import (
    VARINT,
    field_bool,
    field_bytes,
    field_string,
    key,
)

#: What kubectl asks for; not a valid MIME type for Go's parser (``@``), so not what we answer.
MEDIA_TYPE = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
#: The Content-Type of the answer, as Kubernetes sends it.
RESPONSE_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_OPERATIONS = {"get": 2, "put": 3, "post": 4, "delete": 5, "patch": 8}


def _strings(number: int, values: Iterable[str]) -> bytes:
    return b"".join(field_bytes(number, value.encode()) for value in values)


def _named_any(name: str, value: Any) -> bytes:
    """``NamedAny{name, Any{yaml}}``: how gnostic carries vendor extensions."""
    text = yaml.safe_dump(value, default_flow_style=False, sort_keys=True)
    return field_string(1, name) + field_bytes(2, field_string(2, text))


def _extensions(number: int, node: Mapping[str, Any]) -> bytes:
    return b"".join(
        field_bytes(number, _named_any(key, value))
        for key, value in node.items()
        if key.startswith("x-")
    )


def schema(node: Mapping[str, Any]) -> bytes:
    """An ``openapi.v2.Schema``."""
    out = bytearray()
    out += field_string(1, str(node.get("$ref", "")))
    out += field_string(2, str(node.get("format", "")))
    out += field_string(3, str(node.get("title", "")))
    out += field_string(4, str(node.get("description", "")))
    out += _strings(19, node.get("required") or ())
    additional = node.get("additionalProperties")
    if isinstance(additional, Mapping):
        out += field_bytes(21, field_bytes(1, schema(additional)))
    elif isinstance(additional, bool):
        out += field_bytes(21, key(2, VARINT) + (b"\x01" if additional else b"\x00"))
    kind = node.get("type")
    if isinstance(kind, str):
        out += field_bytes(22, field_string(1, kind))
    items = node.get("items")
    if isinstance(items, Mapping):
        out += field_bytes(23, field_bytes(1, schema(items)))
    for part in node.get("allOf") or ():
        if isinstance(part, Mapping):
            out += field_bytes(24, schema(part))
    properties = node.get("properties")
    if isinstance(properties, Mapping):
        named = b"".join(
            field_bytes(1, field_string(1, name) + field_bytes(2, schema(child)))
            for name, child in properties.items()
            if isinstance(child, Mapping)
        )
        out += field_bytes(25, named)
    out += _extensions(31, node)
    return bytes(out)


def _parameter(node: Mapping[str, Any]) -> bytes:
    """A ``ParametersItem`` holding a body, query or path parameter."""
    where = str(node.get("in", ""))
    if where == "body":
        body = (
            field_string(1, str(node.get("description", "")))
            + field_string(2, str(node.get("name", "")))
            + field_string(3, where)
            + field_bool(4, bool(node.get("required")))
            + field_bytes(5, schema(node.get("schema") or {}))
        )
        parameter = field_bytes(1, body)
    else:
        common = (
            field_bool(1, bool(node.get("required")))
            + field_string(2, where)
            + field_string(3, str(node.get("description", "")))
            + field_string(4, str(node.get("name", "")))
        )
        if where == "query":
            sub = field_bytes(3, common + field_string(6, str(node.get("type", ""))))
        else:
            sub = field_bytes(4, common + field_string(5, str(node.get("type", ""))))
        parameter = field_bytes(2, sub)
    return field_bytes(1, parameter)


def _operation(node: Mapping[str, Any]) -> bytes:
    out = bytearray()
    out += _strings(1, node.get("tags") or ())
    out += field_string(5, str(node.get("operationId", "")))
    out += _strings(6, node.get("produces") or ())
    out += _strings(7, node.get("consumes") or ())
    for parameter in node.get("parameters") or ():
        out += field_bytes(8, _parameter(parameter))
    codes = b""
    for code, response in (node.get("responses") or {}).items():
        body = field_string(1, str(response.get("description", "")))
        if isinstance(response.get("schema"), Mapping):
            body += field_bytes(2, field_bytes(1, schema(response["schema"])))
        codes += field_bytes(1, field_string(1, str(code)) + field_bytes(2, field_bytes(1, body)))
    out += field_bytes(9, codes)
    out += _extensions(13, node)
    return bytes(out)


def _path_item(node: Mapping[str, Any]) -> bytes:
    out = bytearray()
    for verb, number in _OPERATIONS.items():
        operation = node.get(verb)
        if isinstance(operation, Mapping):
            out += field_bytes(number, _operation(operation))
    for parameter in node.get("parameters") or ():
        out += field_bytes(9, _parameter(parameter))
    return bytes(out)


def document(swagger: Mapping[str, Any]) -> bytes:
    """The protobuf ``openapi.v2.Document`` of a JSON swagger 2.0 document."""
    info = swagger.get("info") or {}
    out = bytearray()
    out += field_string(1, str(swagger.get("swagger", "2.0")))
    out += field_bytes(
        2,
        field_string(1, str(info.get("title", ""))) + field_string(2, str(info.get("version", ""))),
    )
    paths = b"".join(
        field_bytes(2, field_string(1, name) + field_bytes(2, _path_item(item)))
        for name, item in (swagger.get("paths") or {}).items()
    )
    out += field_bytes(8, paths)
    definitions = b"".join(
        field_bytes(1, field_string(1, name) + field_bytes(2, schema(node)))
        for name, node in (swagger.get("definitions") or {}).items()
    )
    out += field_bytes(9, definitions)
    return bytes(out)
