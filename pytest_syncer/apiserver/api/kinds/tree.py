"""Copy-on-write steps into a JSON object, for transforms that must never touch stored objects.

Stored objects are shared between readers; a transform copies each level it is about to change
and leaves every other level shared. Values of the wrong type are left for validation to refuse.
"""

from __future__ import annotations

from typing import Any


def child(parent: dict[str, Any], key: str, *, create: bool = False) -> dict[str, Any] | None:
    """``parent[key]`` replaced by a copy of itself and returned; ``{}`` added when ``create``.

    ``None`` when the value is not an object (validation reports it) or absent and not created."""
    value = parent.get(key)
    if value is None:
        if not create:
            return None
        value = {}
    elif not isinstance(value, dict):
        return None
    copy = dict(value)
    parent[key] = copy
    return copy


def items(parent: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The objects in the list ``parent[key]``, each replaced by a copy (non-objects kept as is)."""
    value = parent.get(key)
    if not isinstance(value, list):
        return []
    copied = [dict(item) if isinstance(item, dict) else item for item in value]
    parent[key] = copied
    return [item for item in copied if isinstance(item, dict)]


def setdefault(obj: dict[str, Any], key: str, value: Any) -> None:
    """``obj[key] = value`` when absent or ``null`` (Go's nil pointer or empty string)."""
    if obj.get(key) in (None, ""):
        obj[key] = value
