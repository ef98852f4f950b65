"""Unknown-field detection for built-in types, behind the ``fieldValidation`` parameter.

``Strict`` refuses a body naming a field the type's schema does not declare (400, as the real
server's strict decoding does), ``Warn`` answers with a ``Warning`` header per field,
``Ignore`` drops nothing and says nothing. Kinds without a built-in schema are not checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pytest_syncer.apiserver.errors import APIError
from pytest_syncer.apiserver.strategic_merge import resolve_schema

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
