"""OpenAPI v3 (and v2, JSON only) documents built from the Kubernetes v1.32 schemas.

kubectl needs them: its default ``--validate=strict`` looks in ``/openapi/v3/apis/<g>/<v>`` for a
PATCH operation tagged with the kind's ``x-kubernetes-group-version-kind`` that lists a
``fieldValidation`` query parameter, client-side apply reads patch strategies and merge keys from
the component schemas, and ``kubectl explain`` walks them. The schemas come from the
``kubernetes-validate`` package (JSON-Schema form: ``type: [string, "null"]``, ``$ref`` into
``$defs``) and are converted to OpenAPI form here. Types the package does not know (SyncTarget,
SyncStatus, custom resources) get a permissive schema. Documents depend only on the registry's
types, so the server caches their bytes per registry generation.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.resources import ResourceRegistry, ResourceType
from pytest_syncer.apiserver.api.strategic_merge import definitions, kind_index
from pytest_syncer.apiserver.http.discovery import KUBERNETES_VERSION
from pytest_syncer.apiserver.http.openapi_protobuf import MEDIA_TYPE as PROTOBUF
from pytest_syncer.apiserver.http.openapi_protobuf import RESPONSE_TYPE as PROTOBUF_RESPONSE_TYPE
from pytest_syncer.apiserver.http.openapi_protobuf import document as protobuf_document
from pytest_syncer.apiserver.http.paths import WILDCARD, OpenAPIPath

JSON = "application/json"
V3_REF_PREFIX = "#/components/schemas/"
V2_REF_PREFIX = "#/definitions/"
_SOURCE_REF_PREFIX = "#/$defs/"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
PATCH_CONTENT_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
_QUERY_PARAMETERS = {
    "dryRun": "When present, indicates that modifications should not be persisted.",
    "fieldManager": "fieldManager is a name associated with the actor or entity making changes.",
    "fieldValidation": "How the server treats unknown fields: Ignore, Warn or Strict.",
    "force": "Force is going to force Apply requests (server-side apply only).",
    "pretty": "If 'true', then the output is pretty printed.",
}
_WRITE_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation", "pretty")
_LIST_PARAMETERS = (
    "labelSelector",
    "fieldSelector",
    "limit",
    "continue",
    "resourceVersion",
    "resourceVersionMatch",
    "timeoutSeconds",
    "watch",
    "allowWatchBookmarks",
    "sendInitialEvents",
)


def group_version_path(group: str, version: str) -> str:
    """The key of a group-version in the v3 index: ``api/v1`` or ``apis/<group>/<version>``."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _gvk(resource_type: ResourceType) -> dict[str, str]:
    return {
        "group": resource_type.group,
        "version": resource_type.version,
        "kind": resource_type.kind,
    }


def schema_name(resource_type: ResourceType) -> str:
    """The component name of a type's schema: the Kubernetes one, or one made up for others."""
    found = kind_index().get((resource_type.group, resource_type.version, resource_type.kind))
    if found is not None:
        return found
    reversed_group = ".".join(reversed(resource_type.group.split("."))) or "core"
    return f"{reversed_group}.{resource_type.version}.{resource_type.kind}"


def _type_schema(resource_type: ResourceType) -> dict[str, Any]:
    """A custom resource's own ``openAPIV3Schema``, or a permissive one, with the GVK on it."""
    if resource_type.schema is None:
        return _permissive_schema(resource_type)
    schema = dict(resource_type.schema)
    properties = dict(schema.get("properties") or {})
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    properties["metadata"] = {"allOf": [{"$ref": _SOURCE_REF_PREFIX + OBJECT_META}]}
    schema["properties"] = properties
    schema["x-kubernetes-group-version-kind"] = [_gvk(resource_type)]
    return schema


def _permissive_schema(resource_type: ResourceType) -> dict[str, Any]:
    return {
        "description": f"{resource_type.kind} ({resource_type.api_version}): not a Kubernetes "
        "built-in type; any fields are accepted.",
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string", "description": "APIVersion of this object."},
            "kind": {"type": "string", "description": "Kind of this object."},
            "metadata": {"allOf": [{"$ref": _SOURCE_REF_PREFIX + OBJECT_META}]},
            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
        "x-kubernetes-group-version-kind": [_gvk(resource_type)],
    }


def _convert(node: Any, ref_prefix: str, property_name: str = "") -> Any:
    """JSON-Schema form to OpenAPI form: nullable type lists collapse, refs move."""
    if isinstance(node, list):
        return [_convert(item, ref_prefix) for item in node]
    if not isinstance(node, Mapping):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            converted[key] = ref_prefix + value.removeprefix(_SOURCE_REF_PREFIX)
        elif key == "type" and isinstance(value, list):
            concrete = [item for item in value if item != "null"]
            if len(concrete) == 1:
                converted[key] = concrete[0]
        elif key == "enum" and property_name in ("apiVersion", "kind"):
            continue
        elif key == "properties" and isinstance(value, Mapping):
            converted[key] = {
                name: _convert(child, ref_prefix, name) for name, child in value.items()
            }
        elif key == "$schema":
            continue
        else:
            converted[key] = _convert(value, ref_prefix)
    if "$ref" in converted and len(converted) > 1 and ref_prefix == V3_REF_PREFIX:
        reference = converted.pop("$ref")
        converted["allOf"] = [{"$ref": reference}]
    return converted


def _references(node: Any) -> Iterable[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.removeprefix(_SOURCE_REF_PREFIX)
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def scale_type(resource_type: ResourceType) -> ResourceType:
    """What a ``scale`` subresource serves: an ``autoscaling/v1`` Scale."""
    return dataclasses.replace(resource_type, group="autoscaling", version="v1", kind="Scale")


def _source_schemas(types: Iterable[ResourceType]) -> dict[str, Any]:
    """Every source schema the types need, found by following references from theirs."""
    source = definitions()
    found: dict[str, Any] = {}
    pending: list[str] = []
    chosen = list(types)
    chosen += [scale_type(t) for t in chosen if "scale" in t.subresources]
    for resource_type in chosen:
        name = schema_name(resource_type)
        found[name] = source.get(name) or _type_schema(resource_type)
        pending.extend(_references(found[name]))
    pending.append(STATUS)
    while pending:
        name = pending.pop()
        if name in found or name not in source:
            continue
        found[name] = source[name]
        pending.extend(_references(source[name]))
    return found


def _parameter(name: str, v3: bool, required: bool = False) -> dict[str, Any]:
    description = _QUERY_PARAMETERS.get(name, f"The {name} query parameter.")
    parameter: dict[str, Any] = {"name": name, "in": "query", "description": description}
    if v3:
        parameter["schema"] = {"type": "string"}
    else:
        parameter["type"] = "string"
    if required:
        parameter["required"] = True
    return parameter


def _path_parameter(name: str, v3: bool) -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": "path", "required": True}
    if v3:
        parameter["schema"] = {"type": "string"}
    else:
        parameter["type"] = "string"
    return parameter


def _operation(
    resource_type: ResourceType,
    action: str,
    verb: str,
    *,
    v3: bool,
    ref_prefix: str,
    parameters: Iterable[str] = (),
    body_types: Iterable[str] = (),
    subresource: str = "",
) -> dict[str, Any]:
    operation_id = f"{action}{resource_type.kind}{subresource.capitalize()}"
    if subresource == "scale":
        resource_type = scale_type(resource_type)
    schema_ref = {"$ref": ref_prefix + schema_name(resource_type)}
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "tags": [resource_type.group or "core"],
        "parameters": [_parameter(name, v3) for name in parameters],
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": _gvk(resource_type),
    }
    if v3:
        operation["responses"] = {
            "200": {"description": "OK", "content": {"application/json": {"schema": schema_ref}}}
        }
        body = list(body_types)
        if body:
            operation["requestBody"] = {
                "content": {content_type: {"schema": schema_ref} for content_type in body},
                "required": True,
            }
    else:
        operation["responses"] = {"200": {"description": "OK", "schema": schema_ref}}
        operation["consumes"] = list(body_types) or ["*/*"]
        operation["produces"] = ["application/json", "application/yaml"]
        if body_types:
            operation["parameters"].append(
                {"name": "body", "in": "body", "required": True, "schema": schema_ref}
            )
    return operation


def _paths(resource_type: ResourceType, *, v3: bool, ref_prefix: str) -> dict[str, Any]:
    base = "/api/v1" if not resource_type.group else f"/apis/{resource_type.api_version}"
    scoped = base + ("/namespaces/{namespace}" if resource_type.namespaced else "")
    collection = f"{scoped}/{resource_type.resource}"
    item = collection + "/{name}"
    verbs = set(resource_type.verbs)

    def operation(action: str, verb: str, **kwargs: Any) -> dict[str, Any]:
        return _operation(resource_type, action, verb, v3=v3, ref_prefix=ref_prefix, **kwargs)

    paths: dict[str, Any] = {}
    collection_ops: dict[str, Any] = {}
    if "list" in verbs:
        collection_ops["get"] = operation("list", "list", parameters=_LIST_PARAMETERS)
    if "create" in verbs:
        collection_ops["post"] = operation(
            "create", "post", parameters=_WRITE_PARAMETERS, body_types=["application/json"]
        )
    if "deletecollection" in verbs:
        collection_ops["delete"] = operation("deleteCollectionOf", "deletecollection")
    if collection_ops:
        paths[collection] = collection_ops
    item_ops: dict[str, Any] = {}
    if "get" in verbs:
        item_ops["get"] = operation("read", "get")
    if "update" in verbs:
        item_ops["put"] = operation(
            "replace", "put", parameters=_WRITE_PARAMETERS, body_types=["application/json"]
        )
    if "patch" in verbs:
        item_ops["patch"] = operation(
            "patch",
            "patch",
            parameters=(*_WRITE_PARAMETERS, "force"),
            body_types=PATCH_CONTENT_TYPES,
        )
    if "delete" in verbs:
        item_ops["delete"] = operation("delete", "delete", parameters=("dryRun",))
    if item_ops:
        item_ops["parameters"] = [_path_parameter("name", v3)]
        if resource_type.namespaced:
            item_ops["parameters"].append(_path_parameter("namespace", v3))
        paths[item] = item_ops
    for subresource in resource_type.subresources:
        paths[f"{item}/{subresource}"] = {
            "get": operation("read", "get", subresource=subresource),
            "put": operation(
                "replace",
                "put",
                parameters=_WRITE_PARAMETERS,
                body_types=["application/json"],
                subresource=subresource,
            ),
            "patch": operation(
                "patch",
                "patch",
                parameters=(*_WRITE_PARAMETERS, "force"),
                body_types=PATCH_CONTENT_TYPES,
                subresource=subresource,
            ),
        }
    return paths


def _info() -> dict[str, str]:
    return {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]}


def v3_document(types: Iterable[ResourceType]) -> dict[str, Any]:
    """The OpenAPI v3 document of one group-version's types."""
    chosen = list(types)
    paths: dict[str, Any] = {}
    for resource_type in chosen:
        paths.update(_paths(resource_type, v3=True, ref_prefix=V3_REF_PREFIX))
    schemas = {
        name: _convert(schema, V3_REF_PREFIX)
        for name, schema in sorted(_source_schemas(chosen).items())
    }
    return {
        "openapi": "3.0.0",
        "info": _info(),
        "paths": paths,
        "components": {"schemas": schemas},
    }


def v3_index(
    group_versions: Iterable[tuple[str, str]], prefix: str, hashes: Mapping[str, str]
) -> dict[str, Any]:
    """``/openapi/v3``: where each group-version's document is, relative to the server root."""
    paths = {}
    for group, version in group_versions:
        key = group_version_path(group, version)
        url = f"{prefix}/openapi/v3/{key}"
        digest = hashes.get(key)
        paths[key] = {"serverRelativeURL": f"{url}?hash={digest}" if digest else url}
    return {"paths": paths}


def v2_document(types: Iterable[ResourceType]) -> dict[str, Any]:
    """The OpenAPI v2 (swagger) document of every type, JSON only."""
    chosen = list(types)
    paths: dict[str, Any] = {}
    for resource_type in chosen:
        paths.update(_paths(resource_type, v3=False, ref_prefix=V2_REF_PREFIX))
    return {
        "swagger": "2.0",
        "info": _info(),
        "paths": paths,
        "definitions": {
            name: _convert(schema, V2_REF_PREFIX)
            for name, schema in sorted(_source_schemas(chosen).items())
        },
    }


def digest(body: bytes) -> str:
    """The ``hash`` a v3 index gives a document, as Kubernetes does (an upper-case SHA-512)."""
    return hashlib.sha512(body).hexdigest().upper()


class OpenAPIDocuments:
    """The documents a cluster sees, encoded once per registry generation and cached."""

    def __init__(self, registry: ResourceRegistry) -> None:
        self.registry = registry
        self._cache: dict[tuple[str | None, str, str, str], tuple[int, bytes]] = {}

    def document(self, path: OpenAPIPath, accept: str) -> tuple[bytes, str]:
        """The body for ``path`` and its content type: JSON, or protobuf for v2 when asked."""
        media_type = _negotiate(accept) if path.version == "v2" else JSON
        view = self.registry.view(path.cluster)
        if path.version == "v3" and not path.group_version:
            view = path.cluster  # the index's URLs carry the cluster's own path
        key = (view, path.version, path.group_version, media_type)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == self.registry.generation:
            return cached[1], _content_type(media_type)
        built = self._build(path)
        body = protobuf_document(built) if media_type == PROTOBUF else orjson.dumps(built)
        self._cache[key] = (self.registry.generation, body)
        return body, _content_type(media_type)

    def _types(self, cluster: str | None) -> list[ResourceType]:
        found = []
        for group, versions in [("", ["v1"]), *self.registry.groups(cluster).items()]:
            for version in versions:
                found.extend(self.registry.in_group_version(group, version, cluster))
        return found

    def _build(self, path: OpenAPIPath) -> dict[str, Any]:
        cluster = path.cluster if path.cluster != WILDCARD else None
        if path.version == "v2":
            return v2_document(self._types(cluster))
        if not path.group_version:
            group_versions = [("", "v1")] + [
                (group, version)
                for group, versions in sorted(self.registry.groups(cluster).items())
                for version in versions
            ]
            prefix = f"/clusters/{path.cluster}" if path.cluster is not None else ""
            hashes = {}
            for group, version in group_versions:
                gv_path = OpenAPIPath(path.cluster, "v3", group_version_path(group, version))
                hashes[gv_path.group_version] = digest(self.document(gv_path, JSON)[0])
            return v3_index(group_versions, prefix, hashes)
        parts = path.group_version.split("/")
        group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
        return v3_document(self.registry.in_group_version(group, version, cluster))


def _content_type(media_type: str) -> str:
    return PROTOBUF_RESPONSE_TYPE if media_type == PROTOBUF else media_type


def _negotiate(accept: str) -> str:
    """The first of JSON and gnostic protobuf the Accept header names; 406 when neither."""
    if not accept.strip():
        return JSON
    for part in accept.split(","):
        media_type = part.split(";")[0].strip().lower()
        if media_type == PROTOBUF:
            return PROTOBUF
        if media_type in ("application/json", "application/*", "*/*"):
            return JSON
    raise APIError(406, f"/openapi/v2 is served as {JSON} or {PROTOBUF}, not {accept!r}")
