"""Custom resources checked against their CRD's structural ``openAPIV3Schema``, as Kubernetes does.

Two steps, in the real server's order: pruning and defaulting (fields the schema does not
declare are dropped, unless ``x-kubernetes-preserve-unknown-fields`` keeps them; ``null`` in a
field that is not ``nullable`` is dropped too; a missing field with a ``default`` gets it), then
validation (type, required, enum, pattern, bounds on numbers,
lengths and counts, ``allOf``/``anyOf``/``oneOf``/``not``), each failure a field error in the
real server's words. ``apiVersion``, ``kind`` and ``metadata`` at the root are the server's
business and are never pruned.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pytest_syncer.apiserver.api.validation.field_errors import (
    FieldError,
    invalid,
    not_supported,
    required,
)

Schema = Mapping[str, Any]
ROOT_FIELDS = ("apiVersion", "kind", "metadata")
_TYPE_NAMES = {
    "object": "object",
    "array": "array",
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
}


def _is_type(value: Any, expected: str) -> bool:
    if expected == "object":
        return isinstance(value, dict)
    if expected == "array":
        return isinstance(value, list)
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True


def _preserves(schema: Schema) -> bool:
    return schema.get("x-kubernetes-preserve-unknown-fields") is True


def prune(value: Any, schema: Schema, *, root: bool = False) -> Any:
    """``value`` without what ``schema`` does not declare (a new value; the input is kept)."""
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        embedded = schema.get("x-kubernetes-embedded-resource") is True
        result: dict[str, Any] = {}
        for key, item in value.items():
            if (root or embedded) and key in ROOT_FIELDS:
                result[key] = item
                continue
            declared = _declared(properties, additional, key)
            if declared is None:
                if _preserves(schema) or additional is True:
                    result[key] = item
                continue
            if item is None and not declared.get("nullable"):
                continue
            result[key] = prune(item, declared)
        if isinstance(properties, Mapping):
            for key, declared in properties.items():
                if key not in result and isinstance(declared, Mapping) and "default" in declared:
                    result[key] = copy.deepcopy(declared["default"])
        return result
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            return [prune(item, items) for item in value]
        return list(value)
    return value


def _declared(properties: Any, additional: Any, key: str) -> Schema | None:
    """The schema of field ``key``: its property, else ``additionalProperties`` when a schema."""
    declared = properties.get(key) if isinstance(properties, Mapping) else None
    if not isinstance(declared, Mapping):
        declared = additional if isinstance(additional, Mapping) else None
    return declared


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _schemas(value: Any) -> list[Schema]:
    return [item for item in _list(value) if isinstance(item, Mapping)]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate(value: Any, schema: Schema, path: str = "") -> list[FieldError]:
    """Every way ``value`` (already pruned) breaks ``schema``; ``path`` names where it is."""
    errors: list[FieldError] = []
    where = path or "<root>"
    expected = schema.get("type")
    int_or_string = schema.get("x-kubernetes-int-or-string") is True
    if value is None:
        if schema.get("nullable"):
            return []
        if expected:
            return [invalid(where, value, f'{where} in body must be of type {expected}: "null"')]
        return []
    if int_or_string:
        if not (_is_type(value, "integer") or isinstance(value, str)):
            errors.append(
                invalid(where, value, f"{where} in body must be of type integer-or-string")
            )
            return errors
    elif isinstance(expected, str) and expected in _TYPE_NAMES and not _is_type(value, expected):
        shown = _json_type(value)
        errors.append(
            invalid(where, shown, f'{where} in body must be of type {expected}: "{shown}"')
        )
        return errors
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        errors.append(not_supported(where, value, [_enum_text(choice) for choice in enum]))
    if isinstance(value, str):
        errors += _string_errors(value, schema, where)
    if _is_type(value, "number"):
        errors += _number_errors(value, schema, where)
    if isinstance(value, list):
        errors += _array_errors(value, schema, path, where)
    if isinstance(value, dict):
        errors += _object_errors(value, schema, path, where)
    errors += _combinator_errors(value, schema, path, where)
    return errors


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _enum_text(choice: Any) -> str:
    return choice if isinstance(choice, str) else str(choice)


@lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:
        return None


def _string_errors(value: str, schema: Schema, where: str) -> list[FieldError]:
    errors = []
    max_length = schema.get("maxLength")
    min_length = schema.get("minLength")
    if isinstance(max_length, int) and len(value) > max_length:
        errors.append(
            FieldError(
                where,
                "FieldValueTooLong",
                f"Too long: may not be more than {max_length} bytes",
            )
        )
    if isinstance(min_length, int) and len(value) < min_length:
        errors.append(
            invalid(where, value, f"{where} in body should be at least {min_length} chars long")
        )
    pattern_text = schema.get("pattern")
    if isinstance(pattern_text, str):
        pattern = _pattern(pattern_text)
        if pattern is not None and pattern.search(value) is None:
            errors.append(invalid(where, value, f"{where} in body should match '{pattern_text}'"))
    return errors


def _number_errors(value: float, schema: Schema, where: str) -> list[FieldError]:
    errors = []
    minimum: Any = schema.get("minimum")
    maximum: Any = schema.get("maximum")
    if _is_type(minimum, "number"):
        if schema.get("exclusiveMinimum") is True and value <= minimum:
            errors.append(
                invalid(where, value, f"{where} in body should be greater than {minimum}")
            )
        elif value < minimum:
            errors.append(
                invalid(
                    where, value, f"{where} in body should be greater than or equal to {minimum}"
                )
            )
    if _is_type(maximum, "number"):
        if schema.get("exclusiveMaximum") is True and value >= maximum:
            errors.append(invalid(where, value, f"{where} in body should be less than {maximum}"))
        elif value > maximum:
            errors.append(
                invalid(where, value, f"{where} in body should be less than or equal to {maximum}")
            )
    return errors


def _array_errors(value: list[Any], schema: Schema, path: str, where: str) -> list[FieldError]:
    errors = []
    max_items = schema.get("maxItems")
    min_items = schema.get("minItems")
    if isinstance(max_items, int) and len(value) > max_items:
        errors.append(
            FieldError(
                where,
                "FieldValueTooMany",
                f"Too many: {len(value)}: must have at most {max_items} items",
            )
        )
    if isinstance(min_items, int) and len(value) < min_items:
        errors.append(
            invalid(where, value, f"{where} in body should have at least {min_items} items")
        )
    items = schema.get("items")
    if isinstance(items, Mapping):
        for index, item in enumerate(value):
            errors += validate(item, items, f"{path}[{index}]")
    return errors


def _object_errors(
    value: dict[str, Any], schema: Schema, path: str, where: str
) -> list[FieldError]:
    errors = []
    for name in _list(schema.get("required")):
        if isinstance(name, str) and name not in value:
            errors.append(required(_join(path, name)))
    max_properties = schema.get("maxProperties")
    min_properties = schema.get("minProperties")
    if isinstance(max_properties, int) and len(value) > max_properties:
        errors.append(
            FieldError(
                where,
                "FieldValueTooMany",
                f"Too many: {len(value)}: must have at most {max_properties} items",
            )
        )
    if isinstance(min_properties, int) and len(value) < min_properties:
        errors.append(
            invalid(
                where, value, f"{where} in body should have at least {min_properties} properties"
            )
        )
    properties = schema.get("properties")
    additional = schema.get("additionalProperties")
    for key, item in value.items():
        if not path and key in ROOT_FIELDS:
            continue
        declared = _declared(properties, additional, key)
        if declared is not None:
            errors += validate(item, declared, _join(path, key))
    return errors


def _combinator_errors(value: Any, schema: Schema, path: str, where: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for sub in _schemas(schema.get("allOf")):
        errors += validate(value, sub, path)
    any_of = _schemas(schema.get("anyOf"))
    if any_of and all(validate(value, sub, path) for sub in any_of):
        errors.append(
            invalid(where, value, f"{where} in body must match at least one schema (anyOf)")
        )
    one_of = _schemas(schema.get("oneOf"))
    if one_of and sum(not validate(value, sub, path) for sub in one_of) != 1:
        errors.append(
            invalid(where, value, f"{where} in body must validate one and only one schema (oneOf)")
        )
    negated = schema.get("not")
    if isinstance(negated, Mapping) and not validate(value, negated, path):
        errors.append(invalid(where, value, f"{where} in body must not validate the schema (not)"))
    return errors


def admit(obj: dict[str, Any], schema: Schema) -> tuple[dict[str, Any], list[FieldError]]:
    """The object pruned by ``schema`` and what is wrong with it."""
    pruned = prune(obj, schema, root=True)
    return pruned, validate(pruned, schema)
