"""Reading and rebuilding plain-dict objects without touching the input.

Steps copy only the dicts on the path they change and share the rest with their input; the
pipeline takes one private copy of its result so it shares nothing with the caller's object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_syncer.contract.errors import InvalidFieldError, MissingFieldError
from pytest_syncer.contract.objects import KubeObject


def group_of(obj: KubeObject) -> str:
    """The API group of an object, `""` for the core group."""
    api_version: str = obj["apiVersion"]
    return api_version.rpartition("/")[0]


def metadata_map(obj: KubeObject, key: str) -> dict[str, str]:
    """`metadata.labels` or `metadata.annotations`, `{}` when absent."""
    value: dict[str, str] | None = obj["metadata"].get(key)
    return value or {}


def with_metadata(obj: KubeObject, **changes: Any) -> KubeObject:
    """A new object whose metadata has these keys set; `None` removes a key."""
    metadata = {key: value for key, value in obj["metadata"].items() if key not in changes}
    metadata.update((key, value) for key, value in changes.items() if value is not None)
    return {**obj, "metadata": metadata}


def filter_metadata_map(obj: KubeObject, key: str, drop: Callable[[str], bool]) -> KubeObject:
    """The object without the labels (or annotations) whose names `drop` accepts."""
    current = metadata_map(obj, key)
    kept = {name: value for name, value in current.items() if not drop(name)}
    if len(kept) == len(current):
        return obj
    return with_metadata(obj, **{key: kept or None})


def nested_mapping(obj: KubeObject, path: tuple[str, ...]) -> dict[str, Any] | None:
    """The dict at `path`, `None` if any part is absent; a non-dict on the way is an error."""
    current: Any = obj
    for depth, key in enumerate(path):
        current = current.get(key)
        if current is None:
            return None
        if not isinstance(current, dict):
            raise InvalidFieldError(".".join(path[: depth + 1]), "must be an object")
    found: dict[str, Any] = current
    return found


def replace_nested(obj: KubeObject, path: tuple[str, ...], value: dict[str, Any]) -> KubeObject:
    """A new object with the dict at `path` (which exists) replaced, copying only the path."""
    if len(path) == 1:
        return {**obj, path[0]: value}
    head, rest = path[0], path[1:]
    return {**obj, head: replace_nested(obj[head], rest, value)}


def require_string(value: Any, field: str) -> str:
    """A non-empty string, or a typed error naming the field."""
    if value is None or value == "":
        raise MissingFieldError(field, "is required")
    if not isinstance(value, str):
        raise InvalidFieldError(field, "must be a string")
    return value
