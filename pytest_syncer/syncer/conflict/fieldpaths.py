"""Dotted field paths: `spec.replicas`, `metadata.annotations[example.com/owner]`.

A segment is a name up to the next `.` or `[`; a key that itself holds dots (label and
annotation names do) goes in brackets, the notation the transform's errors already use. Paths
only walk through mappings: a retained field is a field of an object, never a list index.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pytest_syncer.contract.objects import copy_json

FieldPath = tuple[str, ...]

_SEGMENT = re.compile(r"(\.?)([^.\[\]\s]+)|\[([^\[\]]+)\]")
_PLAIN = re.compile(r"[^.\[\]\s]+")

MISSING: Any = object()
"""What `get_field` returns for a path that leads nowhere (distinct from a JSON `null`)."""


class InvalidFieldPathError(ValueError):
    """Text that is not a dotted field path."""


def parse_field_path(text: str) -> FieldPath:
    """`spec.template.metadata.annotations[a.b/c]` -> ("spec", "template", ..., "a.b/c")."""
    segments: list[str] = []
    position = 0
    while position < len(text):
        match = _SEGMENT.match(text, position)
        dotted = match is not None and match.group(1) == "."
        if match is None or (match.group(2) is not None and dotted != bool(segments)):
            raise InvalidFieldPathError(f"{text!r} is not a dotted field path")
        segments.append(match.group(2) or match.group(3))
        position = match.end()
    if not segments:
        raise InvalidFieldPathError("an empty field path")
    return tuple(segments)


def format_field_path(path: FieldPath) -> str:
    """The inverse of `parse_field_path`; keys with dots or brackets go in brackets."""
    parts: list[str] = []
    for segment in path:
        if not _PLAIN.fullmatch(segment):
            parts.append(f"[{segment}]")
        else:
            parts.append("." + segment if parts else segment)
    return "".join(parts)


def get_field(obj: Mapping[str, Any], path: FieldPath) -> Any:
    """The value at `path`, or `MISSING` when any part of the way is absent or not a mapping."""
    current: Any = obj
    for segment in path:
        if not isinstance(current, Mapping) or segment not in current:
            return MISSING
        current = current[segment]
    return current


def with_field(obj: Mapping[str, Any], path: FieldPath, value: Any) -> dict[str, Any]:
    """A copy of `obj` with `value` at `path`, creating mappings on the way; `obj` is untouched.

    Only the mappings on the path are new; a non-mapping in the way is replaced by one.
    """
    head, rest = path[0], path[1:]
    result = dict(obj)
    if not rest:
        result[head] = copy_json(value)
        return result
    child = obj.get(head)
    result[head] = with_field(child if isinstance(child, Mapping) else {}, rest, value)
    return result
