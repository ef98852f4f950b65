"""Built-in objects checked against their 1.32 schemas, as the real server's decoding does.

Unknown fields, behind the ``fieldValidation`` parameter: ``Strict`` refuses a body naming a
field the type's schema does not declare (400, as the real server's strict decoding does),
``Warn`` answers with a ``Warning`` header per field, ``Ignore`` drops nothing and says nothing.
Values of the wrong JSON type (a string where an integer goes, a boolean as an env var's name)
are always refused with a 400: the real server cannot decode them into its Go structs, and an
object stored here that a real cluster refuses would hide a bug. Kinds without a built-in schema
are not checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.strategic_merge import resolve_schema

Schema = Mapping[str, Any]
#: Patch directives and server-side fields that strategic-merge bodies may carry.
_DIRECTIVE_PREFIXES = ("$setElementOrder/", "$deleteFromPrimitiveList/", "$retainKeys", "$patch")


def unknown_fields(value: Any, schema: Schema | None, path: str = "") -> Iterator[str]:
    """Dotted paths of the fields in ``value`` that ``schema`` does not declare."""
    if schema is None or schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else key
            if key.startswith(_DIRECTIVE_PREFIXES):
                continue
            if isinstance(properties, Mapping) and key in properties:
                yield from unknown_fields(child, resolve_schema(properties[key]), child_path)
            elif isinstance(additional, Mapping):
                yield from unknown_fields(child, resolve_schema(additional), child_path)
            elif additional is True:
                continue
            elif isinstance(properties, Mapping):
                yield child_path
    elif isinstance(value, list):
        items = resolve_schema(schema.get("items"))
        for index, item in enumerate(value):
            yield from unknown_fields(item, items, f"{path}[{index}]")


def check_fields(body: Any, schema: Schema | None, mode: str) -> list[str]:
    """The warnings to send (``Warn``); raises 400 under ``Strict`` when a field is unknown."""
    if mode == "Ignore" or schema is None:
        return []
    found = list(unknown_fields(body, schema))
    if not found:
        return []
    messages = [f'unknown field "{field}"' for field in found]
    if mode == "Strict":
        raise APIError(400, "strict decoding error: " + ", ".join(messages))
    return messages


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "integer": (int,),
    "number": (int, float),
}


def _allowed_types(schema: Schema) -> set[str] | None:
    """The JSON types a schema node accepts (``null`` aside), or None when it does not say."""
    if schema.get("x-kubernetes-int-or-string") or schema.get("format") == "int-or-string":
        return {"string", "integer"}
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {name for name in declared if name != "null"} or None
    for combinator in ("oneOf", "anyOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            union: set[str] = set()
            for option in options:
                allowed = _allowed_types(option) if isinstance(option, Mapping) else None
                if allowed is None:
                    return None
                union |= allowed
            return union
    return None


def _json_type(value: Any) -> str:
    for name, types in _JSON_TYPES.items():
        if not isinstance(value, bool) and isinstance(value, types):
            return name
    return "boolean" if isinstance(value, bool) else type(value).__name__


class _Node:
    """A schema node compiled for type checks: its allowed types and resolved children."""

    __slots__ = (
        "additional",
        "allowed",
        "allows_string",
        "boolean",
        "items",
        "properties",
        "skip",
        "types",
    )

    def __init__(self, schema: Schema) -> None:
        self.skip = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        self.allowed = _allowed_types(schema)
        # The allowed JSON types as Python types; a bool fits only ``boolean``.
        allowed = self.allowed or set()
        self.types = tuple(kind for name in allowed for kind in _JSON_TYPES.get(name, ()))
        self.boolean = "boolean" in allowed
        self.allows_string = self.allowed is None or str in self.types
        properties = schema.get("properties")
        self.properties = (
            {key: resolve_schema(child) for key, child in properties.items()}
            if isinstance(properties, Mapping)
            else {}
        )
        additional = schema.get("additionalProperties")
        self.additional = resolve_schema(additional) if isinstance(additional, Mapping) else None
        self.items = resolve_schema(schema.get("items"))


#: Built-in schemas live as long as the process, so their nodes are compiled once, by id.
_compiled: dict[int, _Node] = {}


def _node(schema: Schema) -> _Node:
    node = _compiled.get(id(schema))
    if node is None:
        node = _compiled[id(schema)] = _Node(schema)
    return node


def type_mismatches(value: Any, schema: Schema | None, path: str = "") -> list[str]:
    """``<path>: expected <types>, got <type>`` for every value of the wrong JSON type.

    ``null`` is accepted anywhere (Go decodes it to the zero value); unknown fields are
    ``unknown_fields``' business.
    """
    found: list[str] = []
    if schema is not None and _mismatched(value, _node(schema)):
        _collect_mismatches(value, _node(schema), path, found)
    return found


def _fits(value: Any, node: _Node) -> bool:
    if node.allowed is None:
        return True
    return node.boolean if isinstance(value, bool) else isinstance(value, node.types)


def _mismatched(value: Any, node: _Node) -> bool:
    """Whether any value is of the wrong type: the common, clean case builds no paths."""
    if value is None or node.skip:
        return False
    if node.allowed is not None and not (
        node.boolean if isinstance(value, bool) else isinstance(value, node.types)
    ):
        return True
    if isinstance(value, dict):
        properties, additional = node.properties, node.additional
        for key, child in value.items():
            # A null or a string fits every schema but ``boolean``'s and has no children:
            # most of an object's leaves are strings, and this skips a call for each.
            if child is None:
                continue
            child_schema = properties.get(key, additional)
            if child_schema is None:
                continue
            child_node = _compiled.get(id(child_schema)) or _node(child_schema)
            if type(child) is str and (child_node.skip or child_node.allows_string):
                continue
            if not key.startswith(_DIRECTIVE_PREFIXES) and _mismatched(child, child_node):
                return True
    elif isinstance(value, list) and node.items is not None:
        items = _node(node.items)
        return any(_mismatched(item, items) for item in value)
    return False


def _collect_mismatches(value: Any, node: _Node, path: str, found: list[str]) -> None:
    if value is None or node.skip:
        return
    if not _fits(value, node):
        expected = " or ".join(sorted(node.allowed or ()))
        found.append(f"{path or '<object>'}: expected {expected}, got {_json_type(value)}")
        return
    if isinstance(value, dict):
        for key, child in value.items():
            child_schema = node.properties.get(key, node.additional)
            if child_schema is not None and not key.startswith(_DIRECTIVE_PREFIXES):
                child_path = f"{path}.{key}" if path else key
                _collect_mismatches(child, _node(child_schema), child_path, found)
    elif isinstance(value, list) and node.items is not None:
        items = _node(node.items)
        for index, item in enumerate(value):
            _collect_mismatches(item, items, f"{path}[{index}]", found)


def check_types(obj: Any, schema: Schema | None, kind: str, version: str) -> None:
    """Raise the real server's 400 when ``obj`` cannot be decoded as a ``kind``."""
    if schema is None:
        return
    found = type_mismatches(obj, schema)
    if found:
        raise APIError(
            400,
            f'{kind} in version "{version}" cannot be handled as a {kind}: ' + "; ".join(found),
        )
