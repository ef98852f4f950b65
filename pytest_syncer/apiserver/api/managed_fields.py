"""Field ownership for server-side apply: field sets, FieldsV1, apply merges and conflicts.

Kubernetes records in ``metadata.managedFields`` which manager set which fields. A field set is
a set of paths; each path is a tuple of FieldsV1 elements: ``f:<field>`` for a struct or map
field, ``k:{"name":"x"}`` for the item of an associative list (keyed by the schema's
``x-kubernetes-list-map-keys``), ``v:<json>`` for a member of a set list. Lists without a list
type, and structs marked ``x-kubernetes-map-type: atomic``, are owned whole. As in
structured-merge-diff, a set holds every scalar, every list item, every atomic value, and every
map entry that is not a declared field of its struct (a label, an annotation, a data key).

The server-set ``kcp.io/cluster`` annotation belongs to no manager. Everything here is pure:
the schema is passed in (``None`` when the kind has none, then every map is granular and every
list atomic).
"""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_syncer.apiserver.api.objects import CLUSTER_ANNOTATION
from pytest_syncer.apiserver.api.strategic_merge import definitions, resolve_schema

Schema = Mapping[str, Any]
Path = tuple[str, ...]
FieldSet = frozenset[Path]

APPLY = "Apply"
UPDATE = "Update"
MEMBER = "."
#: Metadata the server owns or that names the object: never part of a field set.
_UNOWNED_METADATA = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    }
)
_MISSING = object()
#: The value :func:`field_values` gives a member that has members below it.
_NODE = object()


class ApplyConflictError(Exception):
    """Fields another manager owns would change; each conflict is (manager, path)."""

    def __init__(self, conflicts: list[tuple[str, str, Path]]) -> None:
        self.conflicts = conflicts
        count = len(conflicts)
        super().__init__(
            f"Apply failed with {count} conflict{'s' if count != 1 else ''}: "
            + "; ".join(
                f'conflict with "{manager}" using {api_version}: {path_text(path)}'
                for manager, api_version, path in conflicts
            )
        )


# Schema helpers.


def _resolved(schema: Schema | None) -> Schema | None:
    return resolve_schema(schema) if schema is not None else None


#: Resolved child schemas by (id of the parent schema, field); each value keeps its parent
#: alive, so an id is never reused while it is a key here.
_CHILDREN: dict[tuple[int, str], tuple[Schema, Schema | None, bool]] = {}


def _child_schema(schema: Schema | None, key: str) -> tuple[Schema | None, bool]:
    """The schema of field ``key`` and whether it is a declared field (not a map entry)."""
    if schema is None:
        return None, False
    cached = _CHILDREN.get((id(schema), key))
    if cached is not None:
        return cached[1], cached[2]
    found: tuple[Schema | None, bool] = (None, False)
    properties = schema.get("properties")
    additional = schema.get("additionalProperties")
    if isinstance(properties, Mapping) and key in properties:
        found = (_resolved(properties[key]), True)
    elif isinstance(additional, Mapping):
        found = (_resolved(additional), False)
    _CHILDREN[(id(schema), key)] = (schema, *found)
    return found


def _items_schema(schema: Schema | None) -> Schema | None:
    return _resolved(schema.get("items")) if schema is not None else None


def _list_type(schema: Schema | None) -> str:
    if schema is None:
        return "atomic"
    return str(schema.get("x-kubernetes-list-type") or "atomic")


def _is_atomic_map(schema: Schema | None) -> bool:
    return schema is not None and schema.get("x-kubernetes-map-type") == "atomic"


def _map_keys(schema: Schema | None) -> tuple[str, ...]:
    keys = schema.get("x-kubernetes-list-map-keys") if schema is not None else None
    return tuple(keys) if isinstance(keys, list) else ()


BUILTIN_KEY_DEFAULTS = {
    "io.k8s.api.core.v1.ContainerPort": {"protocol": "TCP"},
    "io.k8s.api.core.v1.ServicePort": {"protocol": "TCP"},
}
"""The list-map key fields of built-in types with an OpenAPI default (``+default="TCP"`` on
``ContainerPort.Protocol`` and ``ServicePort.Protocol`` in ``k8s.io/api/core/v1/types.go``; the
bundled schemas drop ``default``). structured-merge-diff keys an item that leaves such a field
out by its default, so ``- containerPort: 80`` is ``k:{"containerPort":80,"protocol":"TCP"}``."""
_DEFAULTED_KEY_VALUES = frozenset(
    (key, value) for defaults in BUILTIN_KEY_DEFAULTS.values() for key, value in defaults.items()
)
"""What a path's ``k:`` element may name that an item (not defaulted yet: an applied
configuration, a merge before defaulting) leaves out: paths carry no schema."""
#: Key defaults by id of an items schema, which each value keeps alive (as ``_CHILDREN`` does).
_KEY_DEFAULTS: dict[int, tuple[Schema, dict[str, Any]]] = {}


def _key_defaults(items: Schema | None) -> dict[str, Any]:
    """The defaults of an associative list's key fields: the schema's own ``default`` (CRDs),
    else the built-in table."""
    if items is None:
        return {}
    cached = _KEY_DEFAULTS.get(id(items))
    if cached is not None:
        return cached[1]
    found: dict[str, Any] = {}
    for name, defaults in BUILTIN_KEY_DEFAULTS.items():
        if id(definitions().get(name)) == id(items):
            found = dict(defaults)
    properties = items.get("properties")
    if isinstance(properties, Mapping):
        for key, node in properties.items():
            if isinstance(node, Mapping) and "default" in node:
                found[key] = node["default"]
    _KEY_DEFAULTS[id(items)] = (items, found)
    return found


# Path elements.


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def key_element(
    item: Mapping[str, Any], keys: Iterable[str], defaults: Mapping[str, Any] | None = None
) -> str:
    """The ``k:`` element of an associative list's item; a key field it leaves out takes its
    default, when the schema has one."""
    found = {}
    for key in keys:
        if key in item:
            found[key] = item[key]
        elif defaults and key in defaults:
            found[key] = defaults[key]
    return "k:" + _compact(found)


def value_element(value: Any) -> str:
    return "v:" + _compact(value)


def path_text(path: Path) -> str:
    """A path as Kubernetes prints it in conflicts: ``.spec.containers[name="x"].image``."""
    parts = []
    for element in path:
        kind, body = element[:2], element[2:]
        if kind == "f:":
            parts.append("." + body)
        elif kind == "k:":
            pairs = json.loads(body)
            parts.append("[" + ",".join(f"{k}={_compact(v)}" for k, v in pairs.items()) + "]")
        else:
            parts.append(f"[={body}]")
    return "".join(parts)


# Field sets.


def owned_view(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an object field ownership covers: no apiVersion, kind or server metadata."""
    view = {key: value for key, value in obj.items() if key not in ("apiVersion", "kind")}
    metadata = obj.get("metadata")
    if isinstance(metadata, Mapping):
        kept = {k: v for k, v in metadata.items() if k not in _UNOWNED_METADATA}
        annotations = kept.get("annotations")
        if isinstance(annotations, Mapping) and CLUSTER_ANNOTATION in annotations:
            rest = {k: v for k, v in annotations.items() if k != CLUSTER_ANNOTATION}
            if rest:
                kept["annotations"] = rest
            else:
                del kept["annotations"]
        if kept:
            view["metadata"] = kept
        else:
            view.pop("metadata")
    return view


def field_set(obj: Mapping[str, Any], schema: Schema | None) -> FieldSet:
    """Every path ``obj`` sets, per the rules in the module docstring."""
    return frozenset(field_values(obj, schema))


def field_values(obj: Mapping[str, Any], schema: Schema | None) -> dict[Path, Any]:
    """Every path ``obj`` sets, with the value of each leaf (members with children: a marker)."""
    out: dict[Path, Any] = {}
    _walk_map(owned_view(obj), schema, (), out)
    return out


def _walk(value: Any, schema: Schema | None, path: Path, out: dict[Path, Any]) -> None:
    if isinstance(value, dict) and not _is_atomic_map(schema):
        _walk_map(value, schema, path, out)
    elif isinstance(value, list) and _list_type(schema) != "atomic":
        _walk_list(value, schema, path, out)
    else:
        out[path] = value


def _walk_map(
    value: Mapping[str, Any], schema: Schema | None, path: Path, out: dict[Path, Any]
) -> None:
    # :func:`_walk` inlined: every write walks the whole object, a call per field is dear.
    for key, child in value.items():
        child_schema, declared = _child_schema(schema, key)
        child_path = (*path, "f:" + key)
        if isinstance(child, dict):
            if _is_atomic_map(child_schema):
                out[child_path] = child
                continue
            _walk_map(child, child_schema, child_path, out)
            if not child or not declared:
                out.setdefault(child_path, _NODE)
        elif isinstance(child, list) and _list_type(child_schema) != "atomic":
            _walk_list(child, child_schema, child_path, out)
            if not declared:
                out.setdefault(child_path, _NODE)
        else:
            # A leaf: its value is its entry (a member marker would not replace it).
            out[child_path] = child


def _walk_list(value: list[Any], schema: Schema | None, path: Path, out: dict[Path, Any]) -> None:
    items = _items_schema(schema)
    if _list_type(schema) == "set":
        for item in value:
            out[(*path, value_element(item))] = _NODE
        return
    keys = _map_keys(schema)
    defaults = _key_defaults(items)
    for item in value:
        if not isinstance(item, dict):
            out[path] = value
            continue
        item_path = (*path, key_element(item, keys, defaults))
        _walk_map(item, items, item_path, out)
        out[item_path] = _NODE


# FieldsV1.


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    """Encode a field set as FieldsV1: nested objects, ``"."`` marking a member with children."""
    root: dict[str, Any] = {}
    members: set[Path] = set()
    for path in paths:
        node = root
        for element in path:
            node = node.setdefault(element, {})
        members.add(path)
    for path in members:
        node = root
        for element in path:
            node = node[element]
        if node:
            node[MEMBER] = {}
    return _sorted_tree(root)


def _sorted_tree(node: dict[str, Any]) -> dict[str, Any]:
    """Members first, then elements in order, as Kubernetes writes them."""
    return {key: _sorted_tree(node[key]) for key in sorted(node, key=lambda k: (k != MEMBER, k))}


def from_fields_v1(fields: Mapping[str, Any]) -> FieldSet:
    """Decode FieldsV1 into a field set (the inverse of :func:`to_fields_v1`)."""
    paths: set[Path] = set()

    def visit(node: Mapping[str, Any], path: Path) -> None:
        for element, child in node.items():
            if element == MEMBER:
                paths.add(path)
                continue
            child_path = (*path, element)
            if isinstance(child, Mapping) and child:
                visit(child, child_path)
            else:
                paths.add(child_path)

    visit(fields, ())
    return frozenset(paths)


# Values at paths.


def value_at(obj: Any, path: Path) -> Any:
    """The value a path points to, or a sentinel when absent (compare with :func:`is_missing`)."""
    node = obj
    for element in path:
        node = _step(node, element)
        if node is _MISSING:
            return _MISSING
    return node


def is_missing(value: Any) -> bool:
    return value is _MISSING


def _step(node: Any, element: str) -> Any:
    kind, body = element[:2], element[2:]
    if kind == "f:":
        return node.get(body, _MISSING) if isinstance(node, dict) else _MISSING
    if not isinstance(node, list):
        return _MISSING
    if kind == "k:":
        wanted = json.loads(body)
        for item in node:
            if isinstance(item, dict) and all(
                item[k] == v if k in item else (k, v) in _DEFAULTED_KEY_VALUES
                for k, v in wanted.items()
            ):
                return item
        return _MISSING
    wanted = json.loads(body)
    return wanted if wanted in node else _MISSING


def _remove(obj: Any, path: Path) -> None:
    parent = value_at(obj, path[:-1])
    element = path[-1]
    kind, body = element[:2], element[2:]
    if kind == "f:" and isinstance(parent, dict):
        parent.pop(body, None)
    elif isinstance(parent, list):
        target = _step(parent, element)
        if target is not _MISSING:
            parent.remove(target)


def leaf_paths(paths: FieldSet) -> FieldSet:
    """Paths with no longer path below them in the set."""
    prefixes = {path[:end] for path in paths for end in range(len(path))}
    return frozenset(path for path in paths if path not in prefixes)


# Merging an applied configuration.


def merge(live: Any, config: Any, schema: Schema | None) -> Any:
    """Merge an applied configuration into the live value as the schema says."""
    if isinstance(config, dict) and isinstance(live, dict) and not _is_atomic_map(schema):
        result = dict(live)
        for key, value in config.items():
            child_schema, _ = _child_schema(schema, key)
            result[key] = merge(live.get(key, _MISSING), value, child_schema)
        return result
    if isinstance(config, list) and isinstance(live, list):
        list_type = _list_type(schema)
        if list_type == "set":
            return list(live) + [item for item in config if item not in live]
        if list_type == "map":
            return _merge_keyed(live, config, schema)
    return copy.deepcopy(config)


def _merge_keyed(live: list[Any], config: list[Any], schema: Schema | None) -> list[Any]:
    keys = _map_keys(schema)
    items = _items_schema(schema)
    defaults = _key_defaults(items)
    result = list(live)
    positions = {
        key_element(item, keys, defaults): index
        for index, item in enumerate(result)
        if isinstance(item, dict)
    }
    for item in config:
        if not isinstance(item, dict):
            result.append(copy.deepcopy(item))
            continue
        element = key_element(item, keys, defaults)
        index = positions.get(element)
        if index is None:
            index = _compatible(result, item, keys, defaults)
        if index is not None:
            result[index] = merge(result[index], item, items)
        else:
            positions[element] = len(result)
            result.append(copy.deepcopy(item))
    return result


def _compatible(
    items: list[Any], item: Mapping[str, Any], keys: tuple[str, ...], defaults: Mapping[str, Any]
) -> int | None:
    """The item whose key fields agree with ``item``'s wherever both set them (a defaulted key
    field counts as set to its default).

    A key field without a default may be named by one configuration and left out by another;
    both mean the same item.
    """
    wanted = {key: item.get(key, defaults.get(key, _MISSING)) for key in keys}
    for index, candidate in enumerate(items):
        if not isinstance(candidate, dict):
            continue
        shared = [
            key
            for key in keys
            if wanted[key] is not _MISSING and (key in candidate or key in defaults)
        ]
        if shared and all(candidate.get(key, defaults.get(key)) == wanted[key] for key in shared):
            return index
    return None


#: The FieldsV1 trees of recent field sets, and each tree's set by the tree's id (the tree kept
#: alive beside it, so an id here is never a reused one). Objects of one shape share field sets,
#: so most writes re-encode nothing, and decoding a tree this module encoded (the stored one, as
#: stores hand out what they were given) is a lookup. The trees are shared: never mutated.
_ENCODED: OrderedDict[FieldSet, dict[str, Any]] = OrderedDict()
_DECODED: dict[int, tuple[dict[str, Any], FieldSet]] = {}
_ENCODED_MAX = 4096


def _encoded_fields(fields: FieldSet) -> dict[str, Any]:
    """``to_fields_v1(fields)``, computed once per recent field set."""
    tree = _ENCODED.get(fields)
    if tree is not None:
        _ENCODED.move_to_end(fields)
        return tree
    tree = to_fields_v1(fields)
    _ENCODED[fields] = tree
    _DECODED[id(tree)] = (tree, fields)
    if len(_ENCODED) > _ENCODED_MAX:
        _, evicted = _ENCODED.popitem(last=False)
        del _DECODED[id(evicted)]
    return tree


def _decoded_fields(tree: Mapping[str, Any]) -> FieldSet:
    """``from_fields_v1(tree)``, a lookup for a tree :func:`_encoded_fields` made."""
    known = _DECODED.get(id(tree))
    if known is not None and known[0] is tree:
        return known[1]
    return from_fields_v1(tree)


# Managers.


@dataclass
class ManagerEntry:
    """One ``managedFields`` entry, its FieldsV1 decoded."""

    manager: str
    operation: str
    api_version: str
    fields: FieldSet
    time: str = ""
    subresource: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.manager, self.operation, self.subresource)

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time:
            entry["time"] = self.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = (
            _encoded_fields(self.fields)
            if isinstance(self.fields, frozenset)
            else to_fields_v1(self.fields)
        )
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


def parse_entries(managed: Any) -> list[ManagerEntry]:
    """Decode ``metadata.managedFields``; malformed entries are dropped, as they cannot be used."""
    entries = []
    for raw in managed if isinstance(managed, list) else ():
        if not isinstance(raw, Mapping) or not isinstance(raw.get("manager"), str):
            continue
        fields = raw.get("fieldsV1")
        entries.append(
            ManagerEntry(
                manager=raw["manager"],
                operation=str(raw.get("operation") or UPDATE),
                api_version=str(raw.get("apiVersion") or ""),
                fields=_decoded_fields(fields) if isinstance(fields, Mapping) else frozenset(),
                time=str(raw.get("time") or ""),
                subresource=str(raw.get("subresource") or ""),
            )
        )
    return entries


def _set_entry(entries: list[ManagerEntry], new: ManagerEntry) -> list[ManagerEntry]:
    kept = [entry for entry in entries if entry.identity != new.identity]
    if new.fields:
        kept.append(new)
    return [entry for entry in kept if entry.fields]


def _differing_values(
    new: Mapping[str, Any], old: Mapping[str, Any] | None, schema: Schema | None
) -> tuple[dict[Path, Any], dict[Path, Any]]:
    """:func:`field_values` of ``new`` and ``old`` without the top-level members both hold as
    the very same object (a ``/status`` write keeps the rest of the stored object): those set
    the same paths to the same values, so they change no ownership and need no walk."""
    new_view = owned_view(new)
    old_view = owned_view(old) if old is not None else {}
    new_rest, old_rest = _without_shared(new_view, old_view)
    metadata_schema, _ = _child_schema(schema, "metadata")
    if not _is_atomic_map(metadata_schema):
        # Every write copies metadata, but keeps the stored labels, owners and finalizers:
        # left out of the walk the same way, one level down. Each side keeps a member, so the
        # walk still sees a non-empty metadata on both and marks it as it did.
        new_metadata, old_metadata = new_rest.get("metadata"), old_rest.get("metadata")
        if type(new_metadata) is dict and type(old_metadata) is dict:
            new_members, old_members = _without_shared(new_metadata, old_metadata)
            if new_members and old_members:
                new_rest["metadata"], old_rest["metadata"] = new_members, old_members
    new_out: dict[Path, Any] = {}
    old_out: dict[Path, Any] = {}
    _walk_map(new_rest, schema, (), new_out)
    _walk_map(old_rest, schema, (), old_out)
    return new_out, old_out


def _without_shared(
    new: Mapping[str, Any], old: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``new`` and ``old`` without the members both hold as the very same object: those set
    the same paths to the same values under their own key, so their walks cancel out."""
    shared = {key for key, value in new.items() if old.get(key, _MISSING) is value}
    if not shared:
        return dict(new), dict(old)
    return (
        {k: v for k, v in new.items() if k not in shared},
        {k: v for k, v in old.items() if k not in shared},
    )


def record_update(
    entries: list[ManagerEntry],
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    schema: Schema | None,
    *,
    manager: str,
    api_version: str,
    time: str,
    subresource: str = "",
) -> list[ManagerEntry]:
    """An ordinary write: the manager takes every field it changed, others lose them."""
    new_values, old_values = _differing_values(new, old, schema)
    changed = frozenset(
        path for path, value in new_values.items() if old_values.get(path, _MISSING) != value
    )
    removed = frozenset(path for path in old_values if path not in new_values)
    if not changed and not removed:
        return entries
    taken = changed | removed
    result = []
    mine: FieldSet = frozenset()
    for entry in entries:
        if entry.identity == (manager, UPDATE, subresource):
            mine = entry.fields
            continue
        result.append(
            ManagerEntry(
                entry.manager,
                entry.operation,
                entry.api_version,
                entry.fields - taken,
                entry.time,
                entry.subresource,
            )
        )
    own = ManagerEntry(manager, UPDATE, api_version, (mine | changed) - removed, time, subresource)
    return _set_entry(result, own)


def apply_configuration(
    entries: list[ManagerEntry],
    live: Mapping[str, Any] | None,
    config: Mapping[str, Any],
    schema: Schema | None,
    *,
    manager: str,
    api_version: str,
    time: str,
    force: bool,
    subresource: str = "",
) -> tuple[dict[str, Any], list[ManagerEntry]]:
    """Server-side apply: the merged object and the new entries, or :class:`ApplyConflictError`.

    Fields the manager applied before and leaves out now are removed, unless another manager
    also owns them. A field another manager owns conflicts when the applied value differs from
    the live one; ``force`` takes it over instead.
    """
    config_set = field_set(config, schema)
    live_object: dict[str, Any] = dict(live) if live is not None else {}
    config_leaves = leaf_paths(config_set)
    conflicts: list[tuple[str, str, Path]] = []
    taken: set[Path] = set()
    for entry in entries:
        if entry.manager == manager:
            continue
        for path in sorted(entry.fields & config_leaves):
            live_value = value_at(live_object, path)
            if is_missing(live_value) or live_value == value_at(config, path):
                continue
            conflicts.append((entry.manager, entry.api_version, path))
            taken.add(path)
    if conflicts and not force:
        raise ApplyConflictError(conflicts)
    previous: FieldSet = frozenset()
    others: list[ManagerEntry] = []
    for entry in entries:
        if entry.identity == (manager, APPLY, subresource):
            previous = entry.fields
            continue
        others.append(
            ManagerEntry(
                entry.manager,
                entry.operation,
                entry.api_version,
                entry.fields - taken,
                entry.time,
                entry.subresource,
            )
        )
    merged = merge(live_object, dict(config), schema)
    still_owned: FieldSet = frozenset().union(*(entry.fields for entry in others))
    kept = still_owned | config_set
    kept_prefixes = {path[:end] for path in kept for end in range(len(path) + 1)}
    dropped = previous - kept_prefixes
    # An item the configuration still names under a fuller key is the same item: keep it.
    named_items = {
        id(value_at(merged, path)) for path in kept if path and path[-1].startswith("k:")
    }
    for path in sorted(dropped, key=len):
        if any(path[:end] in dropped for end in range(1, len(path))):
            continue
        if path[-1].startswith("k:") and id(value_at(merged, path)) in named_items:
            continue
        _remove(merged, path)
    own = ManagerEntry(manager, APPLY, api_version, config_set, time, subresource)
    return merged, _set_entry(others, own)
