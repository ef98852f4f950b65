"""The first step of every pipeline: refuse an object the other steps cannot read.

Later steps then index `metadata`, `labels` and `annotations` without defending themselves;
kind-specific fields are checked by the step that touches them.
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.contract.errors import InvalidFieldError, MissingFieldError
from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.syncer.interfaces import TransformContext
from pytest_syncer.syncer.transform.objects import require_string

_OPTIONAL_OBJECT_FIELDS = ("spec", "status")


_STR = frozenset({str})


def _check_string_map(value: Any, field: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise InvalidFieldError(field, "must be an object of strings")
    if (
        "" not in value
        and _STR.issuperset(map(type, value))
        and _STR.issuperset(map(type, value.values()))
    ):
        return  # the common case, checked without a Python loop; else find the culprit
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise InvalidFieldError(field, f"key {key!r} must be a non-empty string")
        if not isinstance(item, str):
            raise InvalidFieldError(f"{field}[{key}]", "must be a string")


def validate_object(obj: KubeObject, context: TransformContext) -> KubeObject:
    """Pass a well-formed namespaced object through unchanged; raise a typed error otherwise."""
    if not isinstance(obj, dict):
        raise InvalidFieldError("<object>", f"must be an object, not {type(obj).__name__}")
    require_string(obj.get("apiVersion"), "apiVersion")
    require_string(obj.get("kind"), "kind")
    metadata = obj.get("metadata")
    if metadata is None:
        raise MissingFieldError("metadata", "is required")
    if not isinstance(metadata, dict):
        raise InvalidFieldError("metadata", "must be an object")
    require_string(metadata.get("name"), "metadata.name")
    require_string(metadata.get("namespace"), "metadata.namespace")
    _check_string_map(metadata.get("labels"), "metadata.labels")
    _check_string_map(metadata.get("annotations"), "metadata.annotations")
    for field in _OPTIONAL_OBJECT_FIELDS:
        if field in obj and not isinstance(obj[field], dict):
            raise InvalidFieldError(field, "must be an object")
    return obj
