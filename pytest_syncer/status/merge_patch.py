"""The JSON merge patch (RFC 7386) that turns one document into another.

Status writers send only what changed, as a merge patch on `/status`, instead of a
read-modify-write with a resourceVersion: nobody else's field is overwritten and no 409 retries
are needed. Keys that disappear become `null`; lists and scalars are replaced whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_patch_between(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """The smallest merge patch that makes `old` into `new` (empty when they are equal).

    `new` must hold no `None` values: a merge patch cannot set a member to null.
    """
    base: Mapping[str, Any] = old or {}
    patch: dict[str, Any] = {key: None for key in base if key not in new}
    for key, value in new.items():
        previous = base.get(key)
        if isinstance(value, Mapping) and isinstance(previous, Mapping):
            nested = merge_patch_between(previous, value)
            if nested:
                patch[key] = nested
        elif key not in base or previous != value:
            patch[key] = _plain(value)
    return patch


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
