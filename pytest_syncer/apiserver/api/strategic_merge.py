"""Strategic merge patch for built-in types, driven by the Kubernetes v1.32 OpenAPI schemas.

Lists whose schema says ``x-kubernetes-patch-strategy: merge`` merge element by element on their
``x-kubernetes-patch-merge-key`` (containers by name, ports by containerPort, ...); other lists are
replaced. The directives kubectl sends are honoured: ``$patch`` (replace, delete, merge),
``$retainKeys``, ``$setElementOrder/<field>`` and ``$deleteFromPrimitiveList/<field>``; a null
deletes. The schemas come from the ``kubernetes-validate`` package, loaded once and cached.
Kinds without a built-in schema (custom resources) are refused with
:class:`StrategicMergeUnsupportedError`, which the server answers with 415 as Kubernetes does.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pytest_syncer.apiserver.api.patch import PatchError

SCHEMA_DIRECTORY = "kubernetes-json-schema/v1.32.0-local"
DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ELEMENT_ORDER = "$setElementOrder/"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/"

Schema = Mapping[str, Any]


class StrategicMergeUnsupportedError(Exception):
    """The kind has no built-in schema, so it cannot take a strategic merge patch (HTTP 415)."""


@dataclass(frozen=True)
class FieldMeta:
    """What the schema says about one field: its own schema and how patches merge into it."""

    schema: Schema | None
    strategies: tuple[str, ...] = ()
    merge_key: str | None = None


@functools.cache
def definitions() -> dict[str, Any]:
    """Every v1.32 OpenAPI definition by name, loaded once from kubernetes-validate."""
    package = resources.files("kubernetes_validate")
    text = package.joinpath(SCHEMA_DIRECTORY, "_definitions.json").read_text()
    loaded: dict[str, Any] = json.loads(text)["$defs"]
    return loaded


@functools.cache
def kind_index() -> dict[tuple[str, str, str], str]:
    """(group, version, kind) of each built-in type to its definition's name."""
    index: dict[tuple[str, str, str], str] = {}
    for name, definition in definitions().items():
        for gvk in definition.get("x-kubernetes-group-version-kind", ()):
            index.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    return index


def _split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def schema_for(api_version: str, kind: str) -> Schema | None:
    """The OpenAPI schema of a built-in ``kind`` in ``api_version``, or None for other kinds."""
    group, version = _split_api_version(api_version)
    name = kind_index().get((group, version, kind))
    return definitions()[name] if name is not None else None


def is_strategic_mergeable(api_version: str, kind: str) -> bool:
    return schema_for(api_version, kind) is not None


def resolve_schema(node: Any) -> Schema | None:
    """Follow a schema node's ``$ref`` (or single-entry allOf/anyOf/oneOf) to its definition."""
    if not isinstance(node, Mapping):
        return None
    reference = node.get("$ref")
    if isinstance(reference, str):
        return definitions().get(reference.rpartition("/")[2])
    for combinator in ("allOf", "anyOf", "oneOf"):
        options = node.get(combinator)
        if isinstance(options, list) and len(options) == 1:
            return resolve_schema(options[0])
    return node


def field_meta(schema: Schema | None, key: str) -> FieldMeta:
    """Look up ``key`` in an object schema; unknown fields merge like plain JSON."""
    if schema is None:
        return FieldMeta(None)
    properties = schema.get("properties")
    if isinstance(properties, Mapping) and key in properties:
        node = properties[key]
        strategy = node.get("x-kubernetes-patch-strategy", "")
        return FieldMeta(
            resolve_schema(node),
            tuple(part for part in strategy.split(",") if part),
            node.get("x-kubernetes-patch-merge-key"),
        )
    additional = schema.get("additionalProperties")
    if isinstance(additional, Mapping):
        return FieldMeta(resolve_schema(additional))
    return FieldMeta(None)


def _items_schema(schema: Schema | None) -> Schema | None:
    return resolve_schema(schema.get("items")) if schema is not None else None


def apply_strategic_merge_patch(document: Any, patch: Any, api_version: str, kind: str) -> Any:
    """Apply a strategic merge patch to a copy of ``document`` of a built-in kind."""
    schema = schema_for(api_version, kind)
    if schema is None:
        raise StrategicMergeUnsupportedError(
            f"the body of the request was in an unknown format - accepted media types include: "
            f"application/json-patch+json, application/merge-patch+json, "
            f"application/apply-patch+yaml (strategic merge patch is not supported for "
            f"{kind}.{api_version})"
        )
    return apply_strategic_merge_patch_with_schema(document, patch, schema)


def apply_strategic_merge_patch_with_schema(
    document: Any, patch: Any, schema: Schema | None
) -> Any:
    """Apply a strategic merge patch against an explicit object schema (None: no merge keys)."""
    if not isinstance(patch, Mapping):
        raise PatchError("a strategic merge patch must be a JSON object")
    original = copy.deepcopy(dict(document)) if isinstance(document, Mapping) else {}
    return _merge_map(original, copy.deepcopy(dict(patch)), schema)


def _merge_map(original: dict[str, Any], patch: dict[str, Any], schema: Schema | None) -> Any:
    if DIRECTIVE in patch:
        directive = patch.pop(DIRECTIVE)
        if directive == "replace":
            return _merge_map({}, patch, schema)
        if directive == "delete":
            return {}
        if directive != "merge":
            raise PatchError(f"unknown patch type: {directive} in map: {_shown(patch)}")
    retained = patch.pop(RETAIN_KEYS, None)
    if retained is not None:
        if not isinstance(retained, list):
            raise PatchError(f"{RETAIN_KEYS} must be a list of keys, not {_shown(retained)}")
        unlisted = [
            key
            for key, value in patch.items()
            if value is not None and not key.startswith("$") and key not in retained
        ]
        if unlisted:
            raise PatchError(
                f"invalid patch format of {RETAIN_KEYS}: {unlisted[0]!r} is not listed"
            )
        for key in [key for key in original if key not in retained]:
            del original[key]
    for key in [key for key in patch if key.startswith(DELETE_FROM_PRIMITIVE_LIST)]:
        _delete_from_primitive_list(
            original, key[len(DELETE_FROM_PRIMITIVE_LIST) :], patch.pop(key)
        )
    for key in [key for key in patch if key.startswith(SET_ELEMENT_ORDER)]:
        field = key[len(SET_ELEMENT_ORDER) :]
        order = patch.pop(key)
        _set_element_order(original, patch, field, order, field_meta(schema, field))
    for key, value in patch.items():
        if value is None:
            original.pop(key, None)
            continue
        meta = field_meta(schema, key)
        current = original.get(key)
        if isinstance(value, dict):
            base = current if isinstance(current, dict) else {}
            if "replace" in meta.strategies:
                base = {}
            merged = _merge_map(base, value, meta.schema)
            original[key] = merged
        elif isinstance(value, list):
            base_list = current if isinstance(current, list) else []
            original[key] = _merge_field_list(base_list, value, meta)
        else:
            original[key] = value
    return original


def _merge_field_list(original: list[Any], patch: list[Any], meta: FieldMeta) -> list[Any]:
    if "merge" not in meta.strategies:
        return [_clean(item, _items_schema(meta.schema)) for item in patch]
    return _merge_list(original, patch, meta.merge_key, _items_schema(meta.schema))


def _clean(value: Any, schema: Schema | None) -> Any:
    """A value new to the document, with directives applied and nulls dropped."""
    if isinstance(value, dict):
        return _merge_map({}, value, schema)
    return value


def _merge_list(
    original: list[Any], patch: list[Any], merge_key: str | None, schema: Schema | None
) -> list[Any]:
    if not original and not patch:
        return original
    if not any(isinstance(item, dict) for item in [*original, *patch]):
        merged = list(dict.fromkeys(_hashable(item) for item in [*original, *patch]))
        return _ordered([_unhashable(item) for item in merged], patch, original, None)
    if not merge_key:
        raise PatchError("cannot merge lists without merge key")
    plain: list[dict[str, Any]] = []
    replace = False
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"list item {_shown(item)} is not an object")
        directive = item.get(DIRECTIVE)
        if directive is None:
            plain.append(item)
        elif directive == "delete":
            if merge_key not in item:
                raise PatchError(
                    f"map: {_shown(item)} does not contain declared merge key: {merge_key}"
                )
            original = [
                entry for entry in original if _key_of(entry, merge_key) != _key_of(item, merge_key)
            ]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise PatchError(f"unknown patch type: {directive} in map: {_shown(item)}")
    if replace:
        return [_clean(item, schema) for item in plain]
    merged = list(original)
    for item in plain:
        if merge_key not in item:
            raise PatchError(
                f"map: {_shown(item)} does not contain declared merge key: {merge_key}"
            )
        position = next(
            (
                index
                for index, entry in enumerate(merged)
                if _key_of(entry, merge_key) == _key_of(item, merge_key)
            ),
            None,
        )
        if position is None:
            merged.append(_clean(item, schema))
        else:
            merged[position] = _merge_map(dict(merged[position]), item, schema)
    return _ordered(merged, plain, original, merge_key)


def _key_of(item: Any, merge_key: str | None) -> Any:
    if merge_key is None:
        return _hashable(item)
    return _hashable(item.get(merge_key)) if isinstance(item, Mapping) else None


def _ordered(
    merged: list[Any], order: list[Any], server_order: list[Any], merge_key: str | None
) -> list[Any]:
    """Patch items in the patch's order, server-only items kept where the server had them."""
    wanted = {key: index for index, key in enumerate(_key_of(item, merge_key) for item in order)}
    server = {
        key: index for index, key in enumerate(_key_of(item, merge_key) for item in server_order)
    }
    from_patch = sorted(
        (item for item in merged if _key_of(item, merge_key) in wanted),
        key=lambda item: wanted[_key_of(item, merge_key)],
    )
    server_only = sorted(
        (item for item in merged if _key_of(item, merge_key) not in wanted),
        key=lambda item: server.get(_key_of(item, merge_key), len(server)),
    )
    result: list[Any] = []
    left = right = 0
    while left < len(server_only) or right < len(from_patch):
        if right == len(from_patch):
            result.append(server_only[left])
            left += 1
            continue
        if left == len(server_only):
            result.append(from_patch[right])
            right += 1
            continue
        left_index = server.get(_key_of(server_only[left], merge_key))
        right_index = server.get(_key_of(from_patch[right], merge_key))
        if left_index is not None and right_index is not None and left_index < right_index:
            result.append(server_only[left])
            left += 1
        else:
            result.append(from_patch[right])
            right += 1
    return result


def _set_element_order(
    original: dict[str, Any], patch: dict[str, Any], field: str, order: Any, meta: FieldMeta
) -> None:
    if not isinstance(order, list):
        raise PatchError(f"{SET_ELEMENT_ORDER}{field} must be a list")
    current = original.get(field)
    current_list = current if isinstance(current, list) else []
    if field in patch:
        value = patch.pop(field)
        if value is None:
            original.pop(field, None)
            return
        if not isinstance(value, list):
            raise PatchError(f"{field} must be a list alongside {SET_ELEMENT_ORDER}{field}")
        merged = _merge_field_list(current_list, value, meta)
    else:
        merged = list(current_list)
    merge_key = meta.merge_key if any(isinstance(item, dict) for item in order) else None
    original[field] = _ordered(merged, order, current_list, merge_key)


def _delete_from_primitive_list(original: dict[str, Any], field: str, values: Any) -> None:
    if not isinstance(values, list):
        raise PatchError(f"{DELETE_FROM_PRIMITIVE_LIST}{field} must be a list")
    current = original.get(field)
    if isinstance(current, list):
        doomed = {_hashable(value) for value in values}
        original[field] = [item for item in current if _hashable(item) not in doomed]


def _hashable(value: Any) -> Any:
    if isinstance(value, dict | list):
        return ("json", json.dumps(value, sort_keys=True))
    return (type(value).__name__, value)


def _unhashable(value: Any) -> Any:
    kind, payload = value
    return json.loads(payload) if kind == "json" else payload


def _shown(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
