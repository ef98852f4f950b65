"""JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386), never mutating their inputs.

Errors name the JSON pointer that failed, so the server can answer with a useful 422.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pytest_syncer.contract.objects import copy_json


class PatchError(ValueError):
    """A patch that is malformed or does not apply to the document."""


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def parse_pointer(pointer: str) -> list[str]:
    """Split a JSON pointer into its unescaped reference tokens."""
    if not isinstance(pointer, str):
        raise PatchError(f"path must be a string, not {type(pointer).__name__}")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"invalid JSON pointer {pointer!r}: must be empty or start with '/'")
    tokens = pointer[1:].split("/")
    for token in tokens:
        stripped = token.replace("~0", "").replace("~1", "")
        if "~" in stripped:
            raise PatchError(f"invalid JSON pointer {pointer!r}: '~' must be followed by 0 or 1")
    return [token.replace("~1", "/").replace("~0", "~") for token in tokens]


def _index(container: list[Any], token: str, pointer: str, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"invalid array index {token!r} in path {pointer!r}")
    index = int(token)
    limit = len(container) if allow_end else len(container) - 1
    if index > limit:
        raise PatchError(f"array index {index} out of range in path {pointer!r}")
    return index


def _parent(document: Any, tokens: list[str], pointer: str) -> Any:
    current = document
    for token in tokens[:-1]:
        current = _child(current, token, pointer)
    return current


def _child(current: Any, token: str, pointer: str) -> Any:
    if isinstance(current, dict):
        if token not in current:
            raise PatchError(f"path {pointer!r} does not exist: no member {token!r}")
        return current[token]
    if isinstance(current, list):
        return current[_index(current, token, pointer, allow_end=False)]
    raise PatchError(f"path {pointer!r} does not exist: cannot step into a scalar at {token!r}")


def get_pointer(document: Any, pointer: str) -> Any:
    """The value at ``pointer``; PatchError when it is not there."""
    current = document
    for token in parse_pointer(pointer):
        current = _child(current, token, pointer)
    return current


def _add(document: Any, pointer: str, value: Any) -> Any:
    tokens = parse_pointer(pointer)
    if not tokens:
        return value
    parent = _parent(document, tokens, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, pointer, allow_end=True), value)
    else:
        raise PatchError(f"cannot add at {pointer!r}: its parent is not an object or array")
    return document


def _remove(document: Any, pointer: str) -> tuple[Any, Any]:
    tokens = parse_pointer(pointer)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _parent(document, tokens, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"cannot remove {pointer!r}: it does not exist")
        return document, parent.pop(last)
    if isinstance(parent, list):
        return document, parent.pop(_index(parent, last, pointer, allow_end=False))
    raise PatchError(f"cannot remove {pointer!r}: its parent is not an object or array")


def _replace(document: Any, pointer: str, value: Any) -> Any:
    tokens = parse_pointer(pointer)
    if not tokens:
        return value
    parent = _parent(document, tokens, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"cannot replace {pointer!r}: it does not exist")
        parent[last] = value
    elif isinstance(parent, list):
        parent[_index(parent, last, pointer, allow_end=False)] = value
    else:
        raise PatchError(f"cannot replace {pointer!r}: its parent is not an object or array")
    return document


def _json_equal(left: Any, right: Any) -> bool:
    """Equality as JSON sees it: 1 and 1.0 agree, true and 1 do not."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return type(left) is type(right) and left == right


def _field(operation: Mapping[str, Any], name: str, index: int) -> Any:
    if name not in operation:
        raise PatchError(f"operation {index} ({operation.get('op')}) is missing {name!r}")
    return operation[name]


def _pointer_field(operation: Mapping[str, Any], name: str, index: int) -> str:
    value = _field(operation, name, index)
    if not isinstance(value, str):
        raise PatchError(f"operation {index} has a {name!r} that is not a string: {value!r}")
    return value


def apply_json_patch(document: Any, operations: Any) -> Any:
    """Apply RFC 6902 operations to a copy of ``document``; all or nothing."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be an array of operations")
    result = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        if not isinstance(operation, Mapping):
            raise PatchError(f"operation {index} is not an object")
        op = operation.get("op")
        path = _pointer_field(operation, "path", index)
        if op == "add":
            result = _add(result, path, copy.deepcopy(_field(operation, "value", index)))
        elif op == "remove":
            result, _ = _remove(result, path)
        elif op == "replace":
            result = _replace(result, path, copy.deepcopy(_field(operation, "value", index)))
        elif op in ("move", "copy"):
            source = _pointer_field(operation, "from", index)
            if op == "move":
                if path != source and path.startswith(source + "/"):
                    raise PatchError(f"cannot move {source!r} into its own child {path!r}")
                result, value = _remove(result, source)
            else:
                value = copy.deepcopy(get_pointer(result, source))
            result = _add(result, path, value)
        elif op == "test":
            expected = _field(operation, "value", index)
            actual = get_pointer(result, path)
            if not _json_equal(actual, expected):
                raise PatchError(f"test failed at path {path!r}: value differs")
        else:
            raise PatchError(f"operation {index} has unknown op {op!r}")
    return result


def apply_merge_patch(document: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch: null deletes, objects merge, anything else replaces."""
    if not isinstance(patch, Mapping):
        return copy_json(patch)
    result = copy_json(dict(document)) if isinstance(document, Mapping) else {}
    _merge_into(result, patch)
    return result


def apply_merge_patch_sharing(
    document: Mapping[str, Any], patch: Mapping[str, Any]
) -> dict[str, Any]:
    """:func:`apply_merge_patch` of an object patch without the deep copy: what ``patch`` does
    not touch stays ``document``'s own (which is never changed: every level the patch touches
    is copied first). For a stored object, which no one mutates, and a result only read."""
    result = dict(document)
    _merge_into(result, patch)
    return result


def _merge_into(result: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """Merge ``patch`` into ``result``, already a copy: each level is copied once, not again
    at every depth."""
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, Mapping):
            current = result.get(key)
            merged = dict(current) if isinstance(current, Mapping) else {}
            _merge_into(merged, value)
            result[key] = merged
        else:
            result[key] = copy_json(value)
