"""Drift: where a downstream object no longer holds what the syncer wrote.

Only what the syncer sends is compared, and only in one direction: every field of the desired
object must be in the existing one with the same value; fields the existing object has beyond
that are someone else's (the API server's defaults and allocations, a controller's status, a
label another tool added) and never count. This is the ownership server-side apply gives kcp's
syncer, without needing the server to track managers.

An absent field equals an empty one (`{}`, `[]`, `""`, `false`, `0`, `null`): a real API server
drops Go zero values with `omitempty`, so a desired `annotations: {}` is stored as nothing.
"""

from __future__ import annotations

from typing import Any

from pytest_syncer.contract.objects import KubeObject
from pytest_syncer.syncer.conflict.fieldpaths import MISSING, format_field_path, get_field

NOT_OWNED_TOP_LEVEL = frozenset({"apiVersion", "kind", "metadata", "status"})
"""Top-level fields that are not the syncer's to compare (identity, server metadata, status)."""
OWNED_METADATA = ("labels", "annotations")
"""The metadata the syncer writes and defends; the rest of metadata is the server's."""


def owned_paths(desired: KubeObject) -> list[tuple[str, ...]]:
    """The top-level fields (and metadata maps) of `desired` that drift is measured on."""
    paths: list[tuple[str, ...]] = [("metadata", name) for name in OWNED_METADATA]
    paths.extend((key,) for key in desired if key not in NOT_OWNED_TOP_LEVEL)
    return paths


def drifted_fields(desired: KubeObject, existing: KubeObject) -> tuple[str, ...]:
    """The dotted paths (sorted) where `existing` lacks or changed a field `desired` sets."""
    found: list[tuple[str | int, ...]] = []
    for path in owned_paths(desired):
        want = get_field(desired, path)
        if want is not MISSING:
            _compare(want, get_field(existing, path), path, found)
    return tuple(sorted(display_path(path) for path in found))


def display_path(path: tuple[str | int, ...]) -> str:
    """`("spec", "containers", 0, "image")` -> `spec.containers[0].image`; keys with dots in
    brackets, as `format_field_path` writes them."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        formatted = format_field_path((part,))
        text += formatted if formatted.startswith("[") or not text else "." + formatted
    return text


def _is_empty(value: Any) -> bool:
    if isinstance(value, bool):
        return value is False
    if isinstance(value, int | float):
        return value == 0
    return value is None or value == "" or value == {} or value == []


def _same_scalar(want: Any, have: Any) -> bool:
    """JSON equality: `1 == 1.0`, but `true` is not `1`."""
    if isinstance(want, bool) or isinstance(have, bool):
        return isinstance(want, bool) and isinstance(have, bool) and want == have
    return bool(want == have)


def _compare(want: Any, have: Any, path: tuple[str | int, ...], found: list[Any]) -> None:
    """Paths stay tuples while walking: only the few that drifted are ever formatted."""
    if have is None:
        have = MISSING
    if isinstance(want, dict):
        if have is MISSING:
            have = {}
        if not isinstance(have, dict):
            found.append(path)
            return
        for key, value in want.items():
            _compare(value, have.get(key, MISSING), (*path, key), found)
        return
    if have is MISSING:
        if not _is_empty(want):
            found.append(path)
        return
    if isinstance(want, list):
        if not isinstance(have, list) or len(have) != len(want):
            found.append(path)
            return
        for index, (item, other) in enumerate(zip(want, have, strict=True)):
            _compare(item, other, (*path, index), found)
        return
    if not _same_scalar(want, have):
        found.append(path)
